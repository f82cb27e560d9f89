"""domain/provisioning_policy.py: each setting's validation and error, the defaults, the attribute
mapping's rules, and the read/replace operations over an in-memory repository."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from orgconnect.domain.conferencing_connections import ConnectionNotFound
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import OrganizationalUnit
from orgconnect.domain.provisioning_policy import (
    DEFAULT_ATTRIBUTE_MAPPING,
    AttributeSource,
    CreateAction,
    DirectoryAttribute,
    ProvisioningPolicy,
    RemoveAction,
    StoredPolicy,
    ZoomUserType,
    parse_policy,
)
from orgconnect.domain.provisioning_policy_management import (
    PolicyManagement,
    PolicySubject,
    ProvisioningNotSupported,
    StaleVersion,
    read_policy,
    replace_policy,
)
from orgconnect.domain.secrets import new_id


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


# -- read and replace --------------------------------------------------------------------------


class MemoryPolicies:
    """An in-memory ProvisioningPolicyRepository."""

    def __init__(self, ou: OrganizationalUnit) -> None:
        self.ou = ou
        self.subjects: dict[str, PolicySubject] = {}

    def add(self, provider_name: str = "zoom_enterprise", ou: OrganizationalUnit | None = None) -> str:
        owner = ou or self.ou
        connection_id = new_id("cnx")
        self.subjects[connection_id] = PolicySubject(
            connection_id, owner.ou_id, owner.client_id, provider_name, StoredPolicy(ProvisioningPolicy())
        )
        return connection_id

    def get_organizational_unit(self, ou_id: str) -> OrganizationalUnit | None:
        return self.ou if ou_id == self.ou.ou_id else None

    def get(self, connection_id: str) -> PolicySubject | None:
        return self.subjects.get(connection_id)

    def replace(
        self, subject: PolicySubject, policy: ProvisioningPolicy, *, expected_version: int | None, now: int
    ) -> StoredPolicy:
        current = self.subjects[subject.connection_id].stored
        if expected_version is not None and expected_version != current.version:
            raise StaleVersion(expected_version, current.version)
        stored = StoredPolicy(policy, current.version + 1, now)
        self.subjects[subject.connection_id] = replace(subject, stored=stored)
        return stored


@pytest.fixture
def ou() -> OrganizationalUnit:
    return OrganizationalUnit(new_id("ou"), new_id("cli"), "Acme", 1)


@pytest.fixture
def deps(ou: OrganizationalUnit) -> PolicyManagement:
    return PolicyManagement(MemoryPolicies(ou), now=1_900_000_000)


def repo(deps: PolicyManagement) -> MemoryPolicies:
    assert isinstance(deps.policies, MemoryPolicies)
    return deps.policies


def test_a_policy_never_set_reads_as_the_defaults_at_version_0(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    assert read_policy(ou, repo(deps).add(), deps) == StoredPolicy(ProvisioningPolicy(), 0, None)


def test_replacing_bumps_the_version_and_a_stale_version_is_refused(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    cnx = repo(deps).add()
    first = replace_policy(ou, cnx, {"provisioning": {"enabled": True, "version": 0}}, deps)
    assert (first.version, first.updated_at, first.policy.enabled) == (1, deps.now, True)
    second = replace_policy(ou, cnx, {"provisioning": {"create_users": True}}, deps)  # last writer wins
    assert second.version == 2 and second.policy == ProvisioningPolicy(create_users=True)
    with pytest.raises(StaleVersion) as stale:
        replace_policy(ou, cnx, {"provisioning": {"enabled": False, "version": 1}}, deps)
    assert (stale.value.sent, stale.value.current) == (1, 2)
    assert read_policy(ou, cnx, deps) == second


def test_the_body_holds_only_provisioning(ou: OrganizationalUnit, deps: PolicyManagement) -> None:
    cnx = repo(deps).add()
    with pytest.raises(InvalidRequest) as invalid:
        replace_policy(ou, cnx, {"enabled": True, "provisioning": {"page_size": 1}}, deps)
    assert [(e.field, e.key) for e in invalid.value.errors] == [
        ("enabled", "errors.unknown"),
        ("provisioning.page_size", "errors.invalid"),
    ]
    with pytest.raises(InvalidRequest) as missing:
        replace_policy(ou, cnx, {}, deps)
    assert [(e.field, e.key) for e in missing.value.errors] == [("provisioning", "errors.required")]
    assert read_policy(ou, cnx, deps).version == 0


@pytest.mark.parametrize("connection_id", ["cnx_unknown", "cnx_" + "0" * 24, "../cnx", "x" * 3000])
def test_unknown_and_malformed_connections_are_not_found(
    ou: OrganizationalUnit, deps: PolicyManagement, connection_id: str
) -> None:
    with pytest.raises(ConnectionNotFound):
        read_policy(ou, connection_id, deps)
    with pytest.raises(ConnectionNotFound):
        replace_policy(ou, connection_id, {"provisioning": {}}, deps)


def test_another_ous_connection_is_not_found_even_with_a_bad_body(
    ou: OrganizationalUnit, deps: PolicyManagement
) -> None:
    stranger = OrganizationalUnit(new_id("ou"), ou.client_id, "Other", 1)
    cnx = repo(deps).add(ou=stranger)
    with pytest.raises(ConnectionNotFound):
        read_policy(ou, cnx, deps)
    with pytest.raises(ConnectionNotFound):
        replace_policy(ou, cnx, {"provisioning": {"page_size": 1}}, deps)


def test_only_zoom_connections_have_provisioning(ou: OrganizationalUnit, deps: PolicyManagement) -> None:
    cnx = repo(deps).add("webex_enterprise")
    with pytest.raises(ProvisioningNotSupported) as refused:
        read_policy(ou, cnx, deps)
    assert refused.value.provider_name == "webex_enterprise"
    with pytest.raises(ProvisioningNotSupported):
        replace_policy(ou, cnx, {"provisioning": {"enabled": True}}, deps)
