"""OU authorization link tokens (SPEC section 2.1; anchors L1, L2, K4).

A link token is minted by an authenticated integrator for one of its service accounts. It is
single-use, short-lived, has 256 bits of randomness and is stored only as a keyed digest,
bound to the client and the service account at mint time.
"""

from __future__ import annotations

from orgconnect.domain.credential_syntax import is_id
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.lifetimes import LINK_TOKEN_MAX_TTL_SECONDS, LINK_TOKEN_MIN_TTL_SECONDS
from orgconnect.domain.model import ApiKey, LinkTokenGrant
from orgconnect.domain.ports import LinkTokenStore, ServiceAccountNotFound
from orgconnect.domain.secrets import SecretHasher, new_secret

LINK_TOKEN_PURPOSE = "ou_link_token"  # noqa: S105 - a hash domain label, not a secret

_SERVICE_ACCOUNT_INVALID = (
    "must be the id of a service account authorized for this application through Enterprise Connect"
)


def check_ttl(ttl_seconds: int) -> int:
    """Reject a configured lifetime outside 1 minute to 4 hours."""
    if not LINK_TOKEN_MIN_TTL_SECONDS <= ttl_seconds <= LINK_TOKEN_MAX_TTL_SECONDS:
        raise ValueError(
            f"link token TTL must be between {LINK_TOKEN_MIN_TTL_SECONDS} and "
            f"{LINK_TOKEN_MAX_TTL_SECONDS} seconds"
        )
    return ttl_seconds


def mint_link_token(
    caller: ApiKey,
    service_account_id: object,
    *,
    store: LinkTokenStore,
    hasher: SecretHasher,
    now: int,
    ttl_seconds: int,
) -> str:
    """Mint a link token for ``service_account_id`` and return it (the only time it exists in clear).

    An unknown service account and another client's service account get the same answer, so the
    endpoint is no oracle for which ids exist.
    """
    if service_account_id is None or service_account_id == "":
        raise InvalidRequest.single("service_account_id", "errors.required", "service_account_id is required")
    if not isinstance(service_account_id, str) or not is_id(service_account_id, "ser"):
        raise InvalidRequest.single("service_account_id", "errors.invalid", _SERVICE_ACCOUNT_INVALID)
    token = new_secret()
    grant = LinkTokenGrant(
        client_id=caller.client_id,
        service_account_id=service_account_id,
        created_at=now,
        expires_at=now + check_ttl(ttl_seconds),
    )
    try:
        store.put_link_token(hasher.digest(LINK_TOKEN_PURPOSE, token), grant)
    except ServiceAccountNotFound:
        raise InvalidRequest.single(
            "service_account_id", "errors.invalid", _SERVICE_ACCOUNT_INVALID
        ) from None
    return token
