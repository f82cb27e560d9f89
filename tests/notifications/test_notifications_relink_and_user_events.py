"""Notifications from provider webhooks and relinks, end to end on the notifications dev stack: a
Zoom user deactivated (the simulator's signed ``user.deactivated``) arrives as
``profile_disconnected`` and reactivated as ``profile_connected``; a connection that needed
reauthorization and is restored through its relink url arrives as ``connection_status_changed``
``connected``. (Named to run before the store and unit modules of this package, whose fixtures
move the process environment away from the package's stack.)"""

from __future__ import annotations

import httpx

from tests.flow.harness import Browser
from tests.notifications.integrator import Integrator


def test_zoom_user_events_arrive_as_profile_disconnected_and_connected(integrator: Integrator) -> None:
    flow = integrator.flow
    # The demo client keeps the secret an earlier module's URL got it: rotated here.
    path = integrator.listen(integrator.link_demo_to_zoom(), kept_secret=True)
    email = flow.info["demo"]["zoom_active"][9]
    integrator.delegate(email)
    (matched,) = integrator.received(path, 1)
    assert matched["type"] == "profile_connected"

    zoom = flow.info["simulators"]["zoom"]["base_url"]
    assert httpx.patch(f"{zoom}/_sim/users/{email}", json={"status": "inactive"}).status_code == 200
    _, disconnected = integrator.received(path, 2)
    assert disconnected["type"] == "profile_disconnected" and disconnected["profile_connected"] is False
    assert disconnected["profile_id"] == matched["profile_id"]
    assert httpx.patch(f"{zoom}/_sim/users/{email}", json={"status": "active"}).status_code == 200
    _, _, connected = integrator.received(path, 3)
    assert connected["type"] == "profile_connected" and connected["profile_id"] == matched["profile_id"]


def test_a_relink_that_restores_a_connection_arrives_as_connected(
    integrator: Integrator, browser: Browser
) -> None:
    flow = integrator.flow
    client, token, connection = integrator.link_zoom(browser)
    path = integrator.listen(client)
    integrator.refuse_the_refresh(connection, token)
    (needs,) = integrator.received(path, 1)
    assert needs["status"] == "needs_reauthorization"

    relink = (
        f"{flow.info['app_url']}/organizational_unit_oauth/relink?connection_id={connection['connection_id']}"
    )
    relinked = Browser(flow).run(relink)
    assert relinked.kind == "page" and "data-testid=relinked" in relinked.text, relinked.text
    _, restored = integrator.received(path, 2)
    assert restored["type"] == "connection_status_changed" and restored["status"] == "connected"
    assert restored["connection_id"] == connection["connection_id"]
