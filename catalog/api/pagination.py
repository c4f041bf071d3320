"""Pages of products: DRF's page numbers, a page size the caller may choose within a limit, and
the schema saying what is accepted."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

MAX_PAGE_SIZE = 100


class PageNumbers(PageNumberPagination):
    """``?page=`` (empty) is the first page, as DRF reads it. ``?page_size=`` outside 1 to
    ``MAX_PAGE_SIZE`` is a 400 that says the range: DRF would silently use its default or
    its maximum, and a client asking for 500 would not learn why it got 100."""

    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request: Request) -> int:
        asked = request.query_params.get(self.page_size_query_param, "")
        if asked == "":
            return self.page_size
        # isascii: "²" and "①" are digits to str.isdigit, not to int()
        if not (asked.isascii() and asked.isdigit() and 1 <= int(asked) <= self.max_page_size):
            message = gettext("Ask for 1 to %(most)s products a page; '%(asked)s' is not.")
            detail = message % {"most": self.max_page_size, "asked": asked}
            raise ValidationError({self.page_size_query_param: [detail]})
        return int(asked)

    def get_paginated_response_schema(self, schema: dict) -> dict:
        """DRF's, with ``next``/``previous`` nullable in OpenAPI 3.1's words (a type list):
        its ``nullable: true`` is 3.0's, which 3.1 validators ignore, refusing the last page."""
        paginated = super().get_paginated_response_schema(schema)
        for link in ("next", "previous"):
            field = paginated["properties"][link]
            if field.pop("nullable", False):
                field["type"] = [field["type"], "null"]
        return paginated

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["allowEmptyValue"] = True
            if parameter["name"] == self.page_size_query_param:
                parameter["allowEmptyValue"] = True
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
                parameter["description"] = (
                    f"Products a page: {self.page_size} unless asked, at most {self.max_page_size}."
                )
        return parameters
