"""The answers of ``GET|PUT …/conferencing_connections/{connection_id}/provisioning`` (SPEC 2.5;
issue 11 item 2): the ``provisioning`` object, its errors (422 for a provider without
provisioning, 409 for a stale ``version``) and its JSON Schemas for the OpenAPI document.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from orgconnect.domain.errors import FieldError
from orgconnect.domain.provisioning_policy import (
    ADDRESS_ATTRIBUTES,
    BOOLEAN_SETTINGS,
    IO_RETRIES_DEFAULT,
    IO_RETRIES_MAX,
    IO_RETRIES_MIN,
    MAX_CONSTANT_LENGTH,
    PAGE_SIZE_DEFAULT,
    PAGE_SIZE_MAX,
    PAGE_SIZE_MIN,
    PROVISIONING_PROVIDERS,
    ZOOM_ATTRIBUTES,
    CreateAction,
    DirectoryAttribute,
    ProvisioningPolicy,
    RemoveAction,
    StoredPolicy,
    ZoomUserType,
)
from orgconnect.domain.provisioning_policy_management import ProvisioningNotSupported, StaleVersion
from orgconnect.web.api import BodySchema
from orgconnect.web.errors import errors_body, json_response
from orgconnect.web.openapi import SCHEMAS


def iso_time(epoch_seconds: int) -> str:
    """``2026-11-29T17:00:00Z``."""
    return datetime.fromtimestamp(epoch_seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def provisioning_body(stored: StoredPolicy) -> dict[str, Any]:
    """The ``provisioning`` object: every setting, its ``version``, ``updated_at`` (null until set)
    and ``pending_removal`` (null unless a policy-off removal is still being finished by syncs)."""
    pending = stored.pending_removal
    return {
        **stored.policy.to_document(),
        "version": stored.version,
        "updated_at": iso_time(stored.updated_at) if stored.updated_at is not None else None,
        "pending_removal": (
            {"since": iso_time(pending.since), "remove_action": str(pending.policy.remove_action)}
            if pending is not None
            else None
        ),
    }


def _not_supported(error: ProvisioningNotSupported) -> Response[Any]:
    supported = ", ".join(PROVISIONING_PROVIDERS)
    found = FieldError(
        "connection_id",
        "errors.provisioning_not_supported",
        f"Provisioning is available for {supported} connections only; this one is {error.provider_name}.",
    )
    return json_response(422, errors_body([found]))


def _stale(error: StaleVersion) -> Response[Any]:
    found = FieldError(
        "provisioning.version",
        "errors.stale_version",
        f"The policy changed since version {error.sent} (it is now version {error.current}); "
        "read it again and reapply your change.",
    )
    return json_response(409, errors_body([found]))


def register_policy_errors(app: APIGatewayRestResolver) -> None:
    """The answers to the policy routes' own exceptions (on top of orgconnect.web.errors)."""
    app.exception_handler(ProvisioningNotSupported)(_not_supported)
    app.exception_handler(StaleVersion)(_stale)


# -- the OpenAPI document ---------------------------------------------------------------------

_DEFAULTS = ProvisioningPolicy().to_document()
_TARGET_SCHEMAS: dict[str, Any] = {}
for _name, _target in ZOOM_ATTRIBUTES.items():
    _choices: list[dict[str, Any]] = []
    if _target.directory:
        _choices.append(
            {
                "type": "object",
                "required": ["directory"],
                "additionalProperties": False,
                "properties": {"directory": {"enum": sorted(str(a) for a in _target.directory)}},
            }
        )
    if isinstance(_target.constant, frozenset):
        _constant: dict[str, Any] = {"enum": sorted(_target.constant)}
    elif _target.constant is not None:
        _constant = {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_CONSTANT_LENGTH,
            "pattern": _target.constant.pattern,
        }
    if _target.constant is not None:
        _choices.append(
            {
                "type": "object",
                "required": ["constant"],
                "additionalProperties": False,
                "properties": {"constant": _constant},
            }
        )
    _TARGET_SCHEMAS[_name] = _choices[0] if len(_choices) == 1 else {"oneOf": _choices}

