"""Signing in with the Loculus instance's Keycloak, and keeping a valid access token.

The authorization code flow (state, nonce, PKCE S256) runs through Authlib's Django client
against the configured issuer. The tokens stay in the database (TokenSet, one row per portal
session): never in a cookie, a page, a URL or a log line.

Before any backend call, `access_token(request)` returns a token that is valid for at least
OIDC_REFRESH_LEEWAY_SECONDS more, refreshing it if needed. The refresh takes a write lock on the
session's TokenSet row first (a row lock on PostgreSQL, the database write lock on SQLite), then
reads the row again: of two requests arriving at expiry, in one process or several, one refreshes
and the other uses the new token. A stale request cannot overwrite a newer token.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.django_client import DjangoOAuth2App, OAuth
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.contrib.auth import get_user_model, login, logout
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from submitportal.loculus import instance
from submitportal.models import TokenSet

log = logging.getLogger("submitportal.signin")

SCOPE = "openid profile email"
# A second backend 401 this soon after the first means the backend does not accept this issuer's
# tokens at all: signing in again would only loop.
REFUSED_AGAIN_SECONDS = 60


class SignInRequired(Exception):
    """The user must sign in (again): no tokens, or they can no longer be refreshed."""


class SignInFailed(Exception):
    """The sign-in itself went wrong. The message is for the user."""


@dataclass(frozen=True)
class Identity:
    username: str
    subject: str


_clients: dict[tuple[str, str, str], DjangoOAuth2App] = {}


def issuer() -> str:
    return settings.OIDC_ISSUER or instance.get_instance().oidc_issuer


def oidc_client() -> DjangoOAuth2App:
    """Authlib's client for the configured issuer (built once per issuer and client)."""
    key = (issuer(), settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET)
    if key not in _clients:
        client_kwargs: dict[str, Any] = {"scope": SCOPE, "code_challenge_method": "S256", "timeout": 10}
        if not settings.OIDC_CLIENT_SECRET:
            client_kwargs["token_endpoint_auth_method"] = "none"  # a public client, like backend-client  # noqa: S105
        _clients[key] = OAuth().register(
            name="loculus",
            client_id=settings.OIDC_CLIENT_ID,
            client_secret=settings.OIDC_CLIENT_SECRET or None,
            server_metadata_url=f"{key[0]}/.well-known/openid-configuration",
            client_kwargs=client_kwargs,
        )
    return _clients[key]


def issuer_origin() -> str:
    parts = urlsplit(issuer())
    return f"{parts.scheme}://{parts.netloc}"


def start(request: HttpRequest, next_url: str) -> HttpResponse:
    """Send the browser to Keycloak's login; it comes back to the callback, then to next_url."""
    request.session["signin_next"] = next_url
    redirect_uri = request.build_absolute_uri(reverse("signin-callback"))
    try:
        return oidc_client().authorize_redirect(request, redirect_uri)
    except (OAuthError, OSError, ValueError) as exc:
        log.warning("Could not start sign-in with %s: %s", issuer(), exc.__class__.__name__)
        raise SignInFailed(
            f"The sign-in service at {issuer()} could not be reached. Please try again in a few minutes."
        ) from exc


def finish(request: HttpRequest) -> str:
    """Complete the code flow, sign the user in and keep their tokens. Returns where to go next."""
    if request.GET.get("error"):
        description = request.GET.get("error_description") or request.GET["error"]
        raise SignInFailed(f"The sign-in was not completed: {description}.")
    try:
        token = oidc_client().authorize_access_token(request)
    except OAuthError as exc:
        log.warning("Sign-in callback refused: %s", exc.error)
        if exc.error == "mismatching_state":
            raise SignInFailed("This sign-in link has expired or was already used. Please sign in again.") from exc
        raise SignInFailed(f"The sign-in service refused the sign-in ({exc.error}). Please try again.") from exc
    except (OSError, ValueError) as exc:
        log.warning("Sign-in callback failed: %s", exc.__class__.__name__)
        raise SignInFailed("The sign-in service could not be reached. Please try again.") from exc
    claims = token.get("userinfo") or {}
    username = claims.get("preferred_username")
    if not username:
        raise SignInFailed(
            "Your account's sign-in carries no user name (the preferred_username claim), which Loculus needs."
        )
    next_url = request.session.pop("signin_next", "/")
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    # Signing in again as the same user keeps the session, and with it any form the user had typed.
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    request.session.save()
    TokenSet.objects.update_or_create(
        session_id=request.session.session_key, defaults={"user": user, **_token_fields(token), "generation": 0}
    )
    log.info("%s signed in", username)
    return next_url


