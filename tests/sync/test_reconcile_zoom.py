"""Connection syncs on the dev stack against the Zoom simulator (docs/sync.md): the link's sync
backfills accounts that predate the connection; the scheduled reconcile applies each kind of
change at Zoom (added, removed, renamed with the same id, status changed) and writes only those;
a reconcile that finds nothing writes no directory item and no profile."""

from __future__ import annotations

from typing import Any

from tests.sync.conftest import SCHEDULE, LinkedZoom, wait_synced


def directory(linked: LinkedZoom) -> dict[str, dict[str, Any]]:
    items = linked.flow.table_items(f"DIRECTORY#{linked.connection_id}")
    return {i["email"]: i for i in items if i["sk"].startswith("USER#")}


def listings(linked: LinkedZoom) -> list[dict[str, Any]]:
    return [r for r in linked.zoom.requests() if r.get("method") == "GET" and r.get("path") == "/v2/users"]


def reconcile(linked: LinkedZoom, sync_id: str) -> dict[str, Any]:
    """Run the schedule now (it queues a sync per linked connection) and wait for that sync."""
    schedules = linked.flow.stack.schedules
    assert schedules is not None
    results = schedules.run_now(SCHEDULE)
    assert results[SCHEDULE]["scheduled"] >= 1
    return wait_synced(linked.flow, linked.connection_id, not_sync_id=sync_id)


def test_the_link_backfills_profiles_of_accounts_that_predate_the_connection(linked: LinkedZoom) -> None:
    demo = linked.flow.info["demo"]
    profiles = linked.profiles()
    for email in demo["zoom_active"][:4]:
        assert profiles[email]["status"] == "active" and profiles[email]["profile_id"].startswith("pro_")
    assert profiles[demo["zoom_pending"][0]]["status"] == "pending"
    assert profiles[demo["zoom_inactive"][0]]["status"] == "inactive"
    assert not set(demo["no_zoom"][:2]) & set(profiles)  # no match, no profile
    listed = directory(linked)
    demo_zoom = {*demo["zoom_active"], *demo["zoom_pending"], *demo["zoom_inactive"]}
    assert demo_zoom <= set(listed) and not set(demo["no_zoom"]) & set(listed)
    synced = wait_synced(linked.flow, linked.connection_id)
    assert len(listed) == synced["users"] == synced["stats"]["users_listed"]
    # The directory's pages were kept only while the sync ran.
    assert not [
        i
        for i in linked.flow.table_items(f"DIRECTORY#{linked.connection_id}")
        if i["sk"].startswith("LISTING#")
    ]


def test_a_reconcile_applies_each_kind_of_change_and_writes_only_those(linked: LinkedZoom) -> None:
    demo = linked.flow.info["demo"]
    zoom = linked.zoom
    before = linked.profiles()
    first = wait_synced(linked.flow, linked.connection_id)
    renamed, removed, deactivated = demo["zoom_active"][0], demo["zoom_active"][1], demo["zoom_active"][2]
    joined = demo["no_zoom"][0]
    new_email = "renamed." + renamed
    # Their webhooks are lost here: the reconcile is what catches up (else user events apply first).
    url, zoom.webhooks.url = zoom.webhooks.url, None
    try:
        zoom.update_user(renamed, {"email": new_email})
        zoom.remove_user(removed)
        zoom.update_user(deactivated, {"status": "inactive"})
        zoom.add_user({"email": joined, "first_name": "New", "last_name": "Joiner", "status": "active"})
    finally:
        zoom.webhooks.url = url

    done = reconcile(linked, first["sync_id"])

    after = linked.profiles()
    # Renamed at Zoom: the same profile (stable id), its name follows the new email.
    assert after[renamed]["profile_id"] == before[renamed]["profile_id"]
    assert after[renamed]["provider_user_id"] == before[renamed]["provider_user_id"]
    assert after[renamed]["profile_name"] == new_email and after[renamed]["status"] == "active"
    # Removed from Zoom: the profile stays, disconnected.
    assert (
        after[removed]["profile_id"] == before[removed]["profile_id"]
        and after[removed]["status"] == "inactive"
    )
    # Deactivated at Zoom: not connected any more.
    assert after[deactivated]["status"] == "inactive"
    # Added at Zoom for an account without a profile: a first match.
    assert after[joined]["status"] == "active" and joined not in before
    # Everything else is unchanged.
    for email in set(before) - {renamed, removed, deactivated}:
        assert after[email] == before[email]
    stats = done["stats"]
    assert stats["profile_writes"] == 4
    # Directory: the new user, the removed one, the deactivated one, the rename (new email in, old out).
    assert stats["directory_writes"] == 5
    users = directory(linked)
    assert new_email in users and renamed not in users and removed not in users
    assert users[deactivated]["status"] == "inactive" and users[joined]["status"] == "active"


def test_a_reconcile_that_finds_no_change_writes_no_item_but_the_sync_state(linked: LinkedZoom) -> None:
    previous = wait_synced(linked.flow, linked.connection_id)
    before = linked.profiles()
    linked.zoom.clear_requests()
    done = reconcile(linked, previous["sync_id"])
    assert done["stats"]["profile_writes"] == 0 and done["stats"]["directory_writes"] == 0
    assert linked.profiles() == before
    # One listing: a page per status (active, pending, inactive), each page its own chunk.
    assert sorted(r["params"]["status"] for r in listings(linked)) == ["active", "inactive", "pending"]
    assert done["stats"]["chunks"] >= 3
