"""The OpenAPI schema's view of access: what the permissions really allow, said in the schema."""

from __future__ import annotations

from drf_spectacular.openapi import AutoSchema
from rest_framework.permissions import SAFE_METHODS

from catalog.api.permissions import IsStaffOrReadOnly


class PerchaAutoSchema(AutoSchema):
    """Reads under IsStaffOrReadOnly need no authentication: say so (an empty requirement), as
    drf-spectacular does for DRF's IsAuthenticatedOrReadOnly, so clients and fuzzers know."""

    def get_auth(self) -> list[dict]:
        auths = super().get_auth()
        permissions = [p.__class__ for p in self.view.get_permissions()]
        if IsStaffOrReadOnly in permissions and self.method in SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths
