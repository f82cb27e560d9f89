"""Single-table key layout. Every item has ``pk``/``sk`` and a ``type``; items with a lifetime
have ``expires_at`` (epoch seconds, the table's TTL attribute, checked on every read).

Secrets (client secrets, link tokens, codes, access and refresh tokens, state values, browser
secrets) appear only as keyed digests (``SecretHasher``), never in clear.

| item | pk | sk | gsi1pk / gsi1sk | lifetime |
|---|---|---|---|---|
| client | ``CLIENT#{cli}`` | ``CLIENT`` | | |
| API key | ``APIKEY#{digest}`` | ``APIKEY`` | | |
| service account | ``SERVICEACCOUNT#{ser}`` | ``SERVICEACCOUNT`` | ``OU#{ou}`` / ``SERVICEACCOUNT#{ser}`` | |
| OU link token | ``OULINKTOKEN#{digest}`` | ``OULINKTOKEN`` | | TTL (30 min) |
| authorization request | ``AUTHREQ#{arq}`` | ``AUTHREQ`` | | 1 h |
| provider OAuth state | ``OAUTHSTATE#{digest}`` | ``OAUTHSTATE`` | | 10 min |
| organizational unit | ``OU#{ou}`` | ``OU`` | | |
| conferencing connection | ``CONNECTION#{cnx}`` | ``CONNECTION`` | ``OU#{ou}`` / ``CONNECTION#{cnx}`` | |
| provider account link | ``PROVIDERACCOUNT#{cli}#{provider}#{account id}`` | ``PROVIDERACCOUNT`` | below | |
| authorization code | ``CODE#{digest}`` | ``CODE`` | | 10 min (configurable lower) |
| grant (token family) | ``GRANT#{grt}`` | ``GRANT`` | ``SUB#{cli}#{sub}`` / ``GRANT#{grt}`` | |
| access token | ``ACCESSTOKEN#{digest}`` | ``ACCESSTOKEN`` | | 1 h |
| refresh token | ``REFRESHTOKEN#{digest}`` | ``REFRESHTOKEN`` | | none (retired ones are kept) |
| refresh lease | ``CONNECTIONLEASE#{cnx}`` | ``CONNECTIONLEASE`` | | ≥ 30 s (connection_leases.py) |

A provider account link's gsi1 key is ``PROVIDERACCOUNT#{provider}#{account id}`` /
``CLIENT#{cli}``: a provider webhook names only the account, and finds every client's link.
"""

from __future__ import annotations


def _key(kind: str, ident: str) -> dict[str, str]:
    return {"pk": f"{kind}#{ident}", "sk": kind}


def client_key(client_id: str) -> dict[str, str]:
    return _key("CLIENT", client_id)


def api_key_key(secret_digest: str) -> dict[str, str]:
    return _key("APIKEY", secret_digest)


def service_account_key(service_account_id: str) -> dict[str, str]:
    return _key("SERVICEACCOUNT", service_account_id)


def link_token_key(token_digest: str) -> dict[str, str]:
    return _key("OULINKTOKEN", token_digest)


def authorization_request_key(request_id: str) -> dict[str, str]:
    return _key("AUTHREQ", request_id)


def oauth_state_key(state_digest: str) -> dict[str, str]:
    return _key("OAUTHSTATE", state_digest)


def organizational_unit_key(ou_id: str) -> dict[str, str]:
    return _key("OU", ou_id)


def connection_key(connection_id: str) -> dict[str, str]:
    return _key("CONNECTION", connection_id)


def provider_account_key(client_id: str, provider: str, account_id: str) -> dict[str, str]:
    return _key("PROVIDERACCOUNT", f"{client_id}#{provider}#{account_id}")


def code_key(code_digest: str) -> dict[str, str]:
    return _key("CODE", code_digest)


def grant_key(grant_id: str) -> dict[str, str]:
    return _key("GRANT", grant_id)


def access_token_key(token_digest: str) -> dict[str, str]:
    return _key("ACCESSTOKEN", token_digest)


def refresh_token_key(token_digest: str) -> dict[str, str]:
    return _key("REFRESHTOKEN", token_digest)


def ou_member_index(ou_id: str) -> str:
    """gsi1pk of everything that belongs to an OU (service accounts, connections)."""
    return f"OU#{ou_id}"


def provider_account_index(provider: str, account_id: str) -> str:
    """gsi1pk of every client's link to one provider account (provider webhooks name only the account)."""
    return f"PROVIDERACCOUNT#{provider}#{account_id}"


def grants_by_sub_index(client_id: str, sub: str) -> str:
    """gsi1pk of every grant of ``client_id`` for ``sub`` (revocation by sub)."""
    return f"SUB#{client_id}#{sub}"


def service_account_domain_key(client_id: str, provider: str, domain: str) -> dict[str, str]:
    """Which service account a client has for a calendar provider and domain (Enterprise Connect)."""
    return _key("SERVICEACCOUNTDOMAIN", f"{client_id}#{provider}#{domain}")
