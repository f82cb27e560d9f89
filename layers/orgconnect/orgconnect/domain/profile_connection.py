"""Whether a conferencing profile is connected, from its user's status and its connection's status,
and where a disconnected profile is relinked (docs/connections.md, Re-authorization).

A connection's status is never copied onto its profiles: a deauthorization or a refused refresh
token is one write to the connection, and a relink restoring it reconnects every profile at once,
without a new match. :func:`profile_connected` is the one place that decides it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from orgconnect.domain.conferencing import UserStatus
from orgconnect.domain.matching import ConferencingProfile, profile_userinfo
from orgconnect.domain.model import ConnectionStatus

#: The page that sends an Organizational Unit's administrator through the flow again for one connection.
RELINK_PATH = "/organizational_unit_oauth/relink"


def profile_connected(profile: ConferencingProfile, connection_status: ConnectionStatus | None) -> bool:
    """A profile is connected when its user can host and its connection is ``connected``
    (``None``: the connection was removed)."""
    return profile.connected and connection_status is ConnectionStatus.CONNECTED


def connection_relink_url(app_url: str, connection_id: str) -> str:
    """orgconnect's page that starts the OU flow again for ``connection_id`` (no secret in it: the
    administrator must authorize the very same provider account there)."""
    return f"{app_url.rstrip('/')}{RELINK_PATH}?{urlencode({'connection_id': connection_id})}"


def profile_body(
    profile: ConferencingProfile, connection_status: ConnectionStatus | None, *, app_url: str
) -> dict[str, Any]:
    """The profile as ``conferencing_profiles[]`` of an account's userinfo: a profile of a
    connection that needs reauthorization (or was revoked) is not connected and its
    ``profile_relink_url`` relinks the connection; else the user's own standing decides."""
    body = profile_userinfo(profile)
    if connection_status is ConnectionStatus.CONNECTED:
        return body
    body["profile_connected"] = profile_connected(profile, connection_status)
    body.pop("profile_relink_url", None)
    # Relinking helps a user who can host (or will once invited): not a deactivated one.
    if connection_status is not None and profile.status in (UserStatus.ACTIVE, UserStatus.PENDING):
        body["profile_relink_url"] = connection_relink_url(app_url, profile.connection_id)
    return body
