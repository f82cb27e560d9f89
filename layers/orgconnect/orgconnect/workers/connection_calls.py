"""What the workers that call a conferencing connection share: how they get its adapter, and
which errors skip that connection for now (the others go on; the next run tries it again).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from orgconnect.domain.connection_credentials import ConnectionNeedsReauthorization, CredentialsMissing
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.provider_model import ProviderError
from orgconnect.observability import logger

if TYPE_CHECKING:
    from orgconnect.providers.conferencing import ConferencingAdapter

#: The conferencing adapter of a connection: (profile provider name, access token, tenant) -> adapter.
AdapterFactory = Callable[[str, str, "str | None"], "ConferencingAdapter"]

#: A provider failure or outage, or credentials to authorize again or gone: skip the connection.
CONNECTION_SKIPPED = (
    ProviderError,
    TemporarilyUnavailable,
    ConnectionNeedsReauthorization,
    CredentialsMissing,
)


def log_connection_skipped(message: str, connection_id: str, error: Exception) -> None:
    """A warning naming the connection and the error's type (never its text: it may name a user)."""
    logger.warning(message, extra={"connection_id": connection_id, "why": type(error).__name__})
