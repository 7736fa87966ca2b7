"""A small Keycloak-shaped OpenID Connect provider for realm ``loculus``.

It issues RS256 JWT access tokens that carry ``preferred_username`` and
``realm_access.roles`` as Keycloak's do (contract §1.1, §1.3), under Keycloak's paths.
Clients: ``backend-client`` is public; any other client id is treated as confidential
and any secret is accepted, so a portal can use its own client as a real realm would
let it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, Response, jsonify, make_response, redirect, request
from jwt.algorithms import RSAAlgorithm

from sandbox.people import USERS, User
from sandbox.settings import RuntimeSettings

REALM_PATH = "/realms/loculus"
OIDC_PATH = f"{REALM_PATH}/protocol/openid-connect"
PUBLIC_CLIENT = "backend-client"
SESSION_COOKIE = "KEYCLOAK_SESSION"
CODE_LIFETIME = 60  # Keycloak's default access code lifespan
LOGIN_FORM_LIFETIME = 1800
# Keycloak's list, in its discovery order; the ``.jwt`` ones (JARM) wrap the answer in a signed ``response``.
RESPONSE_MODES = ("query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt")
JARM_LIFETIME = 60


@dataclass
class SsoSession:
    sid: str
    username: str
    auth_time: int
    active: bool = True


@dataclass
class PendingLogin:
    """The authorization request a login form belongs to (Keycloak's "tab")."""

    params: dict[str, str]
    created: float = field(default_factory=time.time)


@dataclass
class AuthCode:
    client_id: str
    redirect_uri: str
    username: str
    sid: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    expires: float


class Provider:
    """Keys, sessions, codes and refresh tokens of the realm."""

    def __init__(self, settings: RuntimeSettings) -> None:
        self.settings = settings
        self.lock = threading.Lock()
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_urlsafe(16)
        self.refresh_secret = secrets.token_bytes(32)
        self.sessions: dict[str, SsoSession] = {}
        self.pending: dict[str, PendingLogin] = {}
        self.codes: dict[str, AuthCode] = {}
        self.used_refresh_tokens: set[str] = set()

    # Keys -------------------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        key = RSAAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        key.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [key]}

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers={"kid": self.kid, "typ": "JWT"})

    # Tokens -----------------------------------------------------------------------------

    def access_claims(self, user: User, client_id: str, sid: str, scope: str, lifetime: int) -> dict[str, Any]:
        now = int(time.time())
        return {
            "exp": now + lifetime,
            "iat": now,
            "jti": str(uuid.uuid4()),
            "iss": self.settings.issuer,
            "aud": "account",
            "sub": user.sub,
            "typ": "Bearer",
            "azp": client_id,
            "sid": sid,
            "scope": scope,
            "realm_access": {"roles": user.roles},
            "email_verified": True,
            "name": f"{user.given_name} {user.family_name}",
            "preferred_username": user.username,
            "given_name": user.given_name,
            "family_name": user.family_name,
            "email": user.email,
        }

    def token_response(
        self, user: User, client_id: str, session: SsoSession, scope: str, nonce: str | None = None
    ) -> dict[str, Any]:
        lifetime = self.settings.token_lifetime
        refresh_lifetime = self.settings.refresh_lifetime
        now = int(time.time())
        access_token = self.sign(self.access_claims(user, client_id, session.sid, scope, lifetime))
        refresh_jti = str(uuid.uuid4())
        refresh_token = jwt.encode(
            {
                "exp": now + refresh_lifetime,
                "iat": now,
                "jti": refresh_jti,
                "iss": self.settings.issuer,
                "aud": self.settings.issuer,
                "sub": user.sub,
                "typ": "Refresh",
                "azp": client_id,
                "sid": session.sid,
                "scope": scope,
                "preferred_username": user.username,
            },
            self.refresh_secret,
            algorithm="HS256",
        )
        response: dict[str, Any] = {
            "access_token": access_token,
            "expires_in": lifetime,
            "refresh_expires_in": refresh_lifetime,
            "refresh_token": refresh_token,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "session_state": session.sid,
            "scope": scope,
        }
        if "openid" in scope.split():
            id_claims: dict[str, Any] = {
                "exp": now + lifetime,
                "iat": now,
                "auth_time": session.auth_time,
                "jti": str(uuid.uuid4()),
                "iss": self.settings.issuer,
                "aud": client_id,
                "sub": user.sub,
                "typ": "ID",
                "azp": client_id,
                "sid": session.sid,
                "at_hash": _half_hash(access_token),
                "email_verified": True,
                "name": f"{user.given_name} {user.family_name}",
                "preferred_username": user.username,
                "given_name": user.given_name,
                "family_name": user.family_name,
                "email": user.email,
            }
            if nonce:
                id_claims["nonce"] = nonce
            response["id_token"] = self.sign(id_claims)
        return response

    def new_session(self, username: str) -> SsoSession:
        session = SsoSession(str(uuid.uuid4()), username, int(time.time()))
        with self.lock:
            self.sessions[session.sid] = session
        return session

    def session_from_cookie(self) -> SsoSession | None:
        sid = request.cookies.get(SESSION_COOKIE)
        if not sid:
            return None
        with self.lock:
            session = self.sessions.get(sid)
        if session is None or not session.active:
            return None
        return session

    def end_session(self, sid: str) -> None:
        with self.lock:
            session = self.sessions.get(sid)
            if session is not None:
                session.active = False


