"""What account tokens (delegated access) see: the token response and ``GET /v1/userinfo``, in
Cronofy's documented account shapes (reference: its token and userinfo examples)."""

from __future__ import annotations

from typing import Any

from orgconnect.domain.accounts import Account
from orgconnect.domain.grants import AccessGrant, TokenSet


def linking_profile(account: Account) -> dict[str, str]:
    """The calendar profile the account was linked with."""
    profile = account.profile
    return {
        "provider_name": str(profile.provider),
        "profile_id": profile.profile_id,
        "profile_name": profile.profile_name,
    }


def account_token_body(tokens: TokenSet, account: Account | None) -> dict[str, Any]:
    """The token response of an account grant: ``account_id``, ``sub`` and ``linking_profile``."""
    body: dict[str, Any] = {
        "token_type": "bearer",
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
        "scope": tokens.scope,
        "account_id": tokens.sub,
        "sub": tokens.sub,
    }
    if account is not None:
        body["linking_profile"] = linking_profile(account)
    return body


def account_userinfo(grant: AccessGrant, account: Account) -> dict[str, Any]:
    """Cronofy's account userinfo: the calendar profile, and the conferencing profiles (none yet:
    matching the account against the OU's conferencing connections is a later step)."""
    profile = {
        **linking_profile(account),
        "profile_connected": True,
        "profile_initial_sync_required": False,
        "profile_calendars": [],
    }
    body: dict[str, Any] = {
        "sub": account.account_id,
        "email": account.email,
        "cronofy.type": "account",
        "cronofy.data": {
            "authorization": {"scope": grant.scope, "status": "active"},
            "profiles": [profile],
            "conferencing_profiles": [],
        },
    }
    if account.name:
        body["name"] = account.name
    return body
