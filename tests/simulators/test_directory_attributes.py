"""The simulated calendar directories hold the demo people's work profiles, in the providers'
shapes, and orgconnect's parsers read them back: Google's ``phones`` / ``organizations`` /
``externalIds``, Graph's properties (``department``, ``companyName``, ``employeeId`` only through
``$select``, as in Graph)."""

from __future__ import annotations

from devstack.simulators.demo import PRIMARY_DOMAIN, SECONDARY_DOMAIN, build_demo_directory, work_profile
from devstack.simulators.google_directory import WorkspaceUser
from devstack.simulators.microsoft_graph import DEFAULT_USER_PROPERTIES, parse_select
from devstack.simulators.microsoft_model import person_user
from orgconnect.providers.directory import GRAPH_USER_SELECT, google_attributes, graph_attributes

DEMO = build_demo_directory()


def test_every_demo_person_has_a_work_profile_and_the_administrator_is_in_it() -> None:
    profiles = [work_profile(p) for p in DEMO.people]
    assert work_profile(DEMO.admin).job_title == "IT Administrator"
    assert len({p.department for p in profiles}) > 2 and len({p.employee_id for p in profiles}) > 40
    assert {p.mobile_phone is None for p in profiles} == {True, False}  # some have none


def test_googles_admin_view_gives_the_work_profile_to_the_parser() -> None:
    for person in DEMO.in_domain(PRIMARY_DOMAIN)[:6]:
        work = work_profile(person)
        user = WorkspaceUser.of_person("1" * 21, person, "C0abc", "2020-06-01T08:00:00.000Z")
        found = google_attributes(user.to_resource(admin_view=True))
        assert (found["job_title"], found["department"], found["organization"]) == (
            work.job_title,
            work.department,
            "Example Corporation",
        )
        assert (found["phone"], found.get("mobile_phone"), found["employee_id"]) == (
            work.phone,
            work.mobile_phone,
            work.employee_id,
        )
        assert found["given_name"] == person.first_name and found["active"] is (not person.google_suspended)
        # The domain-public view tells nothing of the job.
        assert "job_title" not in google_attributes(user.to_resource(admin_view=False))


def test_graph_gives_the_work_profile_through_the_select_orgconnect_sends() -> None:
    person = DEMO.in_domain(SECONDARY_DOMAIN)[1]
    work = work_profile(person)
    user = person_user("u-1", person, "2021-03-01T09:00:00Z")
    found = graph_attributes(user.to_graph(parse_select(GRAPH_USER_SELECT)))
    assert (found["job_title"], found["department"], found["organization"]) == (
        work.job_title,
        work.department,
        "Example Subsidiary",
    )
    assert (found["phone"], found["employee_id"], found["locale"]) == (work.phone, work.employee_id, "en-US")
    assert found["user_principal_name"] == person.email and found["active"] is True
    # Without $select, Graph's default properties: no department, company or employee id.
    assert {"department", "companyName", "employeeId"}.isdisjoint(user.to_graph(None))
    assert set(user.to_graph(None)) == set(DEFAULT_USER_PROPERTIES)
