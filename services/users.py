"""User accounts: just-in-time provisioning from tokens, profile updates, Clerk sync."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.errors import InvalidInput
from core.json_values import json_object, text_problem
from core.pagination import Cursor, Page, PageRequest
from core.settings import Settings
from models import (
    ARSession,
    CartItem,
    ChatSession,
    ProcessedWebhook,
    User,
    UserInteraction,
)
from services.auth import Viewer
from services.tokens import InvalidToken, VerifiedClaims, claim_at

MAX_NAME_LENGTH = 200
MAX_URL_LENGTH = 2048
MAX_PREFERENCES_BYTES = 16 * 1024
MAX_PREFERENCES_DEPTH = 5


_account_listeners: list[Callable[[int], None]] = []


def on_account_changed(listener: Callable[[int], None]) -> None:
    """Call `listener(user_id)` whenever this process changes an account (caches drop it)."""
    _account_listeners.append(listener)


def _account_changed(user_id: int) -> None:
    for listener in _account_listeners:
        listener(user_id)


def is_admin_claim(claims: dict[str, Any], settings: Settings) -> bool:
    return (
        claim_at(claims, settings.admin_claim) == settings.admin_claim_value
        or claims.get("sub") in settings.admin_user_ids
    )


async def viewer_for_claims(verified: VerifiedClaims, settings: Settings) -> Viewer:
    """The viewer behind a verified token, creating the User on first sight (just in time)."""
    claims = verified.claims
    is_admin = is_admin_claim(claims, settings)
    user = await User.get_or_none(clerk_id=verified.subject)
    if user is None:
        user = await _create_from_claims(verified.subject, claims, is_admin)
    if user.deleted_at is not None:
        raise InvalidToken("This account has been deleted")
    if user.is_admin != is_admin:
        # The token is the source of truth for the role; keep the stored copy in step.
        user.is_admin = is_admin
        await user.save(update_fields=["is_admin", "updated_at"])
    return Viewer(
        user=user,
        is_admin=is_admin,
        expires_at=datetime.fromtimestamp(verified.expires_at, tz=UTC),
    )


async def _create_from_claims(subject: str, claims: dict[str, Any], is_admin: bool) -> User:
    email = claims.get("email") if isinstance(claims.get("email"), str) else None
    name = claims.get("name") if isinstance(claims.get("name"), str) else ""
    try:
        async with in_transaction():
            if email and await User.filter(email=email).exists():
                email = None  # the address belongs to another account; Clerk sync settles it
            return await User.create(
                clerk_id=subject, email=email, name=name[:MAX_NAME_LENGTH], is_admin=is_admin
            )
    except IntegrityError:
        # Two first requests raced; the other one created the row.
        return await User.get(clerk_id=subject)


@dataclass(frozen=True, slots=True)
class ProfileChanges:
    name: str | None = None
    avatar_url: str | None = None
    preferences: dict[str, Any] | None = None


def validate_profile(
    *, name: Any = None, avatar_url: Any = None, preferences: Any = None
) -> ProfileChanges:
    if name is not None:
        name = str(name).strip()
        if not name or len(name) > MAX_NAME_LENGTH:
            raise InvalidInput(f"Name must be 1 to {MAX_NAME_LENGTH} characters", field="name")
        if problem := text_problem(name):
            raise InvalidInput(problem, field="name")
    if avatar_url is not None:
        parsed = urlparse(str(avatar_url))
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput("Avatar must be an http(s) URL", field="avatar")
        if len(str(avatar_url)) > MAX_URL_LENGTH:
            raise InvalidInput("Avatar URL is too long", field="avatar")
    if preferences is not None:
        preferences = json_object(
            preferences,
            field="preferences",
            max_bytes=MAX_PREFERENCES_BYTES,
            max_depth=MAX_PREFERENCES_DEPTH,
        )
    return ProfileChanges(name=name, avatar_url=avatar_url, preferences=preferences)


async def update_profile(user: User, changes: ProfileChanges) -> User:
    fields = []
    if changes.name is not None:
        user.name, fields = changes.name, [*fields, "name"]
    if changes.avatar_url is not None:
        user.avatar_url, fields = changes.avatar_url, [*fields, "avatar_url"]
    if changes.preferences is not None:
        user.preferences, fields = changes.preferences, [*fields, "preferences"]
    if fields:
        await user.save(update_fields=[*fields, "updated_at"])
        _account_changed(user.id)
    return user


# --- Clerk webhooks ----------------------------------------------------------------------


async def apply_clerk_event(message_id: str, event: dict[str, Any]) -> bool:
    """Apply a verified Clerk event once. Returns False when `message_id` was seen before."""
    event_type = str(event.get("type", ""))
    data = event.get("data") or {}
    async with in_transaction():
        try:
            await ProcessedWebhook.create(message_id=message_id, event_type=event_type[:100])
        except IntegrityError:
            return False
        if event_type in ("user.created", "user.updated"):
            await _upsert_from_clerk(data)
        elif event_type == "user.deleted":
            await _erase(str(data.get("id", "")))
    return True


def _primary_email(data: dict[str, Any]) -> str | None:
    primary = data.get("primary_email_address_id")
    for entry in data.get("email_addresses") or []:
        if entry.get("id") == primary:
            return entry.get("email_address")
    return None


async def _upsert_from_clerk(data: dict[str, Any]) -> None:
    clerk_id = str(data.get("id") or "")
    if not clerk_id:
        raise InvalidInput("Clerk user event without an id", field="data.id")
    name = " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
    email = _primary_email(data)
    values = {
        "name": (name or data.get("username") or "")[:MAX_NAME_LENGTH],
        "avatar_url": (data.get("image_url") or None),
    }
    if email and not await User.filter(email=email).exclude(clerk_id=clerk_id).exists():
        values["email"] = email
    user = await User.get_or_none(clerk_id=clerk_id)
    if user is None:
        await User.create(clerk_id=clerk_id, **values)
    elif user.deleted_at is None:
        await User.filter(id=user.id).update(**values)
        _account_changed(user.id)


async def _erase(clerk_id: str) -> None:
    """Remove personal data; orders stay (with their prices) for the books."""
    user = await User.get_or_none(clerk_id=clerk_id)
    if user is None:
        # Deleted before we ever saw it: remember the id so its tokens stay refused.
        await User.create(clerk_id=clerk_id, deleted_at=datetime.now(UTC))
        return
    await CartItem.filter(user_id=user.id).delete()
    await ChatSession.filter(user_id=user.id).delete()
    await ARSession.filter(user_id=user.id).delete()
    # Behaviour stays useful for learning once it no longer points at a person.
    await UserInteraction.filter(user_id=user.id).update(user_id=None)
    _account_changed(user.id)
    await User.filter(id=user.id).update(
        email=None,
        name="",
        avatar_url=None,
        preferences={},
        is_admin=False,
        deleted_at=datetime.now(UTC),
    )


async def list_users(page: PageRequest, *, search: str | None = None) -> Page[User]:
    """Accounts newest first (admin). `search` matches e-mail or name, case-insensitively."""
    query = User.filter(deleted_at__isnull=True)
    if search:
        search = search.strip()[:100]
        query = query.filter(Q(email__icontains=search) | Q(name__icontains=search))
    if page.after:
        cursor = Cursor.decode(page.after, kind="user", sort="id:desc", field="after")
        query = query.filter(id__lt=cursor.id)
    rows = await query.order_by("-id").limit(page.size + 1)
    items = rows[: page.size]
    return Page(
        items=items,
        cursors=[Cursor("user", "id:desc", None, u.id).encode() for u in items],
        has_next_page=len(rows) > page.size,
        has_previous_page=page.after is not None,
    )
