"""Who is asking: the viewer of a request and the rules about what they may do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from core.errors import Forbidden, Unauthenticated
from models import User


@dataclass(frozen=True, slots=True)
class Viewer:
    """The authenticated user (or nobody) behind a request or websocket connection."""

    user: User | None = None
    is_admin: bool = False
    # When the credential stops being valid; long-lived websockets end their streams then.
    expires_at: datetime | None = None

    @property
    def is_authenticated(self) -> bool:
        return self.user is not None

    @property
    def user_id(self) -> int | None:
        return None if self.user is None else self.user.id

    def require_user(self) -> User:
        if self.user is None:
            raise Unauthenticated()
        return self.user

    def require_admin(self) -> User:
        user = self.require_user()
        if not self.is_admin:
            raise Forbidden("Admin role required")
        return user

    def owns(self, user_id: int | None) -> bool:
        """True for the owner of a row, and for admins (who may see every row)."""
        return self.is_admin or (self.user is not None and self.user.id == user_id)


ANONYMOUS = Viewer()
