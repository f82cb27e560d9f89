"""The calendar directory's attributes reach Zoom on the dev stack: with ``update_users`` on and a
mapping ``title <- job_title``, ``department <- department``, delegated access for a demo person
whose Zoom user lacks them writes them (``PATCH /v2/users/{id}``), for a person of the Google
Workspace tenant (users.get) and of the Microsoft 365 tenant linked to the same OU (Graph with
``$select``). Runs after test_provisioning_flow.py: the second tenant joins the package's OU."""

from __future__ import annotations

from typing import Any

from tests.delegated.conftest import CallbackReceiver
from tests.flow.harness import Browser, FlowStack
from tests.matching.test_matching_flow import account_token
from tests.provisioning.conftest import ProvisionedOu
from tests.provisioning.test_provisioning_flow import set_policy

MAPPING = {
    "email": {"directory": "email"},
    "title": {"directory": "job_title"},
    "department": {"directory": "department"},
}


def patches(flow: FlowStack, user_id: str) -> list[dict[str, Any]]:
    return [
        r
        for r in flow.simulator("zoom").requests()
        if r.get("method") == "PATCH" and r.get("path") == f"/v2/users/{user_id}"
    ]


def check_written(ou: ProvisionedOu, receiver: CallbackReceiver, email: str, title: str, dept: str) -> None:
    flow = ou.flow
    before = flow.simulator("zoom").directory.by_email(email)
    assert before is not None and (before.job_title, before.dept) == ("", "")
    assert patches(flow, before.id) == []
    account_token(flow, receiver, email)  # provisioning runs before the callback is posted
    (patch,) = patches(flow, before.id)
    assert patch["status"] == 204
    after = flow.simulator("zoom").directory.by_email(email)
    assert (after.job_title, after.dept) == (title, dept)
    account_token(flow, receiver, email)  # written: the next request finds nothing to change
    assert len(patches(flow, before.id)) == 1


def test_a_google_persons_title_and_department_are_written_to_zoom(
    provisioned_ou: ProvisionedOu, receiver: CallbackReceiver
) -> None:
    ou, flow = provisioned_ou, provisioned_ou.flow
    set_policy(ou, enabled=True, update_users=True, attribute_mapping=MAPPING)
    email = flow.info["demo"]["zoom_active"][5]
    person = flow.simulator("google").find_user(email)
    assert person.job_title and person.department
    check_written(ou, receiver, email, person.job_title, person.department)


def link_microsoft_tenant(flow: FlowStack) -> None:
    """Seed 002: the administrator links the Microsoft 365 tenant to the service account's OU."""
    demo = flow.demo_client()
    browser = Browser(flow)
    start = browser.get(flow.authorize_url(demo, provider=None, capability="calendars"))
    google, microsoft = (flow.info["simulators"][name]["base_url"] for name in ("google", "microsoft"))
    tenant = flow.simulator("microsoft")
    ms_admin = next(u.user_principal_name for u in tenant.users.values() if tenant.is_global_admin(u))
    outcome = browser.drive(
        browser.get(start.headers["location"]),
        choose="microsoft_365",
        sign_in_as={google: flow.simulator("google").admin.primary_email, microsoft: ms_admin},
    )
    assert outcome.kind == "code", outcome.text


def test_a_microsoft_persons_title_and_department_are_written_to_zoom(
    provisioned_ou: ProvisionedOu, receiver: CallbackReceiver
) -> None:
    ou, flow = provisioned_ou, provisioned_ou.flow
    link_microsoft_tenant(flow)
    set_policy(ou, enabled=True, update_users=True, attribute_mapping=MAPPING)
    email = flow.info["demo"]["other_tenant"][1]  # an active Zoom user of the same account
    person = flow.simulator("microsoft").find_user(email)
    assert person.job_title and person.department
    check_written(ou, receiver, email, person.job_title, person.department)
    graph = [
        r
        for r in flow.simulator("microsoft").requests()
        if r.get("method") == "GET" and str(r.get("path", "")).lower() == f"/v1.0/users/{email}"
    ]
    assert graph and all("department" in r["params"].get("$select", "") for r in graph)
