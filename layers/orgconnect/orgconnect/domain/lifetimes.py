"""Lifetime bounds of what orgconnect issues: constants only, so the settings can check a
configured lifetime without loading the domain models (a cold-start cost)."""

from __future__ import annotations

LINK_TOKEN_MIN_TTL_SECONDS = 60
LINK_TOKEN_MAX_TTL_SECONDS = 4 * 3600
LINK_TOKEN_DEFAULT_TTL_SECONDS = 30 * 60
#: RFC 6749 §4.1.2 recommends at most 10 minutes for an authorization code.
MAX_CODE_TTL_SECONDS = 600
