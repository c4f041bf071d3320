"""Pages of products: DRF's page numbers, with the schema saying what DRF accepts."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination


class PageNumbers(PageNumberPagination):
    """``?page=`` (empty) is the first page, as DRF reads it; the schema now says so too."""

    def get_schema_operation_parameters(self, view: Any) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["allowEmptyValue"] = True
        return parameters
