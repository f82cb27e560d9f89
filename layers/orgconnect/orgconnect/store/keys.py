"""Single-table key layout. Every item has ``pk``/``sk``; items with a lifetime have ``expires_at``.

| item | pk | sk |
|---|---|---|
| client | ``CLIENT#{client_id}`` | ``CLIENT`` |
| API key | ``APIKEY#{secret digest}`` | ``APIKEY`` |
| service account | ``SERVICEACCOUNT#{ser_id}`` | ``SERVICEACCOUNT`` |
| OU link token | ``OULINKTOKEN#{token digest}`` | ``OULINKTOKEN`` |

Service accounts are also on ``gsi1``: ``CLIENT#{client_id}`` / ``SERVICEACCOUNT#{ser_id}``.
"""

from __future__ import annotations


def client_key(client_id: str) -> dict[str, str]:
    return {"pk": f"CLIENT#{client_id}", "sk": "CLIENT"}


def api_key_key(secret_digest: str) -> dict[str, str]:
    return {"pk": f"APIKEY#{secret_digest}", "sk": "APIKEY"}


def service_account_key(service_account_id: str) -> dict[str, str]:
    return {"pk": f"SERVICEACCOUNT#{service_account_id}", "sk": "SERVICEACCOUNT"}


def link_token_key(token_digest: str) -> dict[str, str]:
    return {"pk": f"OULINKTOKEN#{token_digest}", "sk": "OULINKTOKEN"}
