"""The whole schema can be introspected (what GraphiQL and codegen tools do first)."""

from graphql import get_introspection_query

from schema import build_schema


async def test_full_introspection_has_no_errors():
    result = await build_schema().execute(get_introspection_query(descriptions=True))
    assert result.errors is None, result.errors
    types = {t["name"] for t in result.data["__schema"]["types"]}
    assert {"Product", "Order", "RecommendationSlate", "CreateProductInput"} <= types
