"""The body of ``POST /v1/organizational_unit/conferencing_connections``: which provider, and the
Server-to-Server credentials to test (validated here; never echoed in an error or a log)."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from orgconnect.domain.errors import FieldError, InvalidRequest
from orgconnect.domain.redacted import Redacted

SERVER_TO_SERVER_PROVIDERS = ("zoom_enterprise",)
# Zoom's ids and secrets are short base64url/alphanumeric strings; visible ASCII bounds them safely.
_CREDENTIAL = re.compile(r"^[\x21-\x7e]+$")
MAX_ID_LENGTH = 128
MAX_SECRET_LENGTH = 256


class AuthorizationType(StrEnum):
    """How orgconnect holds a connection's provider credentials."""

    OAUTH = "oauth"  # linked by an administrator in the browser flow (access + refresh token)
    SERVER_TO_SERVER = "server_to_server"  # account id, client id, client secret (Zoom S2S)


class ServerToServerCredentials(Redacted, frozen=True):
    """A Zoom Server-to-Server OAuth app's credentials."""

    __redacted__ = frozenset({"client_secret"})

    account_id: str
    client_id: str
    client_secret: str

    def to_secret(self) -> dict[str, str]:
        """What the connection's secret holds."""
        return {
            "authorization_type": str(AuthorizationType.SERVER_TO_SERVER),
            "account_id": self.account_id,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
        }

    @classmethod
    def from_secret(cls, data: dict[str, Any]) -> ServerToServerCredentials:
        return cls(str(data["account_id"]), str(data["client_id"]), str(data["client_secret"]))


def parse_new_connection(body: dict[str, Any]) -> tuple[str, ServerToServerCredentials]:
    """``{"provider_name", "server_to_server": {"account_id", "client_id", "client_secret"}}``,
    or InvalidRequest naming every faulty field (never echoing a value)."""
    errors: list[FieldError] = []
    provider = body.get("provider_name")
    if provider is None or provider == "":
        errors.append(FieldError("provider_name", "errors.required", "provider_name is required"))
    elif provider not in SERVER_TO_SERVER_PROVIDERS:
        allowed = ", ".join(SERVER_TO_SERVER_PROVIDERS)
        errors.append(
            FieldError("provider_name", "errors.invalid", f"Server-to-Server connections support: {allowed}")
        )
    s2s = body.get("server_to_server")
    values: dict[str, str] = {}
    if s2s is None:
        errors.append(FieldError("server_to_server", "errors.required", "server_to_server is required"))
    elif not isinstance(s2s, dict):
        errors.append(FieldError("server_to_server", "errors.invalid", "server_to_server must be an object"))
    else:
        for name, limit in (
            ("account_id", MAX_ID_LENGTH),
            ("client_id", MAX_ID_LENGTH),
            ("client_secret", MAX_SECRET_LENGTH),
        ):
            where, value = f"server_to_server.{name}", s2s.get(name)
            if value is None or value == "":
                errors.append(FieldError(where, "errors.required", f"{name} is required"))
            elif not isinstance(value, str):
                errors.append(FieldError(where, "errors.invalid", f"{name} must be a string"))
            elif len(value) > limit or not _CREDENTIAL.fullmatch(value):
                errors.append(
                    FieldError(
                        where, "errors.invalid", f"{name} must be 1 to {limit} visible ASCII characters"
                    )
                )
            else:
                values[name] = value
    if errors:
        raise InvalidRequest(*errors)
    return str(provider), ServerToServerCredentials(**values)
