"""Request body size limit: 413 with a JSON error (code PAYLOAD_TOO_LARGE) past the limit.

A declared `Content-Length` over the limit is refused before anything is read; a chunked
body is counted as it streams and refused as soon as it goes over.
"""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import ErrorCode
from core.metrics import count_error


class _TooLarge(Exception):
    pass


def _error(status: int, message: str, code: ErrorCode) -> JSONResponse:
    count_error(code)
    body = {"errors": [{"message": message, "extensions": {"code": code.value}}]}
    return JSONResponse(body, status, headers={"connection": "close"})


class BodySizeLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        too_large = f"Request body too large: at most {self.max_bytes} bytes"
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await _error(400, "Invalid Content-Length", ErrorCode.BAD_REQUEST)(
                    scope, receive, send
                )
                return
            if length > self.max_bytes:
                await _error(413, too_large, ErrorCode.PAYLOAD_TOO_LARGE)(scope, receive, send)
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if started:  # pragma: no cover - apps here read the body before responding
                raise
            await _error(413, too_large, ErrorCode.PAYLOAD_TOO_LARGE)(scope, receive, send)
