"""How the demo directory becomes Zoom accounts: a paid account, a Free one, their S2S apps.

Deterministic for a seed: ids come from the simulator's ``rng`` and ``derived_id``; seeded users'
``created_at`` counts from ``SEED_EPOCH``, never the clock. ``zoom_users`` adds synthetic users to
the paid account (up to ``MAX_ZOOM_USERS``, for benchmarks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from devstack.simulators.http_helpers import ControlError
from devstack.simulators.zoom_model import PLANS, ROLE_MEMBER, ROLE_OWNER, Plan, UserStatus, ZoomAccount

if TYPE_CHECKING:
    from devstack.simulators.zoom import ZoomSimulator

MAX_ZOOM_USERS = 100_000
SEED_EPOCH = 1_672_531_200.0  # 2023-01-01T00:00:00Z: seeded users' created_at (never the clock)
FREE_DOMAIN = "freeplan.example"
MANAGED_DOMAINS = ("example.com", "subsidiary.example")

SYNTH_FIRST = ("Alex", "Blair", "Casey", "Devon", "Emery", "Finley", "Gray", "Harper", "Indy", "Jules")
SYNTH_LAST = ("Adams", "Baker", "Clark", "Davis", "Evans", "Foster", "Garcia", "Hughes", "Irwin", "Jones")


def checked_seed_params(**params: Any) -> dict[str, Any]:
    """Validate the Zoom seeding parameters (``plan``, ``zoom_users``)."""
    unknown = sorted(set(params) - {"plan", "zoom_users"})
    if unknown:
        raise ControlError(400, f"unknown zoom seed parameters: {unknown}")
    plan = params.get("plan", "business")
    if plan not in PLANS or plan == "free":
        raise ControlError(400, "plan must be 'business' or 'pro' (the Free account is always seeded)")
    zoom_users = params.get("zoom_users")
    if zoom_users is not None and (
        isinstance(zoom_users, bool)
        or not isinstance(zoom_users, int)
        or not 0 <= zoom_users <= MAX_ZOOM_USERS
    ):
        raise ControlError(400, f"zoom_users must be an integer from 0 to {MAX_ZOOM_USERS}")
    return {"plan": plan, "zoom_users": zoom_users}


def seed_zoom_accounts(sim: ZoomSimulator, plan: Plan, zoom_users: int | None) -> None:
    """Create both accounts, their users and their Server-to-Server apps in ``sim``."""
    rng = sim.rng
    paid = ZoomAccount(
        id=sim.derived_id("paid-account"),
        name="Example Corp",
        plan=plan,
        account_number=rng.randrange(10**8, 10**9),
        managed_domains=MANAGED_DOMAINS,
        sso_enabled=plan == "business",
        cust_create_enabled=True,
    )
    free = ZoomAccount(
        id=sim.derived_id("free-account"),
        name="Freeplan Studio",
        plan="free",
        account_number=rng.randrange(10**8, 10**9),
    )
    sim.directory.accounts = {paid.id: paid, free.id: free}
    sim.paid_account_id, sim.free_account_id = paid.id, free.id
    admin_email = sim.demo.admin.email
    people = sim.demo.zoom_users()
    for index, person in enumerate(people):
        assert person.zoom_status is not None
        user = sim.create_user(
            paid,
            email=person.email,
            first_name=person.first_name,
            last_name=person.last_name,
            user_type=2,
            status=person.zoom_status,
            role_id=ROLE_OWNER if person.email == admin_email else ROLE_MEMBER,
            created_at=SEED_EPOCH + index * 3600,
        )
        if user.role_id == ROLE_OWNER:
            paid.owner_id = user.id
    for index in range(max(0, (zoom_users or 0) - len(people))):
        first = SYNTH_FIRST[index % len(SYNTH_FIRST)]
        last = SYNTH_LAST[(index // len(SYNTH_FIRST)) % len(SYNTH_LAST)]
        # Mostly active, 1 in 20 pending, 1 in 50 inactive (like the demo directory).
        status: UserStatus = "pending" if index % 20 == 7 else "inactive" if index % 50 == 13 else "active"
        sim.create_user(
            paid,
            email=f"{first}.{last}.{index:06d}@example.com".lower(),
            first_name=first,
            last_name=last,
            user_type=2,
            status=status,
            created_at=SEED_EPOCH + 86400 + index,
        )
    owner = sim.create_user(
        free,
        email=f"fiona.free@{FREE_DOMAIN}",
        first_name="Fiona",
        last_name="Free",
        user_type=1,
        status="active",
        role_id=ROLE_OWNER,
        created_at=SEED_EPOCH,
    )
    free.owner_id = owner.id
    sim.create_user(
        free,
        email=f"sam.solo@{FREE_DOMAIN}",
        first_name="Sam",
        last_name="Solo",
        user_type=1,
        status="active",
        created_at=SEED_EPOCH + 60,
    )
    sim.s2s_app = sim.register_app(
        sim.derived_id("s2s-client-id"),
        sim.derived_secret("s2s-client-secret"),
        [],
        name="Demo Server-to-Server app",
        kind="server_to_server",
        meta={"account_id": paid.id},
    )
    sim.free_s2s_app = sim.register_app(
        sim.derived_id("free-s2s-client-id"),
        sim.derived_secret("free-s2s-client-secret"),
        [],
        name="Free account Server-to-Server app",
        kind="server_to_server",
        meta={"account_id": free.id},
    )
