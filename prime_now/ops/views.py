"""The ops dashboard: staff only, server-rendered, refreshing itself every 30 s."""

import base64

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from .figures import gather

REFRESH_SECONDS = 30


@never_cache
@login_required(login_url="admin:login")
def dashboard(request: HttpRequest) -> HttpResponse:
    if not request.user.is_staff:
        raise PermissionDenied("The ops dashboard is for operators.")
    from . import charts  # matplotlib loads on first use, not with the URL configuration

    figures = gather()
    chart = base64.b64encode(charts.drops_by_hour(figures.hours, fmt="svg")).decode()
    return render(
        request,
        "ops/dashboard.html",
        {
            "f": figures,
            "pct_1h": f"{figures.drop_1h.rate:.1%}",
            "pct_24h": f"{figures.drop_24h.rate:.1%}",
            "chart": chart,
            "refresh": REFRESH_SECONDS,
        },
    )
