"""Spring Security's answers (contract §1.1-§1.2): 401/403 shapes, request ids, CORS, public paths."""

from __future__ import annotations

import requests

from sandbox.launcher import RunningSandbox
from tests.sandbox.helpers import TIMEOUT, Backend, assert_problem


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_malformed_token_gets_401_with_an_empty_body(loculus_sandbox: RunningSandbox) -> None:
    response = requests.get(f"{loculus_sandbox.backend}/user/groups", headers=bearer("not.a.jwt"), timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.content == b""
    assert response.headers["WWW-Authenticate"].startswith(
        'Bearer error="invalid_token", error_description="An error occurred while attempting to decode the Jwt: '
        'Malformed token"'
    )


def test_a_malformed_token_gets_401_on_a_post_too(loculus_sandbox: RunningSandbox) -> None:
    response = requests.post(
        f"{loculus_sandbox.backend}/files/request-upload?groupId=1", headers=bearer("x"), timeout=TIMEOUT
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def test_an_expired_token_gets_401_naming_the_expiry(loculus_sandbox: RunningSandbox) -> None:
    token = loculus_sandbox.mint_token(lifetime=-3600)
    response = requests.get(f"{loculus_sandbox.backend}/user/groups", headers=bearer(token), timeout=TIMEOUT)
    assert response.status_code == 401
    assert "Jwt expired at " in response.headers["WWW-Authenticate"]


def test_a_token_signed_by_another_key_gets_401(loculus_sandbox: RunningSandbox) -> None:
    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    real = jwt.decode(loculus_sandbox.access_token(), options={"verify_signature": False})
    header = jwt.get_unverified_header(loculus_sandbox.access_token())
    forged = jwt.encode(
        real, rsa.generate_private_key(public_exponent=65537, key_size=2048), algorithm="RS256", headers=header
    )
    response = requests.get(f"{loculus_sandbox.backend}/user/groups", headers=bearer(forged), timeout=TIMEOUT)
    assert response.status_code == 401
    assert "Invalid signature" in response.headers["WWW-Authenticate"]


def test_a_token_without_preferred_username_gets_401(loculus_sandbox: RunningSandbox) -> None:
    token = loculus_sandbox.mint_token(omit=["preferred_username"])
    response = requests.get(f"{loculus_sandbox.backend}/user/groups", headers=bearer(token), timeout=TIMEOUT)
    assert response.status_code == 401
    assert "Token is missing the 'preferred_username' claim" in response.headers["WWW-Authenticate"]


def test_a_minimal_token_with_any_issuer_and_audience_is_accepted(loculus_sandbox: RunningSandbox) -> None:
    token = loculus_sandbox.mint_token(
        claims={"iss": "https://elsewhere.example/realms/x", "aud": "someone-else", "azp": "my-portal"},
        omit=["sub", "typ", "jti", "sid", "scope", "email"],
    )
    response = requests.get(f"{loculus_sandbox.backend}/user/groups", headers=bearer(token), timeout=TIMEOUT)
    assert response.status_code == 200


def test_no_token_on_a_protected_get_gets_401_bearer(loculus_sandbox: RunningSandbox) -> None:
    response = requests.get(f"{loculus_sandbox.backend}/user/groups", timeout=TIMEOUT)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.content == b""


def test_no_token_on_a_post_gets_403_without_a_problem_detail(loculus_sandbox: RunningSandbox) -> None:
    response = requests.post(f"{loculus_sandbox.backend}/files/request-upload?groupId=1", timeout=TIMEOUT)
    assert response.status_code == 403
    assert not response.headers.get("Content-Type", "").startswith("application/problem+json")


def test_every_response_carries_a_request_id_echoed_or_generated(loculus_sandbox: RunningSandbox) -> None:
    echoed = requests.get(f"{loculus_sandbox.backend}/", headers={"x-request-id": "abc-123"}, timeout=TIMEOUT)
    assert echoed.headers["x-request-id"] == "abc-123"
    generated = requests.get(f"{loculus_sandbox.backend}/user/groups", timeout=TIMEOUT)
    assert len(generated.headers["x-request-id"]) == 36


def test_the_backend_allows_cross_origin_calls_from_anywhere(loculus_sandbox: RunningSandbox) -> None:
    response = requests.options(
        f"{loculus_sandbox.backend}/files/request-upload",
        headers={
            "Origin": "http://any.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert response.headers["Access-Control-Allow-Headers"] == "authorization"
    assert response.headers["Access-Control-Max-Age"] == "3600"


def test_the_health_endpoint_is_public(loculus_sandbox: RunningSandbox) -> None:
    response = requests.get(f"{loculus_sandbox.backend}/", headers={"Accept": "application/json"}, timeout=TIMEOUT)
    assert response.json() == {
        "name": "Loculus backend",
        "status": "Healthy",
        "documentation": "visit /swagger-ui/index.html",
        "isInDebugMode": False,
    }


def test_user_groups_lists_the_callers_groups(current: Backend) -> None:
    assert [g["groupName"] for g in current.get("/user/groups").json()] == ["Sandbox Lab Berlin", "Sandbox Lab Kampala"]
    assert current.get("/user/groups", "newuser").json() == []
    assert [g["groupId"] for g in current.get("/user/groups", "superuser").json()] == [1, 2, 3]
    group = current.get("/user/groups", "otheruser").json()[0]
    assert set(group) == {"groupId", "groupName", "institution", "address", "contactEmail"}
    assert set(group["address"]) == {"line1", "line2", "city", "state", "postalCode", "country"}


def test_group_details_are_public_but_redacted_without_a_token(current: Backend) -> None:
    anonymous = current.get("/groups/1", None).json()
    assert anonymous["group"]["contactEmail"] is None
    assert anonymous["users"] is None
    signed_in = current.get("/groups/1", "otheruser").json()
    assert signed_in["users"] == [{"name": "testuser"}]
    assert_problem(current.get("/groups/123456789"), 404, "Not Found", "Group 123456789 does not exist.")


def test_creating_a_group_makes_the_creator_its_only_member(current: Backend) -> None:
    body = {
        "groupName": "New Lab",
        "institution": "Uni",
        "contactEmail": "lab@example.org",
        "address": {"line1": "1 Road", "line2": "", "city": "Town", "state": "", "postalCode": "1", "country": "Kenya"},
    }
    created = current.post("/groups", "newuser", json=body)
    assert created.status_code == 200
    assert [g["groupName"] for g in current.get("/user/groups", "newuser").json()] == ["New Lab"]
    missing = current.post("/groups", "newuser", json={"institution": "x"})
    assert_problem(missing, 400, "Bad Request", "value failed for JSON property groupName", exact=False)


def test_an_unknown_route_is_a_problem_404(current: Backend) -> None:
    response = current.get("/no/such/route")
    assert_problem(response, 404, "Not Found", "No static resource no/such/route.")
