"""The committed `schema.graphql` is the API contract; it must match the code."""

from pathlib import Path

from cli.main import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_committed_schema_is_up_to_date():
    assert SCHEMA_FILE.read_text() == schema_sdl(), (
        "schema.graphql is stale: run `make schema` (shop export-schema) and commit it"
    )
