"""Session tokens through the public HTTP surface: who gets in, who does not, nothing written."""

from __future__ import annotations

import base64
import json
import time

import pytest

from models import User
from tests.support.auth import (
    LISTED_ADMIN,
    claims_for,
    hs256_with_key_as_secret,
    other_private_key,
    sign,
)
from tests.support.auth import unsigned as unsigned_token
from tests.support.graphql import error_codes, gql, gql_data

ME = "{ me { id email name isAdmin } }"


async def test_first_valid_token_creates_the_user_just_in_time(client, alice):
    assert await User.filter(clerk_id="user_alice").count() == 0
    me = (await gql_data(client, ME, token=alice))["me"]
    assert me["email"] == "alice@example.com" and me["name"] == "Alice"
    assert me["isAdmin"] is False
    again = (await gql_data(client, ME, token=alice))["me"]
    assert again["id"] == me["id"]
    assert await User.filter(clerk_id="user_alice").count() == 1


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
async def test_bearer_scheme_is_case_insensitive(client, alice, scheme):
    response = await client.post(
        "/graphql", json={"query": ME}, headers={"authorization": f"{scheme} {alice}"}
    )
    assert response.json()["data"]["me"]["email"] == "alice@example.com"


async def test_session_cookie_authenticates_and_a_stale_one_is_anonymous(client, alice):
    client.cookies.set("__session", alice)
    try:
        assert (await gql_data(client, ME))["me"]["name"] == "Alice"
        client.cookies.set("__session", alice[:-4] + "AAAA")
        assert (await gql_data(client, ME))["me"] is None
    finally:
        client.cookies.clear()


async def test_admin_role_comes_from_the_claim_or_the_allow_list(client, admin, token_for):
    assert (await gql_data(client, ME, token=admin))["me"]["isAdmin"] is True
    listed = token_for(LISTED_ADMIN)
    assert (await gql_data(client, ME, token=listed))["me"]["isAdmin"] is True


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _attacks(issuer) -> dict[str, str]:
    """Tokens that must all be refused. Built against the app's real dev key pair."""
    private = issuer.private_key
    good = claims_for("user_mallory", issuer.issuer)
    now = int(time.time())
    valid = sign(good, private, kid=issuer.kid)
    header, payload, signature = valid.split(".")
    return {
        "alg none": unsigned_token(good),
        "HS256 with the public key as secret": hs256_with_key_as_secret(
            good, issuer.public_pem, issuer.kid
        ),
        "expired": sign({**good, "exp": now - 60, "iat": now - 120}, private, kid=issuer.kid),
        "nbf in the future": sign({**good, "nbf": now + 120}, private, kid=issuer.kid),
        "iat in the future": sign({**good, "iat": now + 120}, private, kid=issuer.kid),
        "wrong iss": sign({**good, "iss": "https://evil.example"}, private, kid=issuer.kid),
        "azp not allowed": sign({**good, "azp": "https://evil.example"}, private, kid=issuer.kid),
        "tampered payload": f"{header}.{_b64({**good, 'sub': 'user_admin'})}.{signature}",
        "missing sub": sign({k: v for k, v in good.items() if k != "sub"}, private, kid=issuer.kid),
        "missing exp": sign({k: v for k, v in good.items() if k != "exp"}, private, kid=issuer.kid),
        "signed by another key": sign(good, other_private_key(), kid=issuer.kid),
        "garbage header": "not-a-jwt." + payload + "." + signature,
        "garbage": "garbage",
    }


