"""The provisioning policy of a conferencing connection (SPEC 2.5 and 4; issue 11 item 2; seeds 003
and 004): which users orgconnect may create, update, disable or remove at the provider, and how.

Pure: the settings, their defaults, and the parsing and validation of a policy document (a
``PUT …/provisioning`` body, or what the store holds). Reading and replacing a connection's
policy: domain/provisioning_policy_management.py; applying it: domain/provisioning.py (the plan)
and workers/provisioning.py (docs/provisioning.md).
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

from msgspec import Struct, field

from orgconnect.domain.errors import FieldError, InvalidRequest

# Only Zoom has a user-management API orgconnect provisions through today.
PROVISIONING_PROVIDERS = ("zoom_enterprise",)
PAGE_SIZE_MIN, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT = 30, 300, 300  # Zoom's List users page_size bounds
IO_RETRIES_MIN, IO_RETRIES_MAX, IO_RETRIES_DEFAULT = 0, 10, 5  # seed 004's "IO Error Retries" default
MAX_CONSTANT_LENGTH = 128
_TEXT = re.compile(r"^[^\x00-\x1f\x7f]+$")  # printable: no control characters
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{2,31}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")  # Zoom's language codes: en-US, fr-FR, ja-JP …


class RemoveAction(StrEnum):
    """What removing a user does at Zoom (seed 004: Deactivate / Disassociate / Delete On Delete)."""

    DEACTIVATE = "deactivate"  # PUT /users/{id}/status deactivate: no login, licences freed
    DISASSOCIATE = "disassociate"  # DELETE /users/{id}: the login survives as a Basic account of its own
    DELETE = "delete"  # DELETE /users/{id}?action=delete: permanent


class CreateAction(StrEnum):
    """Zoom's ``POST /users`` ``action``."""

    CREATE = "create"  # Zoom emails an activation link; the user is pending until it is used
    AUTO_CREATE = "autoCreate"  # managed domains only; active at once
    CUST_CREATE = "custCreate"  # no password, no Zoom login (ISV accounts)
    SSO_CREATE = "ssoCreate"  # "Pre-provisioning SSO User"; no password


class ZoomUserType(StrEnum):
    """Zoom's user ``type`` that orgconnect may give (1 Basic, 2 Licensed)."""

    BASIC = "Basic"
    LICENSED = "Licensed"

    @property
    def zoom_type(self) -> int:
        """The number Zoom's API takes."""
        return 1 if self is ZoomUserType.BASIC else 2


class DirectoryAttribute(StrEnum):
    """An attribute of a user in the calendar directory (Google Workspace / Microsoft 365)."""

    EMAIL = "email"  # primaryEmail / mail
    USER_PRINCIPAL_NAME = "user_principal_name"  # primaryEmail / userPrincipalName
    GIVEN_NAME = "given_name"  # name.givenName / givenName
    FAMILY_NAME = "family_name"  # name.familyName / surname
    DISPLAY_NAME = "display_name"  # name.fullName / displayName
    PHONE = "phone"  # phones[type=work] / businessPhones[0]
    MOBILE_PHONE = "mobile_phone"  # phones[type=mobile] / mobilePhone
    JOB_TITLE = "job_title"  # organizations[primary].title / jobTitle
    DEPARTMENT = "department"  # organizations[primary].department / department
    ORGANIZATION = "organization"  # organizations[primary].name / companyName
    LOCALE = "locale"  # languages[0] / preferredLanguage
    EMPLOYEE_ID = "employee_id"  # externalIds[organization] / employeeId
    ACTIVE = "active"  # not suspended / accountEnabled


_TEXT_ATTRIBUTES = frozenset(DirectoryAttribute) - {DirectoryAttribute.ACTIVE}
ADDRESS_ATTRIBUTES = frozenset({DirectoryAttribute.EMAIL, DirectoryAttribute.USER_PRINCIPAL_NAME})


class _Target(Struct, frozen=True):
    """What a Zoom attribute may be mapped from: directory attributes and a constant rule."""

    directory: frozenset[DirectoryAttribute]
    constant: re.Pattern[str] | frozenset[str] | None  # None: no constant
    constant_hint: str = ""


_NAMES = _Target(_TEXT_ATTRIBUTES, _TEXT, "1 to 128 printable characters")
# Seed 003's Zoom attributes (SCIM names in docs/provisioning.md), by the key the API uses.
ZOOM_ATTRIBUTES: dict[str, _Target] = {
    "user_name": _Target(ADDRESS_ATTRIBUTES, None),
    "email": _Target(ADDRESS_ATTRIBUTES, None),
    "first_name": _NAMES,
    "last_name": _NAMES,
    "phone": _Target(
        frozenset({DirectoryAttribute.PHONE, DirectoryAttribute.MOBILE_PHONE}), _PHONE, "a phone number"
    ),
    "status": _Target(frozenset({DirectoryAttribute.ACTIVE}), frozenset({"active", "inactive"})),
    "type": _Target(frozenset(), frozenset(ZoomUserType)),
    "roles": _Target(frozenset(), frozenset({"Admin", "Member"})),
    "title": _NAMES,
    "department": _NAMES,
    "organization": _NAMES,
    "locale": _Target(frozenset({DirectoryAttribute.LOCALE}), _LOCALE, "a language code such as en-US"),
}


