"""The GraphQL schema: types, root fields and the extensions that guard them."""

from __future__ import annotations

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ValidationCache
from strawberry.schema.config import StrawberryConfig

from core.settings import Settings
from schema.errors import ErrorPolicy, SafeParserCache
from schema.fast_fields import speed_up_basic_fields
from schema.mutation import Mutation
from schema.query import Query
from schema.subscription import Subscription


class ShopSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        # Strawberry logs every error with a traceback. Expected errors (bad input, missing
        # rows) are not server problems; unexpected ones are logged by `ErrorPolicy`.
        return None


def build_schema(settings: Settings | None = None) -> strawberry.Schema:
    expose_details = settings.is_dev if settings is not None else True
    schema = ShopSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[
            lambda: SafeParserCache(maxsize=1024),
            lambda: ValidationCache(maxsize=1024),
            lambda: ErrorPolicy(expose_details=expose_details),
        ],
        config=StrawberryConfig(relay_max_results=100),
    )
    speed_up_basic_fields(schema)
    return schema
