import sys

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader

from prime_now.kernel.api.errors import json_not_found, json_server_error
from prime_now.kernel.outage import is_outage, outage_response


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_not_found(request, exception)
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # Django calls this handler while it handles the exception: an outage met by a middleware
    # (the session, the user) is a 503 with Retry-After, as it is in a view.
    if is_outage(sys.exc_info()[1]):
        return outage_response(request)
    if request.path.startswith("/api/"):
        return json_server_error(request)
    # No request context: whatever broke the page must not break the error page too.
    return HttpResponseServerError(loader.get_template("500.html").render())
