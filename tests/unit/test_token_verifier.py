"""TokenVerifier against a JWKS served on loopback: caching, key rotation, unknown kids."""

from __future__ import annotations

import asyncio
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from services.tokens import InvalidToken, TokenVerifier, jwks_document
from tests.support.auth import claims_for, sign

ISSUER = "https://clerk.example.test"


def _key():
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return key, public.decode()


class JWKSServer:
    def __init__(self) -> None:
        self.keys: list[dict] = []
        self.hits = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.hits += 1
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/.well-known/jwks.json"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def publish(self, public_pem: str, kid: str) -> None:
        self.keys += jwks_document(public_pem, kid)["keys"]


@pytest.fixture
def jwks():
    server = JWKSServer()
    yield server
    server.httpd.shutdown()


async def test_jwks_keys_are_cached_and_rotation_is_picked_up(jwks):
    key1, pub1 = _key()
    jwks.publish(pub1, "k1")
    verifier = TokenVerifier(jwks_url=jwks.url, issuer=ISSUER, refetch_cooldown=0.2)
    for _ in range(3):
        verified = await verifier.verify(sign(claims_for("user_1", ISSUER), key1, kid="k1"))
        assert verified.subject == "user_1"
    assert jwks.hits == 1  # cached after the first fetch

    key2, pub2 = _key()
    jwks.publish(pub2, "k2")  # Clerk rotates: a token names a kid we have not seen
    await asyncio.sleep(0.3)  # past the refetch cooldown
    verified = await verifier.verify(sign(claims_for("user_2", ISSUER), key2, kid="k2"))
    assert verified.subject == "user_2"
    assert jwks.hits == 2


async def test_unknown_kid_is_refused_without_hammering_the_endpoint(jwks):
    key1, pub1 = _key()
    jwks.publish(pub1, "k1")
    verifier = TokenVerifier(jwks_url=jwks.url, issuer=ISSUER)
    await verifier.verify(sign(claims_for("user_1", ISSUER), key1, kid="k1"))
    stranger, _ = _key()
    for _ in range(5):
        with pytest.raises(InvalidToken):
            await verifier.verify(sign(claims_for("user_1", ISSUER), stranger, kid="nope"))
    assert jwks.hits <= 2  # one refetch at most within the cooldown


async def test_a_known_kid_with_a_foreign_signature_is_refused(jwks):
    _, pub1 = _key()
    jwks.publish(pub1, "k1")
    forger, _ = _key()
    verifier = TokenVerifier(jwks_url=jwks.url, issuer=ISSUER)
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(claims_for("user_1", ISSUER), forger, kid="k1"))


async def test_pem_verifier_checks_authorized_parties():
    key, pub = _key()
    verifier = TokenVerifier(public_key=pub, issuer=ISSUER, authorized_parties=["https://shop"])
    ok = sign(claims_for("u", ISSUER, azp="https://shop"), key, kid="x")
    assert (await verifier.verify(ok)).subject == "u"
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(claims_for("u", ISSUER, azp="https://evil"), key, kid="x"))
    with pytest.raises(InvalidToken):
        await verifier.verify(sign(claims_for("u", ISSUER, iss="https://other"), key, kid="x"))


async def test_leeway_never_exceeds_five_seconds():
    _, pub = _key()
    assert TokenVerifier(public_key=pub, leeway=60).leeway == 5.0
