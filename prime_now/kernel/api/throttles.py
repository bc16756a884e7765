"""Request rates per endpoint family: DRF's throttle on the shared cache.

Each API view belongs to a family (`throttle_scope`: auth, reads, checkout, courier-pings;
any other view is in `api`) with its own limit (settings.API_THROTTLE_RATES, e.g. "30/min").
A caller is counted per family: by partner API key when the request carries one, else by
signed-in user, else by client address. Over the limit the answer is 429 `throttled` with
`Retry-After` (the exception handler, prime_now/kernel/api/errors.py).

The counts live in the shared cache, so every process sees them. With Redis down the cache
degrades (prime_now/kernel/cache.py): a read is a miss, so nobody is throttled, and no
request fails because of the throttle.
"""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from prime_now.kernel.cache import OUTAGE_ERRORS
from prime_now.kernel.models import PartnerKey

logger = logging.getLogger(__name__)

DEFAULT_FAMILY = "api"


class FamilyThrottle(SimpleRateThrottle):
    cache_format = "throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:
        # The rate is read per request (in allow_request), not once per process.
        pass

    def allow_request(self, request: Request, view: Any) -> bool:
        return self.allow(request, getattr(view, "throttle_scope", None) or DEFAULT_FAMILY, view)

    def allow(self, request: Request, family: str, view: Any = None) -> bool:
        """Whether this caller may make one more request of the family now (it is counted)."""
        if not settings.API_THROTTLE_ENABLED:
            return True
        self.scope: str = family
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except OUTAGE_ERRORS:  # a cache that is not fail-safe (tests, development), down
            logger.warning("throttle: cache unavailable, request let through", exc_info=True)
            return True

    def get_rate(self) -> str:
        try:
            rate: str = settings.API_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No API_THROTTLE_RATES entry for {self.scope!r}") from None
        return rate

    def get_cache_key(self, request: Request, view: Any) -> str:
        key = getattr(request, "auth", None)  # a server-rendered form's request has none
        if isinstance(key, PartnerKey):
            ident = f"key:{key.prefix}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


def form_post_wait(request: HttpRequest, family: str) -> float | None:
    """None when this caller may post the form now (the post is counted), else the seconds to
    wait: the family's limit (API_THROTTLE_RATES), counted as the API counts (per user when
    signed in, else per client address)."""
    throttle = FamilyThrottle()
    # Django's own request: the throttle reads only what both kinds have (META, user), and
    # `auth` where there is one.
    if throttle.allow(request, family):  # type: ignore[arg-type]
        return None
    return throttle.wait() or 1.0
