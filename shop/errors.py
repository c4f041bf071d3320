"""Error responses: JSON under /api/, where clients parse the body, in the API's shape
(``{"detail": …}``) and the caller's language; the store's own pages elsewhere."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext
from django.views.defaults import bad_request as store_bad_request
from django.views.defaults import page_not_found
from django.views.defaults import server_error as store_server_error

API_PREFIX = "/api/"


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 handler. An API client that mistypes a path gets where to look."""
    if _is_api(request):
        message = gettext(
            "There is nothing at %(path)s; the API's endpoints are listed at %(docs)s."
        )
        return JsonResponse(
            {"detail": message % {"path": request.path, "docs": f"{API_PREFIX}docs/"}},
            status=404,
        )
    return page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler: a request Django refused before any view saw it, most likely
    more files in one form than it takes (``DATA_UPLOAD_MAX_NUMBER_FILES``)."""
    if _is_api(request):
        message = gettext(
            "The request could not be read: too many files, too many or too large form fields, "
            "or a malformed body. Send at most %(count)d files at a time."
        )
        return JsonResponse(
            {"detail": message % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}}, status=400
        )
    return store_bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler. Nothing of the error is shown, in either shape."""
    if _is_api(request):
        message = gettext("Something went wrong on the server; try again in a few minutes.")
        return JsonResponse({"detail": message}, status=500)
    return store_server_error(request)
