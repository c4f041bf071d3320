"""Error responses: JSON under /api/, where clients parse the body, in the API's shape
(``{"detail": …, "code": …}``, catalog/api/errors.py) and the caller's language; the store's own
pages elsewhere."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import (
    DisallowedHost,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.defaultfilters import filesizeformat
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
            {
                "detail": message % {"path": request.path, "docs": f"{API_PREFIX}docs/"},
                "code": "not_found",
            },
            status=404,
        )
    return page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400 handler: a request refused before any view saw it. Under /api/ the reason
    is said; the store's page covers the likeliest case in a form, too many photos at once."""
    if _is_api(request):
        body = {"detail": refusal_reason(exception), "code": "bad_request"}
        return JsonResponse(body, status=400)
    return store_bad_request(request, exception)


def refusal_reason(exception: Exception) -> str:
    """Why Django refused a request, in the caller's words; the limits are the settings'."""
    if isinstance(exception, TooManyFilesSent):
        message = gettext("Too many files in one request: send at most %(count)d at a time.")
        return message % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
    if isinstance(exception, TooManyFieldsSent):
        message = gettext("Too many form fields in one request: at most %(count)d.")
        return message % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
    if isinstance(exception, RequestDataTooBig):
        message = gettext(
            "The request's form fields are over %(size)s, the limit (files are not counted): "
            "send the photo as a file."
        )
        return message % {"size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)}
    if isinstance(exception, DisallowedHost):
        return gettext("This server does not answer to the host name the request was sent to.")
    return gettext("The request could not be read.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 handler. Nothing of the error is shown, in either shape."""
    if _is_api(request):
        message = gettext("Something went wrong on the server; try again in a few minutes.")
        return JsonResponse({"detail": message, "code": "server_error"}, status=500)
    return store_server_error(request)
