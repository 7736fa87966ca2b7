"""The Keycloak-shaped provider: discovery, JWKS, password grant, code flow with PKCE, refresh, logout."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
import pytest
import requests

from sandbox.launcher import RunningSandbox
from tests.sandbox.conftest import PORTAL_ORIGIN
from tests.sandbox.helpers import TIMEOUT

REDIRECT = f"{PORTAL_ORIGIN}/oidc/callback"


def discovery(sb: RunningSandbox) -> dict[str, object]:
    return dict(requests.get(f"{sb.issuer}/.well-known/openid-configuration", timeout=TIMEOUT).json())


def test_discovery_names_the_realm_issuer_and_its_endpoints(loculus_sandbox: RunningSandbox) -> None:
    config = discovery(loculus_sandbox)
    base = f"{loculus_sandbox.keycloak}/realms/loculus"
    assert config["issuer"] == base
    assert config["token_endpoint"] == f"{base}/protocol/openid-connect/token"
    assert config["end_session_endpoint"] == f"{base}/protocol/openid-connect/logout"
    assert config["code_challenge_methods_supported"] == ["S256", "plain"]


def test_discovery_lists_keycloaks_response_modes(loculus_sandbox: RunningSandbox) -> None:
    assert discovery(loculus_sandbox)["response_modes_supported"] == [
        "query",
        "fragment",
        "form_post",
        "query.jwt",
        "fragment.jwt",
        "form_post.jwt",
        "jwt",
    ]


def test_a_password_grant_gives_a_keycloak_shaped_access_token_verifiable_by_jwks(
    loculus_sandbox: RunningSandbox,
) -> None:
    tokens = loculus_sandbox.password_token("superuser", "superuser")
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 36000
    client = jwt.PyJWKClient(str(discovery(loculus_sandbox)["jwks_uri"]))
    key = client.get_signing_key_from_jwt(tokens["access_token"])
    claims = jwt.decode(tokens["access_token"], key.key, algorithms=["RS256"], audience="account")
    assert claims["iss"] == loculus_sandbox.issuer
    assert claims["preferred_username"] == "superuser"
    assert claims["typ"] == "Bearer"
    assert claims["azp"] == "backend-client"
    assert claims["realm_access"]["roles"] == ["user", "offline_access", "super_user"]
    assert claims["exp"] - claims["iat"] == 36000


def test_a_wrong_password_is_an_invalid_grant(loculus_sandbox: RunningSandbox) -> None:
    response = requests.post(
        loculus_sandbox.token_endpoint,
        data={"grant_type": "password", "client_id": "backend-client", "username": "testuser", "password": "nope"},
        timeout=TIMEOUT,
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_grant"


def test_a_confidential_client_must_send_a_secret_but_any_secret_works(loculus_sandbox: RunningSandbox) -> None:
    data = {"grant_type": "password", "username": "testuser", "password": "testuser", "client_id": "my-portal"}
    assert requests.post(loculus_sandbox.token_endpoint, data=data, timeout=TIMEOUT).status_code == 401
    with_secret = requests.post(
        loculus_sandbox.token_endpoint, data=data, auth=("my-portal", "whatever"), timeout=TIMEOUT
    )
    assert with_secret.status_code == 200


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def start_login(
    session: requests.Session, sb: RunningSandbox, challenge: str, nonce: str = "n-1", **extra: str
) -> requests.Response:
    params = {
        **extra,
        "client_id": "backend-client",
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "openid",
        "state": "s-1",
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return session.get(
        f"{sb.issuer}/protocol/openid-connect/auth?{urlencode(params)}", allow_redirects=False, timeout=TIMEOUT
    )


def submit_login(
    session: requests.Session, sb: RunningSandbox, form: requests.Response, password: str
) -> requests.Response:
    action = re.search(r'action="([^"]+)"', form.text)
    assert action is not None
    return session.post(
        f"{sb.keycloak}{action.group(1)}",
        data={"username": "testuser", "password": password},
        allow_redirects=False,
        timeout=TIMEOUT,
    )


def code_flow(sb: RunningSandbox, session: requests.Session) -> dict[str, object]:
    verifier, challenge = pkce_pair()
    form = start_login(session, sb, challenge)
    redirect = submit_login(session, sb, form, "testuser")
    code = parse_qs(urlparse(redirect.headers["Location"]).query)["code"][0]
    response = requests.post(
        sb.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "client_id": "backend-client",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_the_login_form_looks_like_keycloaks(loculus_sandbox: RunningSandbox) -> None:
    form = start_login(requests.Session(), loculus_sandbox, pkce_pair()[1])
    assert form.status_code == 200
    assert '<label for="username">Username or email</label>' in form.text
    assert '<label for="password">Password</label>' in form.text
    assert 'value="Sign In"' in form.text


def test_a_wrong_password_in_the_form_shows_keycloaks_message(loculus_sandbox: RunningSandbox) -> None:
    session = requests.Session()
    form = start_login(session, loculus_sandbox, pkce_pair()[1])
    again = submit_login(session, loculus_sandbox, form, "wrong")
    assert again.status_code == 401  # Keycloak's "invalid_user_credentials" re-renders the form with 401
    assert "Invalid username or password." in again.text
    assert '<label for="password">Password</label>' in again.text
    assert "Location" not in again.headers


def test_the_code_flow_with_pkce_returns_state_and_an_id_token_with_the_nonce(loculus_sandbox: RunningSandbox) -> None:
    session = requests.Session()
    verifier, challenge = pkce_pair()
    form = start_login(session, loculus_sandbox, challenge, nonce="nonce-42")
    redirect = submit_login(session, loculus_sandbox, form, "testuser")
    assert redirect.status_code == 302
    location = urlparse(redirect.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["s-1"]
    token = requests.post(
        loculus_sandbox.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "client_id": "backend-client",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        timeout=TIMEOUT,
    ).json()
    id_claims = jwt.decode(token["id_token"], options={"verify_signature": False})
    assert id_claims["aud"] == "backend-client"
    assert id_claims["nonce"] == "nonce-42"
    assert jwt.get_unverified_header(token["id_token"])["kid"]


def test_a_wrong_code_verifier_is_refused(loculus_sandbox: RunningSandbox) -> None:
    session = requests.Session()
    _, challenge = pkce_pair()
    redirect = submit_login(session, loculus_sandbox, start_login(session, loculus_sandbox, challenge), "testuser")
    code = parse_qs(urlparse(redirect.headers["Location"]).query)["code"][0]
    response = requests.post(
        loculus_sandbox.token_endpoint,
        data={
            "grant_type": "authorization_code",
            "client_id": "backend-client",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "not-the-verifier-" + "x" * 40,
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_the_sso_cookie_skips_the_form_until_logout(loculus_sandbox: RunningSandbox) -> None:
    session = requests.Session()
    tokens = code_flow(loculus_sandbox, session)
    second = start_login(session, loculus_sandbox, pkce_pair()[1])
    assert second.status_code == 302
    assert "code=" in second.headers["Location"]
    logout = session.get(
        f"{loculus_sandbox.issuer}/protocol/openid-connect/logout",
        params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": f"{PORTAL_ORIGIN}/", "state": "bye"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert logout.status_code == 302
    assert logout.headers["Location"] == f"{PORTAL_ORIGIN}/?state=bye"
    third = start_login(session, loculus_sandbox, pkce_pair()[1])
    assert third.status_code == 200
    assert "Sign In" in third.text
    refreshed = requests.post(
        loculus_sandbox.token_endpoint,
        data={"grant_type": "refresh_token", "client_id": "backend-client", "refresh_token": tokens["refresh_token"]},
        timeout=TIMEOUT,
    )
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_a_foreign_redirect_uri_gets_keycloaks_error_page(loculus_sandbox: RunningSandbox) -> None:
    params = {"client_id": "backend-client", "redirect_uri": "http://evil.example/cb", "response_type": "code"}
    response = requests.get(f"{loculus_sandbox.issuer}/protocol/openid-connect/auth", params=params, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "Invalid parameter: redirect_uri" in response.text


def test_a_foreign_post_logout_redirect_is_refused(loculus_sandbox: RunningSandbox) -> None:
    response = requests.get(
        f"{loculus_sandbox.issuer}/protocol/openid-connect/logout",
        params={"client_id": "backend-client", "post_logout_redirect_uri": "http://evil.example/"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert "Location" not in response.headers


def test_refresh_tokens_rotate_and_a_used_one_is_refused(loculus_sandbox: RunningSandbox) -> None:
    first = loculus_sandbox.password_token("testuser", "testuser")
    data = {"grant_type": "refresh_token", "client_id": "backend-client", "refresh_token": first["refresh_token"]}
    second = requests.post(loculus_sandbox.token_endpoint, data=data, timeout=TIMEOUT)
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]
    reused = requests.post(loculus_sandbox.token_endpoint, data=data, timeout=TIMEOUT)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"


def test_userinfo_answers_for_a_valid_token(loculus_sandbox: RunningSandbox) -> None:
    token = loculus_sandbox.access_token("newuser")
    info = requests.get(
        f"{loculus_sandbox.issuer}/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {token}"},
        timeout=TIMEOUT,
    )
    assert info.json()["preferred_username"] == "newuser"
    bad = requests.get(
        f"{loculus_sandbox.issuer}/protocol/openid-connect/userinfo",
        headers={"Authorization": "Bearer x"},
        timeout=TIMEOUT,
    )
    assert bad.status_code == 401


@pytest.mark.timeout(60)
def test_the_token_lifetime_can_be_shortened_at_run_time(loculus_sandbox: RunningSandbox) -> None:
    loculus_sandbox.configure(token_lifetime=5)
    tokens = loculus_sandbox.password_token("testuser", "testuser")
    assert tokens["expires_in"] == 5
    assert tokens["refresh_expires_in"] == 3600


def form_post_fields(page: requests.Response) -> tuple[str, dict[str, str]]:
    action = re.search(r'<FORM METHOD="POST" ACTION="([^"]+)">', page.text)
    assert action is not None, page.text
    fields = dict(re.findall(r'<INPUT TYPE="HIDDEN" NAME="([^"]+)" VALUE="([^"]*)" />', page.text))
    return action.group(1), fields


def exchange(sb: RunningSandbox, code: str, verifier: str) -> requests.Response:
    data = {
        "grant_type": "authorization_code",
        "client_id": "backend-client",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    return requests.post(sb.token_endpoint, data=data, timeout=TIMEOUT)


def test_form_post_answers_with_a_page_that_posts_the_code_and_state(loculus_sandbox: RunningSandbox) -> None:
    session = requests.Session()
    verifier, challenge = pkce_pair()
    form = start_login(session, loculus_sandbox, challenge, response_mode="form_post")
    page = submit_login(session, loculus_sandbox, form, "testuser")
    assert page.status_code == 200
    assert "Location" not in page.headers
    assert page.headers["Content-Type"] == "text/html"
    assert "<TITLE>OIDC Form_Post Response</TITLE>" in page.text
    assert '<BODY Onload="document.forms[0].submit()">' in page.text
    action, fields = form_post_fields(page)
    assert action == REDIRECT
    assert fields["state"] == "s-1"
    assert fields["iss"] == loculus_sandbox.issuer
    assert exchange(loculus_sandbox, fields["code"], verifier).status_code == 200

    # With the SSO cookie the form is skipped, and the answer is the same kind of page.
    verifier, challenge = pkce_pair()
    again = start_login(session, loculus_sandbox, challenge, response_mode="form_post")
    assert again.status_code == 200
    _, fields = form_post_fields(again)
    assert exchange(loculus_sandbox, fields["code"], verifier).status_code == 200


def test_form_post_also_carries_errors(loculus_sandbox: RunningSandbox) -> None:
    page = start_login(requests.Session(), loculus_sandbox, pkce_pair()[1], response_mode="form_post", prompt="none")
    assert page.status_code == 200
    _, fields = form_post_fields(page)
    assert fields == {"error": "login_required", "state": "s-1"}


def test_form_post_jwt_wraps_the_answer_in_a_signed_response(loculus_sandbox: RunningSandbox) -> None:
    session = requests.Session()
    form = start_login(session, loculus_sandbox, pkce_pair()[1], response_mode="form_post.jwt")
    _, fields = form_post_fields(submit_login(session, loculus_sandbox, form, "testuser"))
    assert set(fields) == {"response"}
    keys = jwt.PyJWKClient(f"{loculus_sandbox.issuer}/protocol/openid-connect/certs")
    key = keys.get_signing_key_from_jwt(fields["response"]).key
    claims = jwt.decode(fields["response"], key, algorithms=["RS256"], audience="backend-client")
    assert claims["iss"] == loculus_sandbox.issuer
    assert claims["state"] == "s-1"
    assert claims["code"]


def test_an_unknown_response_mode_is_an_invalid_request(loculus_sandbox: RunningSandbox) -> None:
    response = start_login(requests.Session(), loculus_sandbox, pkce_pair()[1], response_mode="carrier_pigeon")
    assert response.status_code == 302
    query = parse_qs(urlparse(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["error_description"] == ["Invalid parameter: response_mode"]


def test_fragment_mode_puts_the_code_after_the_hash(loculus_sandbox: RunningSandbox) -> None:
    session = requests.Session()
    verifier, challenge = pkce_pair()
    form = start_login(session, loculus_sandbox, challenge, response_mode="fragment")
    redirect = submit_login(session, loculus_sandbox, form, "testuser")
    assert redirect.status_code == 302
    location = urlparse(redirect.headers["Location"])
    assert location.query == ""
    fragment = parse_qs(location.fragment)
    assert fragment["state"] == ["s-1"]
    assert exchange(loculus_sandbox, fragment["code"][0], verifier).status_code == 200
