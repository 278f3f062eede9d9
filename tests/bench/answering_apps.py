"""A server that answers every GraphQL POST with the JSON in its `ANSWER` environment
variable: two of them with different answers stand for two benchmarked servers that do not
serve the same data."""

import os

from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route


def fixed() -> Starlette:
    answer = os.environ["ANSWER"].encode()

    async def graphql(_request) -> Response:
        return Response(answer, media_type="application/json")

    async def health(_request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[Route("/graphql", graphql, methods=["POST"]), Route("/healthz", health)]
    )
