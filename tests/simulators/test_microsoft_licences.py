"""The Microsoft simulator's licences: every user has an Office 365 E3 licence whose Teams plan
(TEAMS1, service ``TeamspaceAPI``) is enabled unless the control API says ``teams_licensed:
false``; Graph shows them only through ``$select`` (``assignedLicenses``, ``assignedPlans``), as
Graph does for these non-default properties."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack.simulators.microsoft_graph import E3_SKU_ID, TEAMS1_PLAN_ID
from tests.simulators._microsoft_harness import NON_ADMIN, TENANT_PEOPLE, Ms
from tests.simulators._provider_fixtures import bearer, redirect_params

SELECT = {"$select": "id,userPrincipalName,assignedLicenses,assignedPlans"}


@pytest.fixture
def ms() -> Iterator[Ms]:
    harness = Ms()
    redirect_params(harness.admin_consent())
    yield harness
    harness.http.close()


def plans_of(user: dict[str, object]) -> set[str]:
    plans = user["assignedPlans"]
    assert isinstance(plans, list)
    return {p["service"] for p in plans if p["capabilityStatus"] == "Enabled"}


def test_licences_are_selectable_and_not_in_the_default_shape(ms: Ms) -> None:
    token = ms.app_token()
    plain = ms.http.get(f"/v1.0/users/{NON_ADMIN.email}", headers=bearer(token)).json()
    assert "assignedPlans" not in plain and "assignedLicenses" not in plain
    listed = ms.http.get("/v1.0/users", params=SELECT, headers=bearer(token)).json()["value"]
    assert len(listed) == len(TENANT_PEOPLE)
    licensed = {p.email: p.teams_licensed for p in TENANT_PEOPLE}
    assert not all(licensed.values())  # the demo seeds one person without Teams (ms_teams_unlicensed)
    for user in listed:
        if licensed[user["userPrincipalName"]]:
            assert user["assignedLicenses"] == [{"skuId": E3_SKU_ID, "disabledPlans": []}]
            assert plans_of(user) == {"exchange", "TeamspaceAPI"}
        else:
            assert user["assignedLicenses"] == [{"skuId": E3_SKU_ID, "disabledPlans": [TEAMS1_PLAN_ID]}]
            assert plans_of(user) == {"exchange"}


def test_a_user_without_teams_has_the_plan_disabled_until_licensed_again(ms: Ms) -> None:
    token = ms.app_token()
    ms.sim.update_user(NON_ADMIN.email, {"teams_licensed": False})
    user = ms.http.get(f"/v1.0/users/{NON_ADMIN.email}", params=SELECT, headers=bearer(token)).json()
    assert user["assignedLicenses"] == [{"skuId": E3_SKU_ID, "disabledPlans": [TEAMS1_PLAN_ID]}]
    assert plans_of(user) == {"exchange"}
    added = ms.sim.add_user({"email": "new.hire@subsidiary.example", "teams_licensed": False})
    fetched = ms.http.get(f"/v1.0/users/{added['id']}", params=SELECT, headers=bearer(token)).json()
    assert plans_of(fetched) == {"exchange"}
    ms.sim.update_user(NON_ADMIN.email, {"teams_licensed": True})
    again = ms.http.get(f"/v1.0/users/{NON_ADMIN.email}", params=SELECT, headers=bearer(token)).json()
    assert plans_of(again) == {"exchange", "TeamspaceAPI"}
