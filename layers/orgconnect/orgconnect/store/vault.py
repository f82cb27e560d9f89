"""Secrets Manager access: the pepper, the keyring, orgconnect's provider apps, connection credentials."""

from __future__ import annotations

import base64
import json
import uuid
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import ClientError

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import ProviderApp

if TYPE_CHECKING:
    from orgconnect.domain.connection_credentials import StoredCredentials
    from orgconnect.domain.sealing import Sealer

#: Names the successor version of a refreshed secret version (uuid5 of the secret and its base).
REFRESH_NAMESPACE = uuid.UUID("6f1c2a8e-4b7d-5e90-9a3c-1d2e3f405162")

# The pepper never changes without a migration, so one read per cold start (cached for an hour)
# keeps it off the per-request path.
PEPPER_CACHE_SECONDS = 3600


def load_pepper(secret_id: str, *, client: Any = None) -> bytes:
    """The deployment's hashing pepper from Secrets Manager.

    The secret is either a plain string (as CloudFormation's GenerateSecretString makes it) or a
    JSON object with a ``pepper`` key; either way at least 32 bytes. ``client`` is an optional
    boto3 Secrets Manager client (the admin CLI passes one for the stack it targets).
    """
    value = _secret(secret_id, client)
    if value.lstrip().startswith("{"):
        value = str(json.loads(value)["pepper"])
    pepper = value.encode()
    if len(pepper) < 32:
        # Base64 keys are allowed too; decode only when the plain form is too short.
        pepper = base64.b64decode(value)
    return pepper


def _secret(secret_id: str, client: Any) -> str:
    """A secret's string, through Powertools; ``client`` (optional) is the Secrets Manager client
    to use. Without one Powertools builds its own boto3 session, which loads botocore's data
    files again: ~55 ms of a cold start's first request when the function already has a client."""
    if client is not None:
        raw = parameters.SecretsProvider(boto3_client=client).get(secret_id, max_age=PEPPER_CACHE_SECONDS)
    else:
        raw = parameters.get_secret(secret_id, max_age=PEPPER_CACHE_SECONDS)
    return raw.decode() if isinstance(raw, bytes) else str(raw)


def load_provider_apps(secret_id: str, *, client: Any = None) -> dict[str, ProviderApp]:
    """orgconnect's OAuth apps: ``{"zoom": {"client_id": ..., "client_secret": ...,
    "webhook_secret_token": ...}, ...}`` (the webhook secret token is optional; docs/webhooks.md)."""
    if not secret_id:
        return {}
    data = json.loads(_secret(secret_id, client))
    return {
        key: ProviderApp(
            str(app["client_id"]),
            str(app["client_secret"]),
            str(app["webhook_secret_token"]) if app.get("webhook_secret_token") else None,
        )
        for key, app in data.items()
        if isinstance(app, dict) and app.get("client_id") and app.get("client_secret")
    }


def load_sealer(secret_id: str, *, client: Any = None) -> Sealer:
    """The AES-256-GCM keyring: a plain generated string (key ``k1``) or
    ``{"current": "k2", "keys": {"k1": "...", "k2": "..."}}`` (rotation: add a key, point current at it)."""
    # Imported here: only the flow functions seal, the others need not load cryptography.
    from orgconnect.domain.sealing import Sealer, key_from_material

    text = _secret(secret_id, client)
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        keys = {str(kid): key_from_material(str(material)) for kid, material in data["keys"].items()}
        return Sealer(keys, str(data["current"]))
    return Sealer({"k1": key_from_material(text)}, "k1")


class ConnectionVault:
    """One Secrets Manager secret per connection, holding its provider tokens (never returned to
    integrators, F6). Only the approval step writes here, so abandoned flows leave nothing."""

    def __init__(self, client: Any, *, prefix: str) -> None:
        self._sm = client
        self._prefix = prefix

    def create(self, connection_id: str, tokens: dict[str, Any]) -> str:
        """Create the connection's secret; returns its ARN."""
        try:
            created = self._sm.create_secret(
                Name=f"{self._prefix}{connection_id}",
                SecretString=json.dumps(tokens),
                Description="orgconnect conferencing connection credentials",
            )
        except ClientError as error:
            raise TemporarilyUnavailable(f"CreateSecret: {error.response['Error']['Code']}") from error
        return str(created["ARN"])

    def replace(self, secret_arn: str, tokens: dict[str, Any]) -> None:
        """Relinking the same provider account: new tokens, same secret ("in place")."""
        try:
            self._sm.put_secret_value(SecretId=secret_arn, SecretString=json.dumps(tokens))
        except ClientError as error:
            raise TemporarilyUnavailable(f"PutSecretValue: {error.response['Error']['Code']}") from error

    def delete(self, secret_arn: str) -> None:
        """Delete the secret at once, without a recovery window (undoing a :meth:`create` whose
        transaction failed, or a revoked connection's credentials); one already gone is fine."""
        try:
            self._sm.delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code != "ResourceNotFoundException":
                raise TemporarilyUnavailable(f"DeleteSecret: {code}") from error

    def read(self, secret_arn: str) -> dict[str, Any] | None:
        """The connection's credentials (JSON), or None when the secret is gone."""
        try:
            value = self._sm.get_secret_value(SecretId=secret_arn)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise TemporarilyUnavailable(f"GetSecretValue: {error.response['Error']['Code']}") from error
        data = json.loads(value["SecretString"])
        return data if isinstance(data, dict) else None

    def read_current(self, secret_arn: str) -> StoredCredentials | None:
        """The current version (its id and JSON), or None when the secret is gone."""
        from orgconnect.domain.connection_credentials import StoredCredentials

        try:
            value = self._sm.get_secret_value(SecretId=secret_arn)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise TemporarilyUnavailable(f"GetSecretValue: {error.response['Error']['Code']}") from error
        data = json.loads(value["SecretString"])
        return StoredCredentials(str(value["VersionId"]), data if isinstance(data, dict) else {})

    def replace_current(self, secret_arn: str, base_version: str, data: dict[str, Any]) -> str:
        """Make ``data`` the current version, as the one successor of ``base_version``.

        The version's ClientRequestToken is derived from ``base_version``, so Secrets Manager
        accepts one successor per version: a second writer that refreshed from the same version
        gets ResourceExistsException (StaleCredentials), whatever the timing. A writer whose base
        was replaced another way (a relink) is caught by reading the current version just before.
        """
        from orgconnect.domain.connection_credentials import StaleCredentials

        current = self.read_current(secret_arn)
        if current is None or current.version != base_version:
            raise StaleCredentials(f"the current version is no longer {base_version}")
        successor = str(uuid.uuid5(REFRESH_NAMESPACE, f"{secret_arn}#{base_version}"))
        try:
            put = self._sm.put_secret_value(
                SecretId=secret_arn, SecretString=json.dumps(data), ClientRequestToken=successor
            )
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in ("ResourceExistsException", "ResourceNotFoundException"):
                raise StaleCredentials(f"{base_version} was already replaced") from error
            raise TemporarilyUnavailable(f"PutSecretValue: {code}") from error
        return str(put["VersionId"])
