"""The reference client's committed persisted-documents manifest is the API's contract too.

The client sends only hashes, so each of its documents must prepare (parse, limits,
validation) against the current schema, in dev and in prod (where the introspection rule
applies). A schema change that breaks the client fails here, without Node.
"""

from __future__ import annotations

import json

import pytest

from core.settings import REFERENCE_CLIENT_MANIFEST, Settings
from schema import build_schema
from services.documents import document_hash, read_manifest
from web.persisted_documents import load_manifest_file


def test_the_manifest_is_codegens_format_and_every_id_is_its_documents_hash():
    raw = json.loads(REFERENCE_CLIENT_MANIFEST.read_text())
    assert raw and all(key == f"sha256:{document_hash(text)}" for key, text in raw.items())
    assert len(read_manifest(REFERENCE_CLIENT_MANIFEST.read_text())) == len(raw)


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_every_client_document_fits_the_schema(env):
    settings = Settings(env=env, clerk_jwt_key="unused")
    registry = build_schema(settings).documents
    assert load_manifest_file(registry, REFERENCE_CLIENT_MANIFEST) == len(
        json.loads(REFERENCE_CLIENT_MANIFEST.read_text())
    )
    operations = {
        op.name: op.type.value for d in registry.trusted_documents() for op in d.operations
    }
    assert operations["Catalog"] == "query"
    assert operations["Checkout"] == "mutation"
    assert operations["RecommendationsUpdated"] == "subscription"


def test_the_api_trusts_the_reference_client_by_default():
    assert Settings().manifest_files == [REFERENCE_CLIENT_MANIFEST]
    assert Settings(persisted_documents_files="").manifest_files == []