class AttributeSource(Struct, frozen=True):
    """Where a Zoom attribute's value comes from: a directory attribute or a constant."""

    directory: DirectoryAttribute | None = None
    constant: str | None = None

    def to_document(self) -> dict[str, str]:
        """``{"directory": …}`` or ``{"constant": …}``."""
        if self.directory is not None:
            return {"directory": str(self.directory)}
        return {"constant": str(self.constant)}


DEFAULT_ATTRIBUTE_MAPPING: dict[str, AttributeSource] = {
    "user_name": AttributeSource(directory=DirectoryAttribute.EMAIL),
    "email": AttributeSource(directory=DirectoryAttribute.EMAIL),
    "first_name": AttributeSource(directory=DirectoryAttribute.GIVEN_NAME),
    "last_name": AttributeSource(directory=DirectoryAttribute.FAMILY_NAME),
}


class ProvisioningPolicy(Struct, frozen=True):
    """One connection's policy. The defaults are what a connection has until a PUT: off."""

    enabled: bool = False
    create_users: bool = False
    update_users: bool = False
    disable_users: bool = False
    deprovision_users: bool = False
    remove_action: RemoveAction = RemoveAction.DEACTIVATE
    deprovision_on_policy_removal: bool = False
    logout_on_deactivate: bool = True
    create_action: CreateAction = CreateAction.CREATE
    user_type: ZoomUserType = ZoomUserType.BASIC
    attribute_mapping: dict[str, AttributeSource] = field(
        default_factory=lambda: dict(DEFAULT_ATTRIBUTE_MAPPING)
    )
    page_size: int = PAGE_SIZE_DEFAULT
    io_retries: int = IO_RETRIES_DEFAULT

    def to_document(self) -> dict[str, Any]:
        """The policy as JSON (the API's ``provisioning`` object without version and date)."""
        return {
            **{name: getattr(self, name) for name in BOOLEAN_SETTINGS},
            "remove_action": str(self.remove_action),
            "create_action": str(self.create_action),
            "user_type": str(self.user_type),
            "attribute_mapping": {k: v.to_document() for k, v in self.attribute_mapping.items()},
            "page_size": self.page_size,
            "io_retries": self.io_retries,
        }


BOOLEAN_SETTINGS = (
    "enabled",
    "create_users",
    "update_users",
    "disable_users",
    "deprovision_users",
    "deprovision_on_policy_removal",
    "logout_on_deactivate",
)
_CHOICES: dict[str, type[StrEnum]] = {
    "remove_action": RemoveAction,
    "create_action": CreateAction,
    "user_type": ZoomUserType,
}
_INTEGERS = {
    "page_size": (PAGE_SIZE_MIN, PAGE_SIZE_MAX),
    "io_retries": (IO_RETRIES_MIN, IO_RETRIES_MAX),
}
# Read-only in a PUT: ``version`` is the optimistic-concurrency check, ``updated_at`` and
# ``pending_removal`` are ignored (a GET's answer can be sent back as it is).
POLICY_FIELDS = (*BOOLEAN_SETTINGS, *_CHOICES, "attribute_mapping", *_INTEGERS)
_ACCEPTED = frozenset({*POLICY_FIELDS, "version", "updated_at", "pending_removal"})


class PendingRemoval(Struct, frozen=True):
    """A ``deprovision_on_policy_removal`` the PUT turning the policy off did not finish: each sync
    continues it with ``policy`` (the one turned off) until nothing orgconnect created is left."""

    policy: ProvisioningPolicy
    since: int  # epoch seconds


class StoredPolicy(Struct, frozen=True):
    """A policy as stored: ``version`` 0 and no ``updated_at`` until the first PUT."""

    policy: ProvisioningPolicy
    version: int = 0
    updated_at: int | None = None
    pending_removal: PendingRemoval | None = None


