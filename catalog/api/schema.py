"""The OpenAPI schema's view of access: what the permissions really allow, said in the schema."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

from catalog.api.permissions import IsStaffOrReadOnly
from catalog.api.serializers import STAFF_ONLY_FIELDS, StaffOnlyFieldsMixin

STAFF_ONLY_NOTE = "Staff only: absent from the answers to other callers."


class PerchaAutoSchema(AutoSchema):
    """Reads under IsStaffOrReadOnly need no authentication: say so (an empty requirement), as
    drf-spectacular does for DRF's IsAuthenticatedOrReadOnly, so clients and fuzzers know."""

    def get_auth(self) -> list[dict]:
        auths = super().get_auth()
        permissions = [p.__class__ for p in self.view.get_permissions()]
        if IsStaffOrReadOnly in permissions and self.method in SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths

    def _map_basic_serializer(self, serializer, direction) -> dict:
        """Fields only staff get (``StaffOnlyFieldsMixin``) are optional, and say so: a client
        validating answers against the schema must not expect them from an anonymous read."""
        schema = super()._map_basic_serializer(serializer, direction)
        if not isinstance(serializer, StaffOnlyFieldsMixin):
            return schema
        for name in STAFF_ONLY_FIELDS:
            if (field := schema["properties"].get(name)) is not None:
                field["description"] = f"{field.get('description', '')} {STAFF_ONLY_NOTE}".strip()
        required = [name for name in schema.get("required", []) if name not in STAFF_ONLY_FIELDS]
        if required:
            schema["required"] = required
        else:
            schema.pop("required", None)
        return schema
