"""domain/provisioning_policy.py: each setting's validation and error, the defaults, and the
attribute mapping's rules (reading and replacing: test_domain_provisioning_policy_management.py)."""

from __future__ import annotations

from typing import Any

import pytest

from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.provisioning_policy import (
    DEFAULT_ATTRIBUTE_MAPPING,
    AttributeSource,
    CreateAction,
    DirectoryAttribute,
    ProvisioningPolicy,
    RemoveAction,
    ZoomUserType,
    parse_policy,
)


def errors_of(document: Any) -> dict[str, list[str]]:
    with pytest.raises(InvalidRequest) as invalid:
        parse_policy(document)
    found: dict[str, list[str]] = {}
    for error in invalid.value.errors:
        found.setdefault(error.field, []).append(error.key)
    return found


def test_defaults_are_provisioning_off() -> None:
    policy, version = parse_policy({})
    assert version is None
    assert policy == ProvisioningPolicy()
    assert policy.to_document() == {
        "enabled": False,
        "create_users": False,
        "update_users": False,
        "disable_users": False,
        "deprovision_users": False,
        "deprovision_on_policy_removal": False,
        "logout_on_deactivate": True,
        "remove_action": "deactivate",
        "create_action": "create",
        "user_type": "Basic",
        "attribute_mapping": {
            "user_name": {"directory": "email"},
            "email": {"directory": "email"},
            "first_name": {"directory": "given_name"},
            "last_name": {"directory": "family_name"},
        },
        "page_size": 300,
        "io_retries": 5,
    }


def test_every_setting_is_read_and_round_trips() -> None:
    document = {
        "enabled": True,
        "create_users": True,
        "update_users": False,
        "disable_users": True,
        "deprovision_users": True,
        "remove_action": "disassociate",
        "deprovision_on_policy_removal": True,
        "logout_on_deactivate": False,
        "create_action": "ssoCreate",
        "user_type": "Licensed",
        "attribute_mapping": {
            "email": {"directory": "user_principal_name"},
            "user_name": {"directory": "user_principal_name"},
            "first_name": {"directory": "given_name"},
            "last_name": {"constant": "Doe"},
            "phone": {"directory": "mobile_phone"},
            "status": {"directory": "active"},
            "type": {"constant": "Licensed"},
            "roles": {"constant": "Member"},
            "title": {"directory": "job_title"},
            "department": {"directory": "department"},
            "organization": {"constant": "Example Corp"},
            "locale": {"constant": "en-US"},
        },
        "page_size": 30,
        "io_retries": 0,
    }
    policy, version = parse_policy({**document, "version": 4, "updated_at": "2026-11-29T17:00:00Z"})
    assert version == 4
    assert policy.remove_action is RemoveAction.DISASSOCIATE
    assert policy.create_action is CreateAction.SSO_CREATE
    assert policy.user_type is ZoomUserType.LICENSED and policy.user_type.zoom_type == 2
    assert policy.attribute_mapping["last_name"] == AttributeSource(constant="Doe")
    assert policy.attribute_mapping["phone"] == AttributeSource(directory=DirectoryAttribute.MOBILE_PHONE)
    assert policy.to_document() == document
    assert parse_policy(policy.to_document())[0] == policy


@pytest.mark.parametrize(
    "name",
    [
        "enabled",
        "create_users",
        "update_users",
        "disable_users",
        "deprovision_users",
        "deprovision_on_policy_removal",
        "logout_on_deactivate",
    ],
)
@pytest.mark.parametrize("value", [1, 0, "true", None, [], {}])
def test_toggles_take_only_booleans(name: str, value: Any) -> None:
    assert errors_of({name: value}) == {f"provisioning.{name}": ["errors.invalid"]}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("remove_action", "disable"),
        ("remove_action", "Delete"),
        ("create_action", "create_user"),
        ("create_action", "autocreate"),
        ("user_type", "Pro"),
        ("user_type", 2),
        ("user_type", "On-Prem"),
        ("remove_action", None),
        ("create_action", ["create"]),
    ],
)
def test_choices_take_only_their_values(name: str, value: Any) -> None:
    assert errors_of({name: value}) == {f"provisioning.{name}": ["errors.invalid"]}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("page_size", 29),
        ("page_size", 301),
        ("page_size", 300.5),
        ("page_size", float("inf")),
        ("page_size", "300"),
        ("page_size", True),
        ("io_retries", -1),
        ("io_retries", 11),
        ("io_retries", None),
        ("io_retries", False),
    ],
)
def test_numbers_are_bounded_integers(name: str, value: Any) -> None:
    assert errors_of({name: value}) == {f"provisioning.{name}": ["errors.invalid"]}


