"""One middleware of the store's own: responses that are the same in every language say so."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import cc_delim_re


class LanguageFreeResponses:
    """Undo what LocaleMiddleware adds to a response the view marked ``language_free`` (a
    photo): ``Vary: Accept-Language`` made a CDN or a browser keep one copy of each photo per
    language header it saw, cached for a year, and ``Content-Language`` called a JPEG Spanish.
    It sits before (outside) LocaleMiddleware, so it sees the response after it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if getattr(response, "language_free", False):
            del response["Content-Language"]
            vary = [v for v in cc_delim_re.split(response.get("Vary", "")) if v]
            kept = [v for v in vary if v.lower() != "accept-language"]
            if kept:
                response["Vary"] = ", ".join(kept)
            else:
                del response["Vary"]
        return response
