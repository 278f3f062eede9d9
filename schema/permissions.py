"""Field permissions: who may call a root field at all. Row ownership is checked in services."""

from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission

from schema.context import Info


class IsAuthenticated(BasePermission):
    message = "Sign in required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        # Raising the domain error (rather than returning False) keeps the one error vocabulary.
        info.context.viewer.require_user()
        return True


class IsAdmin(BasePermission):
    message = "Admin role required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.viewer.require_admin()
        return True