def _token_fields(token: dict[str, Any]) -> dict[str, Any]:
    now = timezone.now()
    expires_at = token.get("expires_at")
    access_expires = (
        datetime.fromtimestamp(int(expires_at), tz=UTC)
        if expires_at
        else now + timedelta(seconds=int(token.get("expires_in") or 300))
    )
    refresh_expires_in = token.get("refresh_expires_in")
    fields: dict[str, Any] = {
        "access_token": token["access_token"],
        "access_expires_at": access_expires,
        "refresh_expires_at": now + timedelta(seconds=int(refresh_expires_in)) if refresh_expires_in else None,
    }
    if token.get("refresh_token"):
        fields["refresh_token"] = token["refresh_token"]
    if token.get("id_token"):
        fields["id_token"] = token["id_token"]
    return fields


def _still_valid(tokens: TokenSet) -> bool:
    return tokens.access_expires_at > timezone.now() + timedelta(seconds=settings.OIDC_REFRESH_LEEWAY_SECONDS)


def current_tokens(request: HttpRequest) -> TokenSet:
    if not request.user.is_authenticated or not request.session.session_key:
        raise SignInRequired("not signed in")
    tokens = TokenSet.objects.filter(session_id=request.session.session_key).first()
    if tokens is None:
        raise SignInRequired("no tokens for this session")
    return tokens


def access_token(request: HttpRequest) -> str:
    """A valid access token for this session's user, refreshed first if it is about to expire."""
    tokens = current_tokens(request)
    if _still_valid(tokens):
        return tokens.access_token
    return _refresh(tokens.pk)


def _refresh(pk: int) -> str:
    with transaction.atomic():
        # Writing the row first takes the lock; the read after it sees any refresh that won the race.
        TokenSet.objects.filter(pk=pk).update(generation=F("generation"))
        tokens = TokenSet.objects.select_for_update().filter(pk=pk).first()
        if tokens is None:
            failure = "signed out meanwhile"
        elif _still_valid(tokens):
            return tokens.access_token
        elif not tokens.refresh_token or (tokens.refresh_expires_at and tokens.refresh_expires_at <= timezone.now()):
            tokens.delete()
            failure = "the refresh token has expired"
        else:
            try:
                fresh = _refresh_grant(tokens.refresh_token)
            except (OAuthError, OSError, ValueError, KeyError) as exc:
                log.info("Refreshing %s's token failed (%s); signing in again", tokens.user, exc.__class__.__name__)
                tokens.delete()
                failure = "the refresh failed"
            else:
                for name, value in _token_fields(fresh).items():
                    setattr(tokens, name, value)
                tokens.generation += 1
                tokens.save()
                log.info("Refreshed the token of %s (generation %d)", tokens.user, tokens.generation)
                return tokens.access_token
    # Raised only after the transaction committed, so the deletion above stands.
    raise SignInRequired(failure)


def _refresh_grant(refresh_token: str) -> dict[str, Any]:
    metadata = oidc_client().load_server_metadata()
    session = OAuth2Session(
        client_id=settings.OIDC_CLIENT_ID,
        client_secret=settings.OIDC_CLIENT_SECRET or None,
        token_endpoint_auth_method="client_secret_basic" if settings.OIDC_CLIENT_SECRET else "none",
    )
    try:
        return dict(session.refresh_token(metadata["token_endpoint"], refresh_token=refresh_token, timeout=10))
    finally:
        session.close()


def refused_again(request: HttpRequest) -> bool:
    """After a backend 401: forget the tokens, and say whether this already happened just now.

    The first refusal leads to a new sign-in. A second one right after it means the backend does
    not accept this issuer's tokens at all, and signing in again would only loop.
    """
    TokenSet.objects.filter(session_id=request.session.session_key).delete()
    now = timezone.now().timestamp()
    previous = request.session.get("backend_refused_at")
    request.session["backend_refused_at"] = now
    return previous is not None and now - float(previous) < REFUSED_AGAIN_SECONDS


def sign_out(request: HttpRequest) -> str:
    """End the portal session; return the Keycloak end-session URL (no token in it), or home."""
    home = request.build_absolute_uri(reverse("home"))
    TokenSet.objects.filter(session_id=request.session.session_key).delete()
    username = request.user.get_username() if request.user.is_authenticated else ""
    logout(request)
    if username:
        log.info("%s signed out", username)
    try:
        endpoint = oidc_client().load_server_metadata().get("end_session_endpoint")
    except (OAuthError, OSError, ValueError, instance.InstanceUnavailable):
        endpoint = None
    if not endpoint:
        return home
    query = urlencode({"client_id": settings.OIDC_CLIENT_ID, "post_logout_redirect_uri": home})
    return f"{endpoint}?{query}"
