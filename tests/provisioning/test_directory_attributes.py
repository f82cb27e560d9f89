"""The calendar directory's attributes in provisioning: ``calendar_user`` merges what delegated
access's lookup found over the name split (the address stays the account's unless the directory
gives a userPrincipalName), and ``provision_account(attributes=…)`` writes the mapped ones to Zoom."""

from __future__ import annotations

from orgconnect.domain.provisioning_log import EventResult
from orgconnect.domain.provisioning_policy import AttributeSource, DirectoryAttribute
from orgconnect.workers.provisioning import calendar_user
from tests.provisioning.fakes import OU, Rig, account
from tests.provisioning.test_executor_simulator import calls, linked

MAPPING = {
    "email": AttributeSource(directory=DirectoryAttribute.EMAIL),
    "title": AttributeSource(directory=DirectoryAttribute.JOB_TITLE),
    "department": AttributeSource(directory=DirectoryAttribute.DEPARTMENT),
    "phone": AttributeSource(directory=DirectoryAttribute.PHONE),
}


def test_without_directory_attributes_the_name_is_split_at_its_first_space() -> None:
    user = calendar_user(account("a.b@example.com", "Augusta Ada King"))
    assert dict(user.attributes) == {
        "email": "a.b@example.com",
        "user_principal_name": "a.b@example.com",
        "display_name": "Augusta Ada King",
        "given_name": "Augusta",
        "family_name": "Ada King",
    }


def test_the_directorys_values_win_over_the_name_split_and_add_the_others() -> None:
    directory: dict[str, str | bool] = {
        "given_name": "Augusta Ada",
        "family_name": "King",
        "job_title": "Analyst",
        "department": "Engines",
        "active": False,
    }
    user = calendar_user(account("a.b@example.com", "Augusta Ada King"), directory=directory)
    assert user.attributes["given_name"] == "Augusta Ada" and user.attributes["family_name"] == "King"
    assert user.attributes["display_name"] == "Augusta Ada King"  # from the name: not in the lookup
    assert (user.attributes["job_title"], user.attributes["department"]) == ("Analyst", "Engines")
    assert user.attributes["active"] is False and not user.active
    assert user.attributes["email"] == "a.b@example.com"


def test_the_address_stays_the_accounts_unless_the_directory_gives_a_user_principal_name() -> None:
    google = calendar_user(account("a.b@example.com"), directory={"email": "other@example.com"})
    assert (google.email, google.attributes["email"]) == ("a.b@example.com", "a.b@example.com")
    assert google.attributes["user_principal_name"] == "a.b@example.com"
    graph = calendar_user(account("a.b@example.com"), directory={"user_principal_name": "ab@corp.example"})
    assert graph.attributes["user_principal_name"] == "ab@corp.example"
    assert graph.attributes["email"] == "a.b@example.com"


def test_an_empty_directory_value_keeps_what_the_name_gave() -> None:
    user = calendar_user(account("a.b@example.com", "Ada Lovelace"), directory={"given_name": "  "})
    assert user.attributes["given_name"] == "Ada"


def test_provision_account_writes_the_directorys_mapped_attributes_to_zoom(zoom: Rig) -> None:
    zoom.set_policy(update_users=True, attribute_mapping=MAPPING)
    linked(zoom, "a.b@example.com")
    attributes: dict[str, str | bool] = {"job_title": "Analyst", "department": "Engines", "phone": ""}
    (event,) = zoom.provisioner.provision_account(account("a.b@example.com"), OU, attributes=attributes)
    assert (event.action, event.result) == ("update", EventResult.OK)
    written = zoom.zoom_user("a.b@example.com")
    assert (written.job_title, written.dept, written.phone_number) == ("Analyst", "Engines", "")
    # Written: nothing left to do on the next request; without the lookup's attributes nothing is
    # blanked either (an attribute without a value writes nothing).
    assert zoom.provisioner.provision_account(account("a.b@example.com"), OU, attributes=attributes) == []
    assert zoom.provisioner.provision_account(account("a.b@example.com"), OU) == []
    assert zoom.zoom_user("a.b@example.com").job_title == "Analyst"
    assert len(calls(zoom, "PATCH")) == 1
