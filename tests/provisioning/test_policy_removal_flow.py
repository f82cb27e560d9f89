"""``deprovision_on_policy_removal`` end to end on the dev stack (local API Gateway with the
template's IAM, the Zoom simulator): a user created by provisioning is removed per remove_action
by the PUT that turns the policy off, in that request, and the removal is in the provisioning log;
a user orgconnect did not create stays."""

from __future__ import annotations

from tests.delegated.conftest import CallbackReceiver
from tests.matching.test_matching_flow import account_token
from tests.provisioning.conftest import ProvisionedOu
from tests.provisioning.test_provisioning_flow import events_page, set_policy, zoom_user


def test_turning_the_policy_off_removes_the_users_it_created(
    provisioned_ou: ProvisionedOu, receiver: CallbackReceiver
) -> None:
    ou, flow = provisioned_ou, provisioned_ou.flow
    on = {
        "enabled": True,
        "create_users": True,
        "deprovision_on_policy_removal": True,
        "remove_action": "delete",
    }
    set_policy(ou, **on)
    email = ou.person_without_zoom()
    made = account_token(flow, receiver, email)
    created = zoom_user(ou, email)
    assert created is not None
    kept_email = flow.info["demo"]["zoom_active"][0]
    account_token(flow, receiver, kept_email)

    set_policy(ou, enabled=False)
    assert zoom_user(ou, email) is None  # removed by the PUT itself
    assert zoom_user(ou, kept_email) is not None
    events = events_page(flow, ou.ou.access_token).json()["provisioning_events"]
    removal = [e for e in events if e["action"] == "remove" and e["provider_user_id"] == created["id"]]
    assert [(e["result"], e["account_id"]) for e in removal] == [("ok", None)]
    assert made["sub"] != removal[0]["account_id"]
