"""Integrator applications: registration and API-key authentication."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

from msgspec import Struct

from orgconnect.domain.credential_syntax import is_bearer_credential
from orgconnect.domain.errors import AuthenticationFailed, InvalidRequest
from orgconnect.domain.model import AdminProofPolicy, ApiKey, Client, ConferencingCategory
from orgconnect.domain.ports import ClientStore
from orgconnect.domain.secrets import SecretHasher, new_id, new_secret

CLIENT_SECRET_PURPOSE = "client_secret"  # noqa: S105 - a hash domain label, not a secret
LOOPBACK_HOSTS = frozenset({"localhost"})


class NewClient(Struct, frozen=True):
    """A freshly registered client. ``client_secret`` exists only here, never in storage."""

    client: Client
    client_secret: str


def validate_redirect_uri(uri: str) -> str:
    """Check a redirect URI before registration (anchors R3).

    Absolute, no fragment, no userinfo, and ``https`` unless the host is loopback (local development).
    Returns the URI unchanged: it is later compared by exact string match (R1).
    """
    parts = urlsplit(uri)
    problem = None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        problem = "must be an absolute http(s) URL"
    elif parts.fragment or "#" in uri:
        problem = "must not contain a fragment"
    elif parts.username or parts.password:
        problem = "must not contain credentials"
    elif parts.scheme == "http" and not _is_loopback(parts.hostname):
        problem = "must use https (http is allowed only for loopback addresses)"
    if problem:
        raise InvalidRequest.single("redirect_uri", "errors.invalid", f"{uri!r} {problem}")
    return uri


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def register_client(
    *,
    name: str,
    redirect_uris: Iterable[str],
    categories: Iterable[ConferencingCategory] = (ConferencingCategory.GENERAL,),
    admin_proof_policy: AdminProofPolicy = AdminProofPolicy.WHEN_UNLINKED,
    store: ClientStore,
    hasher: SecretHasher,
    now: int,
) -> NewClient:
    """Register an integrator application and return its one-time plain client secret."""
    name = name.strip()
    if not name:
        raise InvalidRequest.single("name", "errors.required", "the application needs a name")
    uris = tuple(validate_redirect_uri(u) for u in redirect_uris)
    if not uris:
        raise InvalidRequest.single("redirect_uri", "errors.required", "register at least one redirect URI")
    cats = tuple(dict.fromkeys(categories))
    if not cats:
        raise InvalidRequest.single("categories", "errors.required", "enable at least one category")
    secret = new_secret()
    client = Client(
        client_id=new_id("cli"),
        name=name,
        secret_digest=hasher.digest(CLIENT_SECRET_PURPOSE, secret),
        redirect_uris=uris,
        categories=cats,
        admin_proof_policy=admin_proof_policy,
        created_at=now,
    )
    store.create_client(client)
    return NewClient(client=client, client_secret=secret)


def bearer_token(authorization_header: str | None) -> str | None:
    """The credentials of an ``Authorization: Bearer …`` header, or None."""
    if not authorization_header:
        return None
    scheme, _, credentials = authorization_header.strip().partition(" ")
    credentials = credentials.strip()
    if scheme.lower() != "bearer" or not credentials or " " in credentials:
        return None
    return credentials


def authenticate_api_key(api_key: str | None, *, store: ClientStore, hasher: SecretHasher) -> ApiKey:
    """The client whose ``client_secret`` is ``api_key`` (Cronofy application auth).

    One read: the API-key item carries the client id, so callers that need only the identity
    (most endpoints) never load the client. The secret is looked up by its keyed digest and
    compared in constant time. Every failure
    raises the same AuthenticationFailed, so the answer never tells which part was wrong.
    """
    if not api_key:
        raise AuthenticationFailed(credentials_presented=False)
    if not is_bearer_credential(api_key):
        raise AuthenticationFailed()
    key = store.get_api_key(hasher.digest(CLIENT_SECRET_PURPOSE, api_key))
    if key is None or not hasher.matches(CLIENT_SECRET_PURPOSE, api_key, key.secret_digest):
        raise AuthenticationFailed()
    return key
