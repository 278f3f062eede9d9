"""GRAPHQL_EXECUTOR picks the executor; the compiled one counts its fallbacks on /metrics."""

from __future__ import annotations

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from core.settings import Settings
from schema import build_schema
from schema.execution import compiler_of, warm_document
from tests.support.graphql import gql


def test_reference_keeps_strawberrys_executor():
    schema = build_schema(Settings(env="test", graphql_executor="reference"))
    assert schema.execution_context_class is StrawberryGraphQLCoreExecutionContext
    assert compiler_of(schema) is None
    assert warm_document(schema, "{ __typename }") is None


def test_compiled_is_the_default_and_subclasses_strawberrys_executor():
    schema = build_schema(Settings(env="test"))
    assert issubclass(schema.execution_context_class, StrawberryGraphQLCoreExecutionContext)
    assert schema.execution_context_class is not StrawberryGraphQLCoreExecutionContext
    digest = warm_document(schema, "query Probe { products(first: 1) { totalCount } }")
    assert compiler_of(schema).is_compiled(digest)


async def test_fallbacks_are_exported_on_metrics(client, db, app):
    compiler = app.state.graphql_view.schema.compiler
    before = compiler.fallbacks["document_too_large"]
    # Over 10,000 characters: neither cached nor compiled; graphql-core answers it.
    body = await gql(client, "{ __typename " + " " * 10_001 + "}")
    assert body["data"] == {"__typename": "Query"}
    assert compiler.fallbacks["document_too_large"] == before + 1
    metrics = (await client.get("/metrics")).text
    line = next(
        line
        for line in metrics.splitlines()
        if line.startswith(
            'shopgraph_graphql_executor_fallbacks_total{reason="document_too_large"}'
        )
    )
    assert float(line.split()[-1]) >= 1
