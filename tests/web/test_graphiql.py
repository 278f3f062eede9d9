"""GraphiQL at GET /graphql: served with its own assets (offline), a CDN switch, dev prefill."""

from __future__ import annotations

import base64
import hashlib
import json
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from graphql import OperationDefinitionNode, OperationType, parse, validate
from starlette.requests import Request

from schema import build_schema
from services.tokens import TokenVerifier
from tests.web.conftest import app_client
from web.graphiql import EXAMPLES_FILE, VENDOR_DIR, GraphiQLAssets, GraphiQLPage

ROOT = Path(__file__).resolve().parents[2]
HTML = {"accept": "text/html"}


class Page(HTMLParser):
    """The tags of the GraphiQL page that load something, and its JSON config."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []
        self.stylesheets: list[dict[str, str | None]] = []
        self.inline_scripts: list[str] = []
        self.config: dict | None = None
        self._in_config = False
        self._in_inline = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and values.get("src"):
            self.scripts.append(values)
        elif tag == "script" and values.get("type") == "application/json":
            self._in_config = True
        elif tag == "script":
            self._in_inline = True
        elif tag == "link" and values.get("rel") == "stylesheet":
            self.stylesheets.append(values)

    def handle_endtag(self, tag: str) -> None:
        self._in_config = self._in_inline = False

    def handle_data(self, data: str) -> None:
        if self._in_config:
            self.config = json.loads(data)
        elif self._in_inline and data.strip():
            self.inline_scripts.append(data)

    @property
    def assets(self) -> list[dict[str, str | None]]:
        return [*self.stylesheets, *self.scripts]

    def url(self, tag: dict[str, str | None]) -> str:
        return str(tag.get("src") or tag.get("href"))


def sri(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


async def get_page(client: httpx.AsyncClient) -> tuple[httpx.Response, Page]:
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    return response, Page(response.text)


async def test_the_page_loads_everything_from_the_app_itself(make_settings):
    async with app_client(make_settings()) as client:
        response, page = await get_page(client)
    # React, React DOM, GraphiQL and our start-up script, in that order; GraphiQL's CSS.
    names = [page.url(tag).rsplit("/", 3)[-3:] for tag in page.scripts]
    assert [n[0] for n in names[:3]] == ["react@18.3.1", "react-dom@18.3.1", "graphiql@4.1.2"]
    assert page.url(page.scripts[-1]).startswith("/graphiql/static/shopgraph/graphiql-init.")
    assert len(page.stylesheets) == 1
    for tag in page.assets:
        assert page.url(tag).startswith("/graphiql/static/"), tag
        assert str(tag["integrity"]).startswith("sha384-"), tag
    # Nothing refers to another host, and the policy would block it if something did.
    for host in ("unpkg.com", "jsdelivr", "cdnjs", "esm.sh", "http://", "https://"):
        assert host not in "".join(page.url(t) for t in page.assets)
    assert "unpkg" not in response.text and "jsdelivr" not in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy
    assert "connect-src 'self' ws://testserver wss://testserver;" in policy
    assert "https:" not in policy
    assert page.inline_scripts == []  # so `script-src 'self'` holds without 'unsafe-inline'


async def test_every_asset_is_served_with_its_type_integrity_and_long_cache(make_settings):
    async with app_client(make_settings()) as client:
        _, page = await get_page(client)
        for tag in page.assets:
            url = page.url(tag)
            plain = await client.get(url, headers={"accept-encoding": "identity"})
            assert plain.status_code == 200, url
            expected_type = "text/css" if url.endswith(".css") else "text/javascript"
            assert plain.headers["content-type"] == f"{expected_type}; charset=utf-8"
            assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert "content-encoding" not in plain.headers
            # The bytes are exactly those the page pins with subresource integrity.
            assert sri(plain.content) == tag["integrity"], url

            zipped = await client.get(url, headers={"accept-encoding": "gzip"})
            assert zipped.headers["content-encoding"] == "gzip"
            assert zipped.headers["vary"].startswith("Accept-Encoding")
            assert zipped.content == plain.content  # httpx decoded it
            assert int(zipped.headers["content-length"]) < len(plain.content)

            # Revalidation, per representation (the two encodings have different ETags).
            assert plain.headers["etag"] != zipped.headers["etag"]
            for response, encoding in ((plain, "identity"), (zipped, "gzip")):
                again = await client.get(
                    url,
                    headers={
                        "if-none-match": response.headers["etag"],
                        "accept-encoding": encoding,
                    },
                )
                assert again.status_code == 304 and again.content == b""


async def test_unknown_asset_paths_are_404(make_settings):
    async with app_client(make_settings()) as client:
        for path in (
            "/graphiql/static/graphiql@4.1.2/LICENSE",  # on disk, but not an asset
            "/graphiql/static/graphiql@9.9.9/dist/index.umd.js",
            "/graphiql/static/../../app.py",
            "/graphiql/static/manifest.json",
        ):
            response = await client.get(path)
            assert response.status_code == 404, path


def test_vendored_files_are_the_pinned_releases():
    """The committed assets match the manifest written by scripts/vendor_graphiql.py, and
    the manifest matches the pins in that script (re-run it after changing a pin)."""
    from scripts.vendor_graphiql import PACKAGES

    manifest = json.loads((VENDOR_DIR / "manifest.json").read_text())
    assert manifest["packages"] == {
        p.name: {"version": p.version, "tarball": p.integrity} for p in PACKAGES
    }
    listed = set()
    for entry in manifest["assets"]:
        path = VENDOR_DIR / f"{entry['package']}@{entry['version']}" / entry["path"]
        data = path.read_bytes()
        assert len(data) == entry["bytes"], path
        assert sri(data) == entry["integrity"], path
        listed.add(path)
    licenses = {VENDOR_DIR / f"{p.name}@{p.version}" / "LICENSE" for p in PACKAGES}
    on_disk = {p for p in VENDOR_DIR.rglob("*") if p.is_file()} - {VENDOR_DIR / "manifest.json"}
    assert on_disk == listed | licenses


async def test_the_cdn_setting_loads_the_same_pinned_files_from_jsdelivr(make_settings):
    async with app_client(make_settings(graphiql_assets="cdn")) as client:
        response, page = await get_page(client)
    assets = GraphiQLAssets()
    vendored = {a.integrity: a for a in assets.vendored}
    external = [tag for tag in page.assets if page.url(tag).startswith("https://")]
    assert len(external) == len(vendored) == 4
    for tag in external:
        asset = vendored[str(tag["integrity"])]  # same bytes as the local copy
        assert page.url(tag) == f"https://cdn.jsdelivr.net/npm/{asset.name}"
        assert tag["crossorigin"] == "anonymous"  # needed for SRI on another origin
    # Our own start-up script is never taken from a CDN.
    assert page.url(page.scripts[-1]).startswith("/graphiql/static/shopgraph/")
    assert (
        "script-src 'self' https://cdn.jsdelivr.net;"
        in (response.headers["content-security-policy"])
    )


async def test_dev_prefills_the_headers_tab_with_a_demo_shopper_token(make_settings):
    settings = make_settings(env="dev")
    async with app_client(settings) as client:
        response, page = await get_page(client)
    assert response.headers["cache-control"] == "no-store"
    assert page.config is not None
    headers = json.loads(page.config["defaultHeaders"])
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "Bearer"
    verified = await TokenVerifier.from_settings(settings).verify(token)
    assert verified.subject == "user_demo_shopper"
    assert "metadata" not in verified.claims  # not an admin


@pytest.mark.parametrize(
    ("env", "with_clerk"),
    [("prod", True), ("dev", True), ("test", False)],
    ids=["prod", "dev-with-clerk", "test-without-clerk"],
)
async def test_no_token_is_ever_prefilled_outside_dev_or_with_clerk(
    make_settings, clerk_public_pem, env, with_clerk
):
    settings = make_settings(
        env=env, clerk_jwt_key=clerk_public_pem if with_clerk else None, graphiql=True
    )
    async with app_client(settings) as client:
        response, page = await get_page(client)
    assert page.config is not None
    assert page.config["defaultHeaders"] is None
    assert "Bearer ey" not in response.text


@pytest.mark.parametrize(
    "overrides",
    [{"env": "prod"}, {"env": "dev", "graphiql": False}],
    ids=["prod-default", "switched-off"],
)
async def test_without_graphiql_neither_the_page_nor_its_assets_are_served(
    make_settings, clerk_public_pem, overrides
):
    settings = make_settings(clerk_jwt_key=clerk_public_pem, **overrides)
    async with app_client(settings) as client:
        page = await client.get("/graphql", headers=HTML)
        asset = await client.get("/graphiql/static/graphiql@4.1.2/dist/index.umd.js")
    assert page.status_code == 404
    assert "graphiql" not in page.text.lower()
    assert asset.status_code == 404


async def test_a_forged_host_header_cannot_add_to_the_policy(make_settings):
    async with app_client(make_settings()) as client:
        response = await client.get(
            "/graphql", headers={**HTML, "host": "evil.example; script-src *"}
        )
    policy = response.headers["content-security-policy"]
    assert "connect-src 'self';" in policy
    assert "evil" not in policy and "script-src *" not in policy


def test_the_config_cannot_close_its_script_element(make_settings):
    page = GraphiQLPage(make_settings(env="test"), GraphiQLAssets())
    page.examples = "# </script><script>alert(1)</script>"
    html = page.render(Request({"type": "http", "headers": []})).body.decode()
    assert "</script><script>alert(1)" not in html
    assert Page(html).config["defaultQuery"] == "# </script><script>alert(1)</script>"


def _example_operations() -> list[OperationDefinitionNode]:
    document = parse(EXAMPLES_FILE.read_text())
    return [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]


def test_the_example_operations_are_valid_against_the_schema():
    document = parse(EXAMPLES_FILE.read_text())
    errors = validate(build_schema()._schema, document)
    assert errors == []
    operations = _example_operations()
    names = [op.name.value for op in operations if op.name]
    assert len(names) == len(operations) == len(set(names))  # named, so GraphiQL can pick
    kinds = {op.operation for op in operations}
    assert kinds == {OperationType.QUERY, OperationType.MUTATION, OperationType.SUBSCRIPTION}
    for needed in ("Browse", "Recommendations", "RecordInteraction", "Checkout", "WatchStock"):
        assert needed in names


def test_docs_show_the_same_examples_as_graphiql():
    docs = (ROOT / "docs" / "client.md").read_text()
    assert EXAMPLES_FILE.read_text() in docs, (
        "docs/client.md must include web/graphiql_examples.graphql verbatim"
    )


async def test_the_page_lists_the_persisted_documents(make_settings):
    from core.settings import REFERENCE_CLIENT_MANIFEST

    manifest = json.loads(REFERENCE_CLIENT_MANIFEST.read_text())
    async with app_client(make_settings()) as client:
        _response, page = await get_page(client)
    listed = {entry["id"]: entry for entry in page.config["persistedDocuments"]}
    assert set(listed) == set(manifest)
    catalog = next(e for e in listed.values() if e["operations"][0]["name"] == "Catalog")
    assert catalog["operations"] == [{"name": "Catalog", "type": "query"}]
    assert catalog["source"] == "persisted-documents.json"
    assert manifest[catalog["id"]] == catalog["document"]
