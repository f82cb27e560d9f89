"""JSON Schemas of the token and revocation request bodies, for the OpenAPI document.

They describe exactly what ``orgconnect.web.oauth_requests`` and the domain accept, so that a
request valid against them is never refused for its shape (schemathesis checks this): one
variant per ``grant_type``, the credential shapes of :mod:`orgconnect.domain.credential_syntax`
and the verifier of :mod:`orgconnect.domain.pkce`. Body credentials (``client_id`` and
``client_secret``, as Cronofy's SDKs send them) are the documented alternative to HTTP Basic.
"""

from __future__ import annotations

from typing import Any

from orgconnect.domain.credential_syntax import MAX_CREDENTIAL_LENGTH
from orgconnect.web.api import FORM, JSON, BodySchema

_REF = "#/components/schemas/"
# RFC 6749 appendix A: VSCHAR, bounded as credential_syntax bounds it.
_VSCHAR: dict[str, Any] = {
    "type": "string",
    "pattern": "^[ -~]+$",
    "minLength": 1,
    "maxLength": MAX_CREDENTIAL_LENGTH,
}


def _described(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {**schema, "description": description}


_AUTHORIZATION_CODE = {
    "type": "object",
    "title": "AuthorizationCodeTokenRequest",
    "required": ["grant_type", "code", "redirect_uri"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["authorization_code"]},
        "code": _described(_VSCHAR, "The code from the redirect to the redirect_uri."),
        "redirect_uri": {
            "type": "string",
            "minLength": 1,
            "maxLength": 2048,
            "description": "Exactly the redirect_uri of the authorization request.",
        },
        "code_verifier": {
            "type": "string",
            "pattern": "^[A-Za-z0-9._~-]{43,128}$",
            "description": (
                "RFC 7636: required when the authorization request had a code_challenge, refused otherwise."
            ),
        },
    },
}
_REFRESH_TOKEN = {
    "type": "object",
    "title": "RefreshTokenRequest",
    "required": ["grant_type", "refresh_token"],
    "properties": {
        "grant_type": {"type": "string", "enum": ["refresh_token"]},
        "refresh_token": _described(_VSCHAR, "The current refresh token of the grant."),
        "scope": {"type": "string", "description": "Ignored: the scope is always the original one."},
    },
}

TOKEN_REQUEST = BodySchema(
    "TokenRequest",
    {
        "description": (
            "One variant per grant_type. The client authenticates with HTTP Basic or with `client_id` "
            "and `client_secret` body parameters (not both)."
        ),
        "oneOf": [
            {"$ref": _REF + "AuthorizationCodeTokenRequest"},
            {"$ref": _REF + "RefreshTokenRequest"},
        ],
        "discriminator": {
            "propertyName": "grant_type",
            "mapping": {
                "authorization_code": _REF + "AuthorizationCodeTokenRequest",
                "refresh_token": _REF + "RefreshTokenRequest",
            },
        },
        "$defs": {
            "AuthorizationCodeTokenRequest": _AUTHORIZATION_CODE,
            "RefreshTokenRequest": _REFRESH_TOKEN,
        },
    },
    media_types=(JSON, FORM),
)

REVOCATION_REQUEST = BodySchema(
    "RevocationRequest",
    {
        "type": "object",
        "description": (
            "`token` or `sub` (token wins). The client authenticates with HTTP Basic or with "
            "`client_id` and `client_secret` body parameters (not both)."
        ),
        "properties": {
            # Empty values count as absent (RFC 6749 section 3.1); the anyOf needs one non-empty.
            "token": {
                "type": "string",
                "pattern": "^[ -~]*$",
                "maxLength": MAX_CREDENTIAL_LENGTH,
                "description": "An access or refresh token of the grant to revoke.",
            },
            "sub": {
                "type": "string",
                "pattern": "^([a-z]{2,4}_[0-9a-f]{24})?$",
                "description": "Revoke every grant of this application for this sub (ou_…).",
            },
            "token_type_hint": {"type": "string", "description": "Ignored (RFC 7009 section 2.1)."},
            "request_pii_erasure": {
                "enum": [True, False, "true", "false"],
                "description": (
                    "An account leaves: its Zoom users are removed per each connection's "
                    "provisioning policy (docs/provisioning.md)."
                ),
            },
        },
        "anyOf": [
            {"required": ["token"], "properties": {"token": {"minLength": 1}}},
            {"required": ["sub"], "properties": {"sub": {"minLength": 1}}},
        ],
    },
    media_types=(JSON, FORM),
)
