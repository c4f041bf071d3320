"""The API's error shape: ``{"detail": "<a sentence in the caller's language>", "code": "<a
stable identifier>"}`` for every error that is not about the fields of a body (those stay DRF's
``{"field": ["…"]}``). A client tells errors apart by ``code``, never by parsing ``detail``: the
three reasons accept-suggestion answers 409 were only three sentences, in Spanish or English."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class ErrorSerializer(serializers.Serializer):
    """For the schema: what every non-field error answers."""

    detail = serializers.CharField(help_text="What went wrong, in the caller's language.")
    code = serializers.CharField(
        help_text="A stable identifier of the error: not_found, not_authenticated, "
        "permission_denied, throttled, duplicate_photo, not_classified, photo_unreadable, "
        "no_category, classifier_unavailable, …"
    )


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus ``code`` beside a lone ``detail``."""
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(response.data, dict) or set(response.data) != {"detail"}:
        return response
    response.data["code"] = _code(exc)
    return response


def _code(exc: Exception) -> str:
    if isinstance(exc, Http404):
        return "not_found"
    if isinstance(exc, PermissionDenied):
        return "permission_denied"
    if isinstance(exc, APIException):
        codes = exc.get_codes()
        if isinstance(codes, str):
            return codes
    return "error"
