"""Client authentication at the token and revocation endpoints (anchors T1; RFC 6749 section 2.3.1)."""

from __future__ import annotations

from orgconnect.domain.clients import CLIENT_SECRET_PURPOSE
from orgconnect.domain.credential_syntax import is_id, is_vschar_credential
from orgconnect.domain.model import ApiKey
from orgconnect.domain.oauth_errors import InvalidClient
from orgconnect.domain.redacted import Redacted
from orgconnect.domain.secrets import SecretHasher

# Compared against when the client is unknown, so that case costs the same as a wrong secret.
_UNKNOWN_CLIENT_DIGEST = "0" * 64


class ClientCredentials(Redacted, frozen=True):
    """What the caller presented to authenticate as a client (body or HTTP Basic)."""

    __redacted__ = frozenset({"client_secret"})

    client_id: str
    client_secret: str


def check_client_credentials(credentials: ClientCredentials | None) -> ClientCredentials:
    """Refuse credentials that cannot belong to any client, before any storage read."""
    if credentials is None:
        raise InvalidClient("Client authentication is required.")
    if not is_id(credentials.client_id, "cli") or not is_vschar_credential(credentials.client_secret):
        raise InvalidClient("Client authentication failed.")
    return credentials


def authenticate_client(
    credentials: ClientCredentials, record: ApiKey | None, *, hasher: SecretHasher
) -> str:
    """The authenticated client id, comparing the secret in constant time (T1).

    An unknown client and a wrong secret take the same path and get the same answer.
    """
    expected = record.secret_digest if record is not None else _UNKNOWN_CLIENT_DIGEST
    matches = hasher.matches(CLIENT_SECRET_PURPOSE, credentials.client_secret, expected)
    if record is None or not matches or record.client_id != credentials.client_id:
        raise InvalidClient("Client authentication failed.")
    return record.client_id