# The rules between settings, so that every schema-valid body is accepted: user_name maps from
# the same address as email, and a mapped type is the user_type (Basic when left out).
_SAME_ADDRESS = {
    "anyOf": [
        {
            "properties": {
                "email": {"const": {"directory": str(a)}},
                "user_name": {"const": {"directory": str(a)}},
            }
        }
        for a in sorted(ADDRESS_ATTRIBUTES)
    ]
}
_ATTRIBUTE_MAPPING = {
    "type": "object",
    "description": (
        "Zoom attribute -> its source: a calendar-directory attribute or a constant. Must map "
        "`email`; `user_name`, when mapped, from the same source; `type` only as the user_type. "
        "Directory attributes: " + ", ".join(str(a) for a in DirectoryAttribute) + "."
    ),
    "required": ["email"],
    "additionalProperties": False,
    "properties": _TARGET_SCHEMAS,
    **_SAME_ADDRESS,
    "default": _DEFAULTS["attribute_mapping"],
}
_SETTINGS: dict[str, Any] = {
    **{name: {"type": "boolean", "default": _DEFAULTS[name]} for name in BOOLEAN_SETTINGS},
    "remove_action": {"enum": [str(a) for a in RemoveAction], "default": _DEFAULTS["remove_action"]},
    "create_action": {"enum": [str(a) for a in CreateAction], "default": _DEFAULTS["create_action"]},
    "user_type": {"enum": [str(t) for t in ZoomUserType], "default": _DEFAULTS["user_type"]},
    "attribute_mapping": {"$ref": SCHEMAS + "ProvisioningAttributeMapping"},
    "page_size": {
        "type": "integer",
        "minimum": PAGE_SIZE_MIN,
        "maximum": PAGE_SIZE_MAX,
        "default": PAGE_SIZE_DEFAULT,
    },
    "io_retries": {
        "type": "integer",
        "minimum": IO_RETRIES_MIN,
        "maximum": IO_RETRIES_MAX,
        "default": IO_RETRIES_DEFAULT,
    },
}
_VERSION = {"type": "integer", "minimum": 0, "description": "0 until the first PUT"}
_UPDATED_AT = {"type": ["string", "null"], "description": "ISO 8601 UTC; null until the first PUT"}
_PENDING_REMOVAL = {
    "type": ["object", "null"],
    "description": (
        "The users a policy-off removal (deprovision_on_policy_removal) has still to remove: the "
        "connection's syncs continue it until none is left; null when there is none. Any PUT ends it."
    ),
    "required": ["since", "remove_action"],
    "additionalProperties": False,
    "properties": {
        "since": {"type": "string", "description": "ISO 8601 UTC: when the policy was turned off"},
        "remove_action": {"enum": [str(a) for a in RemoveAction]},
    },
}

_POLICY = {
    "type": "object",
    "description": "A provisioning policy (docs/provisioning.md): what orgconnect may do to Zoom users.",
    "required": [*_SETTINGS, "version", "updated_at", "pending_removal"],
    "properties": {
        **_SETTINGS,
        "version": _VERSION,
        "updated_at": _UPDATED_AT,
        "pending_removal": _PENDING_REMOVAL,
    },
}
# Components (the request body carries them as $defs): the answers refer to them.
PROVISIONING_SCHEMA: dict[str, Any] = {"$ref": SCHEMAS + "ProvisioningPolicy"}
POLICY_ANSWER = {
    "type": "object",
    "required": ["provisioning"],
    "properties": {"provisioning": PROVISIONING_SCHEMA},
}
_TYPE_IS_USER_TYPE = [
    {
        "if": {
            "properties": {"user_type": {"const": str(t)}},
            **({} if t == _DEFAULTS["user_type"] else {"required": ["user_type"]}),
        },
        "then": {
            "properties": {
                "attribute_mapping": {"properties": {"type": {"properties": {"constant": {"const": str(t)}}}}}
            }
        },
    }
    for t in ZoomUserType
]
POLICY_REQUEST = BodySchema(
    "ProvisioningPolicyRequest",
    {
        "$defs": {"ProvisioningPolicy": _POLICY, "ProvisioningAttributeMapping": _ATTRIBUTE_MAPPING},
        "type": "object",
        "required": ["provisioning"],
        "additionalProperties": False,
        "properties": {
            "provisioning": {
                "type": "object",
                "description": "The whole policy: a setting left out takes its default.",
                "additionalProperties": False,
                "allOf": _TYPE_IS_USER_TYPE,
                "properties": {
                    **_SETTINGS,
                    "version": {
                        **_VERSION,
                        "description": "Optional: replace only at this version (409 if not)",
                    },
                    "updated_at": {**_UPDATED_AT, "description": "Read-only: ignored"},
                    "pending_removal": {"type": ["object", "null"], "description": "Read-only: ignored"},
                },
            }
        },
    },
)