def _half_hash(token: str) -> str:
    digest = hashlib.sha256(token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode("ascii")


def _pkce_ok(verifier: str | None, challenge: str | None, method: str | None) -> bool:
    if challenge is None:
        return True
    if not verifier:
        return False
    if (method or "plain") == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") == challenge
    return verifier == challenge


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    response = jsonify({"error": error, "error_description": description})
    response.status_code = status
    return response


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:4rem auto;padding:0 1rem}}
label{{display:block;margin-top:1rem}}input[type=text],input[type=password]{{width:100%;padding:.4rem}}
#kc-login{{margin-top:1.5rem;padding:.5rem 1.5rem}}.error{{color:#b00020}}</style></head>
<body><p>Loculus sandbox &middot; realm loculus</p>{body}</body></html>"""


def _page(title: str, body: str, status: int = 200) -> Response:
    response = make_response(PAGE.format(title=html.escape(title), body=body), status)
    response.headers["Content-Type"] = "text/html; charset=utf-8"
    return response


def _error_page(message: str, status: int = 400) -> Response:
    # Keycloak shows "We are sorry..." with the reason, e.g. "Invalid parameter: redirect_uri".
    body = (
        '<h1 id="kc-page-title">We are sorry...</h1>'
        f'<p id="kc-error-message" class="instruction">{html.escape(message)}</p>'
    )
    return _page("Sign in to loculus", body, status)


def _login_form(tab_id: str, username: str = "", error: str | None = None) -> Response:
    error_html = (
        f'<p><span id="input-error" class="error" aria-live="polite">{html.escape(error)}</span></p>' if error else ""
    )
    body = f"""<h1 id="kc-page-title">Sign in to your account</h1>
{error_html}
<form id="kc-form-login" method="post" action="{REALM_PATH}/login-actions/authenticate?tab_id={tab_id}">
<label for="username">Username or email</label>
<input id="username" name="username" type="text" value="{html.escape(username)}" autofocus autocomplete="username">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<input type="submit" id="kc-login" name="login" value="Sign In">
</form>
<p>Sandbox users: testuser, newuser, superuser, otheruser (password = username).</p>"""
    return _page("Sign in to loculus", body, 401 if error else 200)


def create_oidc_app(provider: Provider) -> Flask:
    settings = provider.settings
    app = Flask("sandbox.oidc")

    def redirect_allowed(uri: str | None) -> bool:
        return bool(uri) and uri.startswith(settings.portal_origin)  # type: ignore[union-attr]

    @app.get(f"{REALM_PATH}/.well-known/openid-configuration")
    def discovery() -> Response:
        issuer = settings.issuer
        base = f"{issuer}/protocol/openid-connect"
        response = jsonify(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{base}/auth",
                "token_endpoint": f"{base}/token",
                "introspection_endpoint": f"{base}/token/introspect",
                "userinfo_endpoint": f"{base}/userinfo",
                "end_session_endpoint": f"{base}/logout",
                "jwks_uri": f"{base}/certs",
                "check_session_iframe": f"{base}/login-status-iframe.html",
                "frontchannel_logout_session_supported": True,
                "frontchannel_logout_supported": True,
                "grant_types_supported": ["authorization_code", "refresh_token", "password"],
                "response_types_supported": ["code"],
                "response_modes_supported": list(RESPONSE_MODES),
                "subject_types_supported": ["public", "pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "userinfo_signing_alg_values_supported": ["RS256", "none"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
                "claims_supported": [
                    "aud",
                    "sub",
                    "iss",
                    "auth_time",
                    "name",
                    "given_name",
                    "family_name",
                    "preferred_username",
                    "email",
                    "email_verified",
                    "acr",
                ],
                "scopes_supported": ["openid", "profile", "email", "roles", "offline_access"],
                "code_challenge_methods_supported": ["S256", "plain"],
                "claims_parameter_supported": True,
                "request_parameter_supported": False,
            }
        )
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @app.get(f"{OIDC_PATH}/certs")
    def certs() -> Response:
        response = jsonify(provider.jwks())
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @app.route(f"{OIDC_PATH}/auth", methods=["GET", "POST"])
    def authorize() -> Response:
        params = {key: value for key, value in request.values.items()}
        client_id = params.get("client_id")
        if not client_id:
            return _error_page("Invalid parameter: client_id")
        redirect_uri = params.get("redirect_uri")
        if not redirect_allowed(redirect_uri):
            return _error_page("Invalid parameter: redirect_uri")
        assert redirect_uri is not None
        if params.get("response_type") != "code":
            return _redirect_with(redirect_uri, {"error": "unsupported_response_type", "state": params.get("state")})
        if (params.get("response_mode") or "query") not in RESPONSE_MODES:
            return _redirect_with(
                redirect_uri,
                {
                    "error": "invalid_request",
                    "error_description": "Invalid parameter: response_mode",
                    "state": params.get("state"),
                },
            )
        method = params.get("code_challenge_method")
        if method and method not in ("S256", "plain"):
            return answer(
                params,
                {
                    "error": "invalid_request",
                    "error_description": "Invalid parameter: code challenge method is not supported.",
                    "state": params.get("state"),
                },
            )
        session = provider.session_from_cookie()
        if session is not None and params.get("prompt") != "login":
            return _issue_code(params, session)
        if params.get("prompt") == "none":
            return answer(params, {"error": "login_required", "state": params.get("state")})
        tab_id = secrets.token_urlsafe(12)
        with provider.lock:
            provider.pending[tab_id] = PendingLogin(params)
        return _login_form(tab_id)

    @app.post(f"{REALM_PATH}/login-actions/authenticate")
    def authenticate() -> Response:
        tab_id = request.args.get("tab_id", "")
        with provider.lock:
            pending = provider.pending.get(tab_id)
        if pending is None or time.time() - pending.created > LOGIN_FORM_LIFETIME:
            return _error_page("Your login attempt timed out. Login will start from the beginning.")
        username = request.form.get("username", "").strip()
        password = request.form.get("password", "")
        user = _find_user(username)
        if user is None or password != user.password:
            return _login_form(tab_id, username, "Invalid username or password.")
        with provider.lock:
            provider.pending.pop(tab_id, None)
        session = provider.new_session(user.username)
        response = _issue_code(pending.params, session)
        response.set_cookie(SESSION_COOKIE, session.sid, httponly=True, samesite="Lax", path=REALM_PATH)
        return response

    def _issue_code(params: dict[str, str], session: SsoSession) -> Response:
        code = secrets.token_urlsafe(32)
        challenge = params.get("code_challenge")
        with provider.lock:
            provider.codes[code] = AuthCode(
                client_id=params["client_id"],
                redirect_uri=params["redirect_uri"],
                username=session.username,
                sid=session.sid,
                scope=_scope(params.get("scope")),
                nonce=params.get("nonce"),
                code_challenge=challenge,
                code_challenge_method=(params.get("code_challenge_method") or "plain") if challenge else None,
                expires=time.time() + CODE_LIFETIME,
            )
        return answer(
            params, {"state": params.get("state"), "session_state": session.sid, "iss": settings.issuer, "code": code}
        )

    def answer(params: dict[str, str], values: dict[str, str | None]) -> Response:
        """Send an authorization response the way ``response_mode`` asks (OAuth 2.0 response modes, JARM)."""
        mode = params.get("response_mode") or "query"
        uri = params["redirect_uri"]
        if mode.endswith("jwt"):
            claims = {key: value for key, value in values.items() if value is not None}
            claims.update(iss=settings.issuer, aud=params["client_id"], exp=int(time.time()) + JARM_LIFETIME)
            values = {"response": provider.sign(claims)}
            mode = "query" if mode == "jwt" else mode.removesuffix(".jwt")
        if mode == "form_post":
            return _form_post(uri, values)
        if mode == "fragment":
            fragment = urlencode({key: value for key, value in values.items() if value is not None})
            return redirect(f"{uri}#{fragment}", code=302)
        return _redirect_with(uri, values)

    @app.post(f"{OIDC_PATH}/token")
    def token() -> Response:
        client_id, secret = _client_credentials()
        if not client_id:
            return _oauth_error("invalid_client", "Invalid client or Invalid client credentials", 401)
        if client_id != PUBLIC_CLIENT and not secret:
            # Any other client is "confidential": a secret must be sent, whatever its value.
            return _oauth_error("unauthorized_client", "Client secret not provided in request", 401)
        grant_type = request.form.get("grant_type")
        if grant_type == "password":
            user = _find_user(request.form.get("username", ""))
            if user is None or request.form.get("password") != user.password:
                return _oauth_error("invalid_grant", "Invalid user credentials", 401)
            session = provider.new_session(user.username)
            return jsonify(provider.token_response(user, client_id, session, _scope(request.form.get("scope"))))
        if grant_type == "authorization_code":
            code = request.form.get("code", "")
            with provider.lock:
                grant = provider.codes.pop(code, None)
            if grant is None or grant.expires < time.time():
                return _oauth_error("invalid_grant", "Code not valid")
            if grant.client_id != client_id:
                return _oauth_error("invalid_grant", "Auth error")
            if request.form.get("redirect_uri") != grant.redirect_uri:
                return _oauth_error("invalid_grant", "Incorrect redirect_uri")
            if not _pkce_ok(request.form.get("code_verifier"), grant.code_challenge, grant.code_challenge_method):
                return _oauth_error("invalid_grant", "PKCE verification failed: Invalid code verifier")
            session = provider.sessions.get(grant.sid)
            if session is None or not session.active:
                return _oauth_error("invalid_grant", "Session not active")
            user = USERS[grant.username]
            return jsonify(provider.token_response(user, client_id, session, grant.scope, grant.nonce))
        if grant_type == "refresh_token":
            return _refresh(client_id)
        return _oauth_error("unsupported_grant_type", "Unsupported grant_type")

    def _refresh(client_id: str) -> Response:
        raw = request.form.get("refresh_token", "")
        try:
            claims = jwt.decode(raw, provider.refresh_secret, algorithms=["HS256"], audience=settings.issuer)
        except jwt.ExpiredSignatureError:
            return _oauth_error("invalid_grant", "Token is not active")
        except jwt.PyJWTError:
            return _oauth_error("invalid_grant", "Invalid refresh token")
        if claims.get("azp") != client_id:
            return _oauth_error(
                "invalid_grant", "Invalid refresh token. Token client and authorized client don't match"
            )
        with provider.lock:
            # Refresh tokens rotate: each one can be used once.
            if claims["jti"] in provider.used_refresh_tokens:
                return _oauth_error("invalid_grant", "Maximum allowed refresh token reuse exceeded")
            provider.used_refresh_tokens.add(claims["jti"])
            session = provider.sessions.get(claims.get("sid", ""))
        if session is None or not session.active:
            return _oauth_error("invalid_grant", "Session not active")
        user = USERS[claims["preferred_username"]]
        return jsonify(provider.token_response(user, client_id, session, claims.get("scope", "openid")))

    @app.route(f"{OIDC_PATH}/userinfo", methods=["GET", "POST"])
    def userinfo() -> Response:
        header = request.headers.get("Authorization", "")
        token_text = header[7:] if header.lower().startswith("bearer ") else request.form.get("access_token", "")
        try:
            claims = jwt.decode(
                token_text, provider.private_key.public_key(), algorithms=["RS256"], options={"verify_aud": False}
            )
            session = provider.sessions.get(claims.get("sid", ""))
            if session is not None and not session.active:
                raise jwt.InvalidTokenError("session ended")
        except jwt.PyJWTError:
            response = jsonify({"error": "invalid_token", "error_description": "Token verification failed"})
            response.status_code = 401
            response.headers["WWW-Authenticate"] = (
                'Bearer realm="loculus", error="invalid_token", error_description="Token verification failed"'
            )
            return response
        keys = ("sub", "email_verified", "name", "preferred_username", "given_name", "family_name", "email")
        response = jsonify({key: claims[key] for key in keys if key in claims})
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    @app.route(f"{OIDC_PATH}/logout", methods=["GET", "POST"])
    def logout() -> Response:
        post_logout = request.values.get("post_logout_redirect_uri")
        id_token_hint = request.values.get("id_token_hint")
        if post_logout and not redirect_allowed(post_logout):
            return _error_page("Invalid redirect uri")
        if post_logout and not (id_token_hint or request.values.get("client_id")):
            return _error_page("Missing parameters: id_token_hint")
        sids: set[str] = set()
        session = provider.session_from_cookie()
        if session is not None:
            sids.add(session.sid)
        if id_token_hint:
            try:
                hint = jwt.decode(
                    id_token_hint,
                    provider.private_key.public_key(),
                    algorithms=["RS256"],
                    options={"verify_aud": False, "verify_exp": False},
                )
                sids.add(hint.get("sid", ""))
            except jwt.PyJWTError:
                return _error_page("Invalid parameter: id_token_hint")
        for sid in sids:
            provider.end_session(sid)
        if post_logout:
            response = _redirect_with(post_logout, {"state": request.values.get("state")})
        else:
            response = _page("Logging out", '<h1 id="kc-page-title">You are logged out</h1>')
        response.delete_cookie(SESSION_COOKIE, path=REALM_PATH)
        return response

    @app.post("/_sandbox/token")
    def mint_token() -> Response:
        """Sandbox only: sign arbitrary access-token claims, for tests of token handling."""
        body = request.get_json(force=True) or {}
        user = USERS.get(body.get("username", "testuser"), USERS["testuser"])
        claims = provider.access_claims(user, "backend-client", "sandbox", "openid", int(body.get("lifetime", 300)))
        claims.update(body.get("claims", {}))
        for name in body.get("omit", []):
            claims.pop(name, None)
        return jsonify({"access_token": provider.sign(claims)})

    @app.get("/")
    def root() -> Response:
        return _page(
            "Keycloak (sandbox)",
            "<h1>Keycloak stand-in</h1>"
            f'<p>Realm: <a href="{REALM_PATH}/.well-known/openid-configuration">loculus</a></p>',
        )

    return app


def _find_user(username_or_email: str) -> User | None:
    needle = username_or_email.strip().lower()
    for user in USERS.values():
        if needle in (user.username.lower(), user.email.lower()):
            return user
    return None


def _scope(requested: str | None) -> str:
    # Keycloak always adds its default client scopes to what was asked for.
    scopes = (requested or "").split()
    for default in ("openid", "profile", "email", "roles"):
        if default not in scopes and (default != "openid" or requested is None or "openid" in scopes):
            scopes.append(default)
    return " ".join(dict.fromkeys(scopes))


def _client_credentials() -> tuple[str, str | None]:
    auth = request.authorization
    if auth is not None and auth.type == "basic" and auth.username:
        return auth.username, auth.password
    return request.form.get("client_id", ""), request.form.get("client_secret")


def _form_post(uri: str, params: dict[str, str | None]) -> Response:
    """Keycloak's form_post page: hidden inputs posted by an onload handler, a button without JavaScript."""
    inputs = "".join(
        f'  <INPUT TYPE="HIDDEN" NAME="{html.escape(key)}" VALUE="{html.escape(value)}" />'
        for key, value in params.items()
        if value is not None
    )
    page = (
        "<HTML>  <HEAD>    <TITLE>OIDC Form_Post Response</TITLE>  </HEAD>"
        '  <BODY Onload="document.forms[0].submit()">'
        f'    <FORM METHOD="POST" ACTION="{html.escape(uri)}">{inputs}'
        "      <NOSCRIPT>        <P>JavaScript is disabled. We strongly recommend to enable it. "
        "Click the button below to continue .</P>"
        '        <INPUT name="continue" TYPE="SUBMIT" VALUE="CONTINUE" />      </NOSCRIPT>    </FORM>  </BODY></HTML>'
    )
    response = make_response(page, 200)
    response.headers["Content-Type"] = "text/html"
    return response


def _redirect_with(uri: str, params: dict[str, str | None]) -> Response:
    query = urlencode({key: value for key, value in params.items() if value is not None})
    separator = "&" if "?" in uri else "?"
    return redirect(f"{uri}{separator}{query}", code=302)
