"""Verification of Clerk session tokens, and the local dev issuer that mimics Clerk.

Clerk session tokens are RS256 JWTs. Verification is networkless with a PEM key
(`CLERK_JWT_KEY`); with a JWKS URL the keys are fetched once, cached, and refetched (at most
once per cooldown) when a token names an unknown `kid`. In dev without either, a key pair
under `DATA_DIR/dev-keys/` plays Clerk: `shop token` signs with it and the server verifies
through exactly the same `TokenVerifier` code path.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from core.settings import Settings

ALGORITHMS = ["RS256"]  # the allow-list: never HS*, never "none"
DEV_ISSUER = "https://dev.shopgraph.local"
DEV_KEY_DIR = "dev-keys"
JWKS_KEY_TTL = 300.0


class InvalidToken(Exception):
    """The credential is not acceptable; the message is safe to show to the client."""


@dataclass(frozen=True, slots=True)
class VerifiedClaims:
    subject: str
    expires_at: float
    claims: dict[str, Any]


class TokenVerifier:
    def __init__(
        self,
        *,
        public_key: str | None = None,
        jwks_url: str | None = None,
        issuer: str | None = None,
        authorized_parties: list[str] | tuple[str, ...] = (),
        leeway: float = 5.0,
        refetch_cooldown: float = 10.0,
    ) -> None:
        if not public_key and not jwks_url:
            raise ValueError("a public key or a JWKS URL is required")
        self._public_key = (
            serialization.load_pem_public_key(public_key.encode()) if public_key else None
        )
        self._jwks = (
            jwt.PyJWKClient(jwks_url, cooldown_duration=refetch_cooldown) if jwks_url else None
        )
        self._jwks_keys: dict[str, tuple[Any, float]] = {}
        self.issuer = issuer
        self.authorized_parties = frozenset(authorized_parties)
        self.leeway = min(leeway, 5.0)

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenVerifier:
        if settings.uses_dev_issuer:
            return cls(
                public_key=DevIssuer.for_settings(settings).public_pem,
                issuer=settings.clerk_issuer or DEV_ISSUER,
                authorized_parties=settings.clerk_authorized_parties,
                leeway=settings.auth_leeway_seconds,
            )
        return cls(
            public_key=settings.clerk_jwt_key,
            jwks_url=None if settings.clerk_jwt_key else settings.clerk_jwks_url,
            issuer=settings.clerk_issuer,
            authorized_parties=settings.clerk_authorized_parties,
            leeway=settings.auth_leeway_seconds,
        )

    async def verify(self, token: str) -> VerifiedClaims:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("Malformed token") from exc
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("Token algorithm not allowed")
        key = await self._key_for(header.get("kid"))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                issuer=self.issuer,
                leeway=self.leeway,
                options={
                    "require": ["exp", "iat", "sub"],
                    "verify_iss": self.issuer is not None,
                    "verify_aud": False,  # Clerk session tokens use `azp`, checked below
                },
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("Token expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise InvalidToken("Token not valid yet") from exc
        except jwt.InvalidIssuerError as exc:
            raise InvalidToken("Token issuer not accepted") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("Invalid token") from exc
        if self.authorized_parties and claims.get("azp") not in self.authorized_parties:
            raise InvalidToken("Token authorized party not accepted")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 191:
            raise InvalidToken("Token subject missing")
        return VerifiedClaims(subject=subject, expires_at=float(claims["exp"]), claims=claims)

    async def _key_for(self, kid: str | None) -> Any:
        if self._public_key is not None:
            return self._public_key
        assert self._jwks is not None
        if not kid:
            raise InvalidToken("Token has no key id")
        cached = self._jwks_keys.get(kid)
        if cached and time.monotonic() - cached[1] < JWKS_KEY_TTL:
            return cached[0]
        try:
            # PyJWKClient is synchronous (urllib): keep its network I/O off the event loop.
            signing_key = await asyncio.to_thread(self._jwks.get_signing_key, kid)
        except jwt.PyJWKClientConnectionError as exc:
            raise InvalidToken("Signing keys unavailable") from exc
        except jwt.PyJWKClientError as exc:
            raise InvalidToken("Unknown signing key") from exc
        self._jwks_keys[kid] = (signing_key.key, time.monotonic())
        return signing_key.key


def claim_at(claims: dict[str, Any], dotted: str) -> Any:
    """The value at a dotted path such as `metadata.role`, or None."""
    value: Any = claims
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


class DevIssuer:
    """A local stand-in for Clerk: an RSA key pair kept under `DATA_DIR/dev-keys/`."""

    def __init__(self, directory: Path, issuer: str = DEV_ISSUER) -> None:
        self.directory = directory
        self.issuer = issuer
        private_path = directory / "private.pem"
        if not private_path.exists():
            directory.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            temp = private_path.with_suffix(".tmp")
            temp.write_bytes(pem)
            temp.chmod(0o600)
            temp.replace(private_path)  # atomic: two processes starting together agree
            (directory / "kid").write_text(uuid.uuid4().hex[:16])
        # Loading (and validating) an RSA key costs tens of ms: do it once.
        self.private_key = serialization.load_pem_private_key(
            private_path.read_bytes(), password=None
        )
        self.public_pem = (
            self.private_key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        kid_path = directory / "kid"
        self.kid = kid_path.read_text().strip() if kid_path.exists() else "dev"

    @classmethod
    def for_settings(cls, settings: Settings) -> DevIssuer:
        return cls(settings.data_dir / DEV_KEY_DIR, settings.clerk_issuer or DEV_ISSUER)

    def issue(
        self,
        subject: str,
        *,
        ttl: int = 3600,
        admin: bool = False,
        email: str | None = None,
        name: str | None = None,
        azp: str | None = None,
    ) -> str:
        """A token shaped like a Clerk session token (sid, azp, iss, exp, nbf, iat)."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "sub": subject,
            "sid": f"sess_dev_{uuid.uuid4().hex[:12]}",
            "iss": self.issuer,
            "iat": now,
            "nbf": now - 1,
            "exp": now + ttl,
        }
        if azp:
            claims["azp"] = azp
        if admin:
            claims["metadata"] = {"role": "admin"}
        if email:
            claims["email"] = email
        if name:
            claims["name"] = name
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid})


def jwks_document(public_pem: str, kid: str) -> dict[str, Any]:
    """A JWKS document for a public key (used by tests serving keys on loopback)."""
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(serialization.load_pem_public_key(
        public_pem.encode()
    )))  # fmt: skip
    return {"keys": [{**jwk, "kid": kid, "use": "sig", "alg": "RS256"}]}
