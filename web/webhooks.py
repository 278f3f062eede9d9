"""Inbound webhooks. Clerk delivers user lifecycle events through Svix."""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import JSONResponse
from svix.webhooks import Webhook, WebhookVerificationError

from core.errors import DomainError
from services.users import apply_clerk_event

logger = logging.getLogger("shopgraph.webhooks")
MAX_WEBHOOK_BYTES = 1024 * 1024


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def clerk(request: Request) -> JSONResponse:
    """`POST /webhooks/clerk`: verify the Svix signature and timestamp, then apply once."""
    secret = request.app.state.settings.clerk_webhook_secret
    if not secret:
        return _error(503, "Clerk webhooks are not configured (CLERK_WEBHOOK_SECRET)")
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        return _error(413, "Payload too large")
    headers = {
        k: request.headers.get(k, "") for k in ("svix-id", "svix-timestamp", "svix-signature")
    }
    try:
        Webhook(secret).verify(body, headers)
    except (WebhookVerificationError, ValueError) as exc:
        logger.warning("rejected a Clerk webhook: %s", exc)
        return _error(400, "Invalid webhook signature or timestamp")
    try:
        event = json.loads(body)
    except ValueError:
        return _error(400, "Webhook payload is not JSON")
    if not isinstance(event, dict):
        return _error(400, "Webhook payload must be a JSON object")
    try:
        applied = await apply_clerk_event(headers["svix-id"], event)
    except DomainError as exc:
        return _error(400, exc.message)
    return JSONResponse({"status": "applied" if applied else "duplicate"})
