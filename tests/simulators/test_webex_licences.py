"""The Webex simulator's meetings licence: a person without one (control API
``{"meetings_licensed": false}``) cannot host a meeting scheduled for them (400 naming the
licence); given the licence again, they can."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.simulators._provider_fixtures import bearer
from tests.simulators.test_webex import ACTIVE, Webex, webex_error

WINDOW = {"start": "2030-01-01T10:00:00Z", "end": "2030-01-01T10:30:00Z"}


@pytest.fixture
def webex() -> Iterator[Webex]:
    harness = Webex()
    yield harness
    harness.http.close()


def test_a_host_without_a_meetings_licence_is_refused_until_licensed(webex: Webex) -> None:
    token = webex.tokens()["access_token"]
    body = {"title": "Interview", "hostEmail": ACTIVE.email, **WINDOW}
    updated = webex.http.patch(f"/_sim/users/{ACTIVE.email}", json={"meetings_licensed": False})
    assert updated.status_code == 200, updated.text
    refused = webex.http.post("/v1/meetings", headers=bearer(token), json=body)
    assert "Webex Meetings license" in webex_error(refused, 400)
    assert not webex.sim.meetings
    webex.sim.update_user(ACTIVE.email, {"meetings_licensed": True})
    created = webex.http.post("/v1/meetings", headers=bearer(token), json=body)
    assert created.status_code == 200, created.text
    assert created.json()["hostEmail"] == ACTIVE.email