def parse_policy(document: Any, *, where: str = "provisioning") -> tuple[ProvisioningPolicy, int | None]:
    """A policy and the ``version`` it was read at (None: not sent), or InvalidRequest naming every
    faulty field (``provisioning.page_size``, ``provisioning.attribute_mapping.email`` …). A field
    left out takes its default; an unknown one is refused."""
    if document is None:
        raise InvalidRequest.single(where, "errors.required", f"{where} is required")
    if not isinstance(document, dict):
        raise InvalidRequest.single(where, "errors.invalid", f"{where} must be an object")
    errors = [
        FieldError(f"{where}.{name}", "errors.unknown", f"{name} is not a provisioning setting")
        for name in document
        if name not in _ACCEPTED
    ]
    values: dict[str, Any] = {}
    for name in BOOLEAN_SETTINGS:
        if name in document:
            if isinstance(document[name], bool):
                values[name] = document[name]
            else:
                errors.append(
                    FieldError(f"{where}.{name}", "errors.invalid", f"{name} must be true or false")
                )
    for name, choices in _CHOICES.items():
        if name in document:
            try:
                values[name] = choices(document[name])
            except (ValueError, TypeError):
                allowed = ", ".join(str(c) for c in choices)
                errors.append(
                    FieldError(f"{where}.{name}", "errors.invalid", f"{name} must be one of: {allowed}")
                )
    for name, (low, high) in _INTEGERS.items():
        if name in document:
            number = _integer(document[name])
            if number is not None and low <= number <= high:
                values[name] = number
            else:
                errors.append(
                    FieldError(
                        f"{where}.{name}", "errors.invalid", f"{name} must be an integer from {low} to {high}"
                    )
                )
    if "attribute_mapping" in document:
        mapping, found = _parse_mapping(document["attribute_mapping"], f"{where}.attribute_mapping")
        errors.extend(found)
        values["attribute_mapping"] = mapping
    version = _integer(document.get("version"))
    if "version" in document and (version is None or version < 0):
        errors.append(
            FieldError(f"{where}.version", "errors.invalid", "version must be an integer of 0 or more")
        )
    updated_at = document.get("updated_at")
    if updated_at is not None and not isinstance(updated_at, str):
        errors.append(
            FieldError(f"{where}.updated_at", "errors.invalid", "updated_at is read-only (a date or null)")
        )
    policy = ProvisioningPolicy(**values)
    errors.extend(_consistency(policy, where))
    if errors:
        raise InvalidRequest(*errors)
    return policy, version


def _integer(value: Any) -> int | None:
    """An integer as JSON Schema has it (``300`` and ``300.0`` alike; never a boolean), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _parse_mapping(mapping: Any, where: str) -> tuple[dict[str, AttributeSource], list[FieldError]]:
    if not isinstance(mapping, dict):
        return {}, [FieldError(where, "errors.invalid", "attribute_mapping must be an object")]
    parsed: dict[str, AttributeSource] = {}
    errors: list[FieldError] = []
    for name, source in mapping.items():
        target = ZOOM_ATTRIBUTES.get(name)
        if target is None:
            allowed = ", ".join(ZOOM_ATTRIBUTES)
            errors.append(FieldError(f"{where}.{name}", "errors.unknown", f"Zoom attributes: {allowed}"))
            continue
        found, error = _parse_source(source, target, f"{where}.{name}")
        if error is not None:
            errors.append(error)
        elif found is not None:
            parsed[name] = found
    if "email" not in mapping:
        errors.append(FieldError(f"{where}.email", "errors.required", "Zoom users need an email: map it"))
    return parsed, errors


def _parse_source(
    source: Any, target: _Target, where: str
) -> tuple[AttributeSource | None, FieldError | None]:
    if not isinstance(source, dict) or len(source) != 1 or not {"directory", "constant"} & set(source):
        return None, FieldError(where, "errors.invalid", 'must be {"directory": …} or {"constant": …}')
    if "directory" in source:
        allowed = sorted(str(a) for a in target.directory)
        if not allowed:
            return None, FieldError(
                f"{where}.directory", "errors.invalid", "only a constant can be mapped here"
            )
        if source["directory"] not in allowed:
            return None, FieldError(f"{where}.directory", "errors.invalid", f"one of: {', '.join(allowed)}")
        return AttributeSource(directory=DirectoryAttribute(source["directory"])), None
    constant = source["constant"]
    rule = target.constant
    if rule is None:
        return None, FieldError(
            f"{where}.constant", "errors.invalid", "must come from the directory (unique per user)"
        )
    if isinstance(rule, frozenset):
        # A JSON array or object is unhashable: test the type before membership.
        if not isinstance(constant, str) or constant not in rule:
            return None, FieldError(
                f"{where}.constant", "errors.invalid", f"one of: {', '.join(sorted(rule))}"
            )
    elif not isinstance(constant, str) or len(constant) > MAX_CONSTANT_LENGTH or not rule.fullmatch(constant):
        return None, FieldError(f"{where}.constant", "errors.invalid", f"must be {target.constant_hint}")
    return AttributeSource(constant=str(constant)), None


def _consistency(policy: ProvisioningPolicy, where: str) -> list[FieldError]:
    """Rules between fields: Zoom's login is its email, and one user type."""
    errors: list[FieldError] = []
    mapping = policy.attribute_mapping
    user_name, email = mapping.get("user_name"), mapping.get("email")
    if user_name is not None and email is not None and user_name != email:
        errors.append(
            FieldError(
                f"{where}.attribute_mapping.user_name",
                "errors.must_match_email",
                "Zoom's login is the email: map user_name from the same attribute as email",
            )
        )
    user_type = mapping.get("type")
    if user_type is not None and user_type.constant != str(policy.user_type):
        errors.append(
            FieldError(
                f"{where}.attribute_mapping.type",
                "errors.conflicts_with_user_type",
                f"type must be the user_type ({policy.user_type}) or left out",
            )
        )
    return errors
