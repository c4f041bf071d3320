"""Not found: JSON under /api/, where clients parse the body; the store's own page elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views.defaults import page_not_found

API_PREFIX = "/api/"


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler. An API client that mistypes a path gets the API's error shape,
    ``{"detail": …}``, in its language, and where to look, rather than the shop's HTML page."""
    if request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/"):
        message = gettext(
            "There is nothing at %(path)s; the API's endpoints are listed at %(docs)s."
        )
        return JsonResponse(
            {"detail": message % {"path": request.path, "docs": f"{API_PREFIX}docs/"}},
            status=404,
        )
    return page_not_found(request, exception)
