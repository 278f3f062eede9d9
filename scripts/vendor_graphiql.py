"""Vendor GraphiQL's browser assets into `web/static/graphiql/` at pinned versions.

GraphiQL at `GET /graphql` is served from the app itself so that it works without internet
access. This script is how the committed files were made, and how to remake or upgrade them:

    .venv/bin/python scripts/vendor_graphiql.py          # download, verify, write
    .venv/bin/python scripts/vendor_graphiql.py --check  # download, verify, compare

It downloads each pinned npm tarball from the registry (`NPM_REGISTRY`, default
https://registry.npmjs.org), refuses it unless its SHA-512 equals the pinned `integrity` (the
value `npm view <pkg>@<version> dist.integrity` prints), copies the listed files and the
package's LICENSE, and writes `manifest.json` with a SHA-384 subresource-integrity hash per
asset (the CDN mode of the page uses it, so a CDN can only serve these exact bytes).

GraphiQL 4.1 is the newest GraphiQL with a self-contained browser build (UMD; GraphiQL 5
ships ES modules and Monaco web workers that need a bundler). The UMD build expects React
18's UMD builds as globals (React 19 publishes none) and bundles graphql, graphql-ws and
@graphiql/toolkit itself.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "web" / "static" / "graphiql"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Asset:
    path: str  # inside the package
    kind: str  # "script" (loaded in this order) or "stylesheet"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the tarball's SRI hash as the registry publishes it
    assets: tuple[Asset, ...]

    @property
    def tarball_url(self) -> str:
        registry = os.environ.get("NPM_REGISTRY", "https://registry.npmjs.org").rstrip("/")
        return f"{registry}/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


PACKAGES = (
    Package(
        "react",
        "18.3.1",
        "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urgPE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ==",
        (Asset("umd/react.production.min.js", "script"),),
    ),
    Package(
        "react-dom",
        "18.3.1",
        "sha512-5m4nQKp+rZRb09LNH59GM4BxTh9251/ylbKIbpe7TpGxfJ+9kv6BLkLBXIjjspbgbnIBNqlI23tRnTWT0snUIw==",
        (Asset("umd/react-dom.production.min.js", "script"),),
    ),
    Package(
        "graphiql",
        "4.1.2",
        "sha512-rNlzQIAzm6i2KBXmVQWBgLvt0TloxFVB2d18bukvdsvjEuFDHsKx5IVOomL1W1o5WW+tE54+ioHb2AEKzO2cUg==",
        (Asset("dist/index.umd.js", "script"), Asset("dist/style.css", "stylesheet")),
    ),
)


def sri(algorithm: str, data: bytes) -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def download(package: Package) -> tarfile.TarFile:
    url = package.tarball_url
    if not url.startswith(("https://", "http://")):
        raise SystemExit(f"refusing a non-HTTP registry URL: {url}")
    with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (checked above)
        data = response.read()
    algorithm = package.integrity.split("-", 1)[0]
    actual = sri(algorithm, data)
    if actual != package.integrity:
        raise SystemExit(
            f"{package.name}@{package.version}: tarball integrity mismatch\n"
            f"  pinned {package.integrity}\n  got    {actual}"
        )
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def read_member(archive: tarfile.TarFile, path: str) -> bytes:
    member = archive.extractfile(f"package/{path}")
    if member is None:
        raise SystemExit(f"{path} is not a regular file in the tarball")
    return member.read()


def vendored_files() -> tuple[dict[str, bytes], dict]:
    """Every file to write under TARGET (relative path -> bytes) and the manifest."""
    files: dict[str, bytes] = {}
    assets = []
    for package in PACKAGES:
        folder = f"{package.name}@{package.version}"
        with download(package) as archive:
            files[f"{folder}/LICENSE"] = read_member(archive, "LICENSE")
            for asset in package.assets:
                data = read_member(archive, asset.path)
                files[f"{folder}/{asset.path}"] = data
                assets.append(
                    {
                        "package": package.name,
                        "version": package.version,
                        "path": asset.path,
                        "kind": asset.kind,
                        "bytes": len(data),
                        "integrity": sri("sha384", data),
                    }
                )
    manifest = {
        "generatedBy": "scripts/vendor_graphiql.py",
        "packages": {p.name: {"version": p.version, "tarball": p.integrity} for p in PACKAGES},
        "assets": assets,
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2) + "\n").encode()
    return files, manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="Compare instead of writing.")
    args = parser.parse_args(argv)
    files, manifest = vendored_files()
    if args.check:
        stale = [name for name, data in files.items() if _read(TARGET / name) != data]
        extra = sorted(
            str(path.relative_to(TARGET))
            for path in TARGET.rglob("*")
            if path.is_file() and str(path.relative_to(TARGET)) not in files
        )
        for name in stale:
            print(f"differs from the pinned release: {name}", file=sys.stderr)
        for name in extra:
            print(f"not from a pinned release: {name}", file=sys.stderr)
        if stale or extra:
            return 1
        print(f"{TARGET.relative_to(ROOT)} matches the pinned releases")
        return 0
    if TARGET.exists():
        for path in sorted(TARGET.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
    for name, data in files.items():
        path = TARGET / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    total = sum(asset["bytes"] for asset in manifest["assets"])
    print(f"wrote {len(files)} files ({total / 1024:.0f} KiB of assets) to {TARGET}")
    return 0


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


if __name__ == "__main__":
    raise SystemExit(main())
