"""Pure decisions of the authorization flow."""

from __future__ import annotations

import pytest

from orgconnect.domain.authorization import (
    FlowError,
    PageError,
    check_admin,
    needs_admin_proof,
    redirect_with,
    validate_authorize,
)
from orgconnect.domain.model import (
    AdminProofPolicy,
    CalendarProvider,
    Client,
    ConferencingCategory,
    ServiceAccount,
)

CLIENT = Client("cli_" + "a" * 24, "App", "d", ("https://app.example/cb",), (ConferencingCategory.GENERAL,))
ACCOUNT = ServiceAccount(
    "ser_" + "b" * 24, CLIENT.client_id, CalendarProvider.GOOGLE_WORKSPACE, "example.com"
)


def query(**overrides: list[str] | None) -> dict[str, list[str]]:
    base: dict[str, list[str] | None] = {
        "response_type": ["code"],
        "client_id": [CLIENT.client_id],
        "redirect_uri": ["https://app.example/cb"],
        "scope": ["organizational_unit_use_integrations"],
        "capabilities[]": ["conferencing"],
        "ou_link_token": ["t" * 43],
        "state": ["s"],
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_valid_request() -> None:
    params = validate_authorize(query(conferencing_provider_name=["zoom_enterprise"]), CLIENT)
    assert (params.capability, params.requested_provider, params.state) == (
        "conferencing",
        "zoom_enterprise",
        "s",
    )


def test_a_provider_outside_the_clients_categories_is_not_preselected() -> None:
    assert validate_authorize(query(conferencing_provider_name=["indeed"]), CLIENT).requested_provider is None


def test_unknown_client_is_a_page() -> None:
    with pytest.raises(PageError):
        validate_authorize(query(), None)


def test_errors_redirect_with_state() -> None:
    with pytest.raises(FlowError) as raised:
        validate_authorize(query(scope=["x"]), CLIENT)
    assert (
        raised.value.location
        == "https://app.example/cb?error=invalid_scope&error_description=scope+must+be+organizational_unit_use_integrations&state=s"
    )


def test_redirect_keeps_the_registered_query() -> None:
    assert (
        redirect_with("https://a.example/cb?tenant=1", code="c", state=None)
        == "https://a.example/cb?tenant=1&code=c"
    )


@pytest.mark.parametrize(
    ("policy", "linked", "expected"),
    [
        (AdminProofPolicy.ALWAYS, True, True),
        (AdminProofPolicy.ALWAYS, False, True),
        (AdminProofPolicy.NEVER, False, False),
        (AdminProofPolicy.WHEN_UNLINKED, False, True),
        (AdminProofPolicy.WHEN_UNLINKED, True, False),
    ],
)
def test_admin_proof_policy(policy: AdminProofPolicy, linked: bool, expected: bool) -> None:
    account = ServiceAccount(
        ACCOUNT.service_account_id,
        CLIENT.client_id,
        ACCOUNT.provider,
        "example.com",
        organizational_unit_id="ou_" + "c" * 24 if linked else None,
    )
    assert needs_admin_proof(policy, account) is expected


def test_admin_proof_needs_an_admin_of_the_same_domain() -> None:
    assert check_admin(True, "example.com", ACCOUNT) is None
    assert "not an administrator" in (check_admin(False, "example.com", ACCOUNT) or "")
    assert "does not belong to example.com" in (check_admin(True, "other.example", ACCOUNT) or "")
    assert check_admin(True, None, ACCOUNT) is not None
