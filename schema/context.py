"""The typed request context handed to every resolver as `info.context`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.types import Info as StrawberryInfo

from core.settings import Settings
from schema.loaders import Loaders
from services.auth import ANONYMOUS, Viewer
from services.recommendations.rewards import RewardTable
from services.recommendations.runtime import RecommenderRuntime


@dataclass
class Context:
    request: Request | WebSocket
    response: Response | WebSocket | None
    settings: Settings
    request_id: str
    rewards: RewardTable
    # The process's recommender, built and started in app.py.
    recommender: RecommenderRuntime
    viewer: Viewer = ANONYMOUS
    loaders: Loaders = field(default_factory=Loaders)
    # Set by Strawberry from the websocket `connection_init` payload.
    connection_params: dict[str, Any] | None = None
    # A websocket whose handshake carried a bad token is refused once `connection_init` arrives.
    auth_error: str | None = None


Info = StrawberryInfo[Context, None]
