"""Rate limits: running the model costs CPU, so anonymous callers of /api/classify/ are limited."""

from __future__ import annotations

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import Throttled
from rest_framework.throttling import AnonRateThrottle


class ClassifyAnonThrottle(AnonRateThrottle):
    """Anonymous callers only (signed-in users, staff included, are not limited), per IP.

    The rate is read from settings on every request, not frozen at import as DRF's
    ``THROTTLE_RATES`` is, so ``CLASSIFY_ANON_RATE`` and test overrides take effect.
    """

    scope = "classify_anon"

    def get_rate(self) -> str | None:
        return settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][self.scope]


class ClassifyThrottled(Throttled):
    # Anonymous callers have no way to sign in from the API: say what an account changes,
    # not "sign in" (the store gives accounts and tokens; there is no sign-up)
    default_detail = _("Too many photos classified from this address.")
    extra_detail_singular = _(
        "Try again in {wait} second (callers with an account of the store are not limited)."
    )
    extra_detail_plural = _(
        "Try again in {wait} seconds (callers with an account of the store are not limited)."
    )