@pytest.mark.parametrize(
    "attack",
    [
        "alg none", "HS256 with the public key as secret", "expired", "nbf in the future",
        "iat in the future", "wrong iss", "azp not allowed", "tampered payload", "missing sub",
        "missing exp", "signed by another key", "garbage header", "garbage",
    ],
)  # fmt: skip
async def test_attack_tokens_are_refused_and_nothing_is_written(client, issuer, attack):
    token = _attacks(issuer)[attack]
    users_before = await User.all().count()
    response = await client.post(
        "/graphql",
        json={"query": 'mutation { updateMe(input: {name: "pwned"}) { user { id } } }'},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert error_codes(response.json()) == ["UNAUTHENTICATED"]
    assert await User.all().count() == users_before


async def test_a_non_bearer_authorization_header_is_refused(client, db):
    response = await client.post(
        "/graphql", json={"query": ME}, headers={"authorization": "Basic dXNlcjpwYXNz"}
    )
    assert response.status_code == 401


async def test_valid_tokens_still_work_alongside_attacks(client, issuer):
    """Guards the attack test: the same construction with nothing wrong is accepted."""
    token = sign(claims_for("user_fine", issuer.issuer), issuer.private_key, kid=issuer.kid)
    assert (await gql_data(client, ME, token=token))["me"] is not None


UPDATE_ME = """
mutation($input: UpdateMeInput!) {
  updateMe(input: $input) { user { name avatarUrl preferences } userErrors { field code } }
}
"""


async def test_update_me_changes_only_the_given_fields(client, alice):
    data = await gql_data(
        client,
        UPDATE_ME,
        {"input": {"name": "Alice B.", "preferences": {"categories": ["Sneakers"]}}},
        token=alice,
    )
    assert data["updateMe"]["userErrors"] == []
    assert data["updateMe"]["user"]["name"] == "Alice B."
    assert data["updateMe"]["user"]["preferences"] == {"categories": ["Sneakers"]}
    data = await gql_data(
        client, UPDATE_ME, {"input": {"avatar": "https://img.example/a.png"}}, token=alice
    )
    assert data["updateMe"]["user"]["name"] == "Alice B."
    assert data["updateMe"]["user"]["avatarUrl"] == "https://img.example/a.png"


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"avatar": "javascript:alert(1)"}, "avatar"),
        ({"preferences": [1, 2]}, "preferences"),
        ({"preferences": {"blob": "x" * 20000}}, "preferences"),
        ({"preferences": {"a": {"b": {"c": {"d": {"e": {"f": 1}}}}}}}, "preferences"),
    ],
)
async def test_update_me_validates_and_writes_nothing(client, alice, value, field):
    await gql_data(client, ME, token=alice)
    before = await User.get(clerk_id="user_alice")
    data = await gql_data(client, UPDATE_ME, {"input": value}, token=alice)
    assert data["updateMe"]["user"] is None
    assert data["updateMe"]["userErrors"] == [{"field": field, "code": "BAD_USER_INPUT"}]
    after = await User.get(clerk_id="user_alice")
    assert (after.name, after.avatar_url, after.preferences) == (
        before.name, before.avatar_url, before.preferences,
    )  # fmt: skip


async def test_update_me_needs_a_signed_in_user(client, db):
    body = await gql(client, UPDATE_ME, {"input": {"name": "x"}})
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_a_user_sees_only_their_own_account_by_node(client, alice, bob, admin):
    alice_id = (await gql_data(client, ME, token=alice))["me"]["id"]
    query = "query($id: ID!) { node(id: $id) { ... on User { email } } }"
    assert (await gql_data(client, query, {"id": alice_id}, token=alice))["node"] == {
        "email": "alice@example.com"
    }
    assert (await gql_data(client, query, {"id": alice_id}, token=bob))["node"] is None
    assert (await gql_data(client, query, {"id": alice_id}))["node"] is None
    assert (await gql_data(client, query, {"id": alice_id}, token=admin))["node"] is not None


async def test_admins_list_users(client, alice, bob, admin):
    for token in (alice, bob):
        await gql_data(client, ME, token=token)
    query = "query($s: String) { users(first: 10, search: $s) { edges { node { email } } } }"
    data = await gql_data(client, query, {"s": "ALICE"}, token=admin)
    assert [e["node"]["email"] for e in data["users"]["edges"]] == ["alice@example.com"]
    assert error_codes(await gql(client, query, token=alice)) == ["FORBIDDEN"]
    assert error_codes(await gql(client, query)) == ["UNAUTHENTICATED"]
