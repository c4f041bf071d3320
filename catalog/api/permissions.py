"""Who may do what through the API: anyone reads, only staff write."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsStaffOrReadOnly(BasePermission):
    """Reads for everyone (the views narrow what non-staff see); writes for staff only.

    Anonymous writers get 401 (they may sign in), signed-in non-staff get 403 (they may not).
    """

    message = _(
        "Only staff accounts can change the catalog; sign in with a staff account or token."
    )

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        return bool(user and user.is_authenticated and user.is_staff)


def is_staff(request: Request) -> bool:
    """Staff see unpublished and unfiled products; everyone else sees what the shop shows."""
    user = request.user
    return bool(user and user.is_authenticated and user.is_staff)