@pytest.mark.parametrize(
    ("name", "value"), [("page_size", 30), ("page_size", 300), ("io_retries", 10), ("io_retries", 0.0)]
)
def test_number_bounds_are_inclusive_and_integral_numbers_are_integers(name: str, value: float) -> None:
    found = getattr(parse_policy({name: value})[0], name)
    assert found == value and type(found) is int  # JSON Schema: 0.0 is an integer


def test_version_is_an_integer_of_0_or_more() -> None:
    assert parse_policy({"version": 776310503.0})[1] == 776310503
    for bad in (-1, 1.5, "1", True, None):
        assert errors_of({"version": bad}) == {"provisioning.version": ["errors.invalid"]}


def test_unknown_settings_and_every_error_are_named_together() -> None:
    assert errors_of(
        {"enabled": "yes", "page_size": 5, "deep_get": True, "version": -1, "updated_at": 3}
    ) == {
        "provisioning.deep_get": ["errors.unknown"],
        "provisioning.enabled": ["errors.invalid"],
        "provisioning.page_size": ["errors.invalid"],
        "provisioning.version": ["errors.invalid"],
        "provisioning.updated_at": ["errors.invalid"],
    }


@pytest.mark.parametrize("document", [None, [], "policy", 3])
def test_the_policy_must_be_an_object(document: Any) -> None:
    key = "errors.required" if document is None else "errors.invalid"
    assert errors_of(document) == {"provisioning": [key]}


MAPPING = "provisioning.attribute_mapping"


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ("email", {MAPPING: ["errors.invalid"]}),
        ({}, {f"{MAPPING}.email": ["errors.required"]}),
        ({"first_name": {"directory": "given_name"}}, {f"{MAPPING}.email": ["errors.required"]}),
        (
            {"email": {"directory": "email"}, "nickname": {"constant": "x"}},
            {f"{MAPPING}.nickname": ["errors.unknown"]},
        ),
        ({"email": {"constant": "a@example.com"}}, {f"{MAPPING}.email.constant": ["errors.invalid"]}),
        ({"email": {"directory": "given_name"}}, {f"{MAPPING}.email.directory": ["errors.invalid"]}),
        ({"email": {"directory": "email", "constant": "x"}}, {f"{MAPPING}.email": ["errors.invalid"]}),
        ({"email": {}}, {f"{MAPPING}.email": ["errors.invalid"]}),
        ({"email": {"attribute": "email"}}, {f"{MAPPING}.email": ["errors.invalid"]}),
        ({"email": "email"}, {f"{MAPPING}.email": ["errors.invalid"]}),
        (
            {"email": {"directory": "email"}, "user_name": {"directory": "user_principal_name"}},
            {f"{MAPPING}.user_name": ["errors.must_match_email"]},
        ),
        (
            {"email": {"directory": "email"}, "first_name": {"directory": "active"}},
            {f"{MAPPING}.first_name.directory": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "first_name": {"constant": ""}},
            {f"{MAPPING}.first_name.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "title": {"constant": "x" * 129}},
            {f"{MAPPING}.title.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "department": {"constant": "R&D\n"}},
            {f"{MAPPING}.department.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "organization": {"constant": 7}},
            {f"{MAPPING}.organization.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "phone": {"directory": "job_title"}},
            {f"{MAPPING}.phone.directory": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "phone": {"constant": "call me"}},
            {f"{MAPPING}.phone.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "status": {"constant": "suspended"}},
            {f"{MAPPING}.status.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "status": {"directory": "email"}},
            {f"{MAPPING}.status.directory": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "type": {"directory": "job_title"}},
            {f"{MAPPING}.type.directory": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "type": {"constant": "Licensed"}},
            {f"{MAPPING}.type": ["errors.conflicts_with_user_type"]},
        ),
        (
            {"email": {"directory": "email"}, "status": {"constant": ["active"]}},
            {f"{MAPPING}.status.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "roles": {"constant": {"value": "Admin"}}},
            {f"{MAPPING}.roles.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "roles": {"constant": "Owner"}},
            {f"{MAPPING}.roles.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "locale": {"constant": "english"}},
            {f"{MAPPING}.locale.constant": ["errors.invalid"]},
        ),
        (
            {"email": {"directory": "email"}, "locale": {"directory": "department"}},
            {f"{MAPPING}.locale.directory": ["errors.invalid"]},
        ),
    ],
)
def test_attribute_mapping_errors_name_the_attribute(mapping: Any, expected: dict[str, list[str]]) -> None:
    assert errors_of({"attribute_mapping": mapping}) == expected


def test_a_mapping_replaces_the_default_one_whole() -> None:
    policy, _ = parse_policy({"attribute_mapping": {"email": {"directory": "email"}}})
    assert policy.attribute_mapping == {"email": AttributeSource(directory=DirectoryAttribute.EMAIL)}
    assert ProvisioningPolicy().attribute_mapping == DEFAULT_ATTRIBUTE_MAPPING
