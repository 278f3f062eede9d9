"""Manifests, document ids and the stored trusted documents; `shop documents add`."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from models import PersistedDocument
from services import documents
from services.documents import ManifestError, parse_document_id, read_manifest

ROOT = Path(__file__).resolve().parents[2]
ME = "query Me { me { id } }"
FACETS = "query Facets { facets { totalCount } }"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_the_three_manifest_formats_read_to_the_same_documents():
    codegen = {f"sha256:{sha(ME)}": ME, f"sha256:{sha(FACETS)}": FACETS}
    bare = {sha(ME): ME, sha(FACETS): FACETS}
    apollo = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha(ME), "name": "Me", "type": "query", "body": ME},
            {"id": sha(FACETS), "name": "Facets", "type": "query", "body": FACETS},
        ],
    }
    expected = {sha(ME): ME, sha(FACETS): FACETS}
    for manifest in (codegen, bare, apollo):
        assert read_manifest(json.dumps(manifest)) == expected


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("not json", "not JSON"),
        ("[]", "a JSON object"),
        ("{}", "no documents"),
        (json.dumps({f"sha256:{sha(ME)}": FACETS}), "not the SHA-256 of its document"),
        (json.dumps({"md5:abc": ME}), "64 hex digits"),
        (json.dumps({sha(ME): 42}), "non-empty string"),
        (json.dumps({"format": "apollo-persisted-query-manifest", "version": 2}), "version 1"),
    ],
)
def test_bad_manifests_are_refused_with_the_reason(text, problem):
    with pytest.raises(ManifestError, match=problem):
        read_manifest(text)


def test_document_ids():
    digest = sha(ME)
    assert parse_document_id(f"sha256:{digest}") == digest
    assert parse_document_id(digest.upper()) == digest
    for bad in (f"sha1:{digest}", digest[:-1], None, 42, f"sha256:{digest}0"):
        assert parse_document_id(bad) is None


async def test_adding_documents_is_idempotent_and_tells_every_process(db, published):
    first = await documents.add_documents({sha(ME): ME}, source="web.json")
    second = await documents.add_documents({sha(ME): ME, sha(FACETS): FACETS}, source="x.json")
    assert (first.added, first.already_there) == (1, 0)
    assert (second.added, second.already_there) == (1, 1)
    rows = await documents.documents_after(0)
    assert [(r.hash, r.source) for r in rows] == [(sha(ME), "web.json"), (sha(FACETS), "x.json")]
    assert await documents.documents_after(rows[0].id) == rows[1:]
    assert published == [("documents:all", {}), ("documents:all", {})]
    nothing_new = await documents.add_documents({sha(ME): ME}, source="again")
    assert nothing_new.added == 0 and len(published) == 2  # no event for nothing


def _shop(*args: str, data_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATA_DIR": str(data_dir), "ENV": "dev", "DATABASE_URL": ""}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "documents", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_shop_documents_add_checks_against_the_schema_and_stores_all_or_nothing(tmp_path):
    broken = "query Broken { me { nickname } }"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({f"sha256:{sha(ME)}": ME, f"sha256:{sha(broken)}": broken}))
    refused = _shop("add", str(bad), data_dir=tmp_path)
    assert refused.returncode == 1
    assert f"sha256:{sha(broken)} does not fit the schema" in refused.stderr
    assert "nickname" in refused.stderr
    assert "nothing stored" in refused.stderr

    good = tmp_path / "good.json"
    good.write_text(json.dumps({f"sha256:{sha(ME)}": ME}))
    added = _shop("add", str(good), data_dir=tmp_path)
    assert added.returncode == 0, added.stderr
    assert "1 documents added, 0 already registered" in added.stdout
    listed = _shop("list", data_dir=tmp_path)
    assert listed.stdout.split() == [f"sha256:{sha(ME)}", "good.json", "query", "Me"]


async def test_the_table_is_migrated(db):
    assert await PersistedDocument.all().count() == 0
