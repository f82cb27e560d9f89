"""The demo organization shared by every provider simulator.

One deterministic directory of people, generated from a seed, so that the calendar tenants
(Google Workspace ``example.com``, Microsoft 365 ``subsidiary.example``) and the conferencing
accounts (Zoom, Webex, ...) agree on who exists:

- most ``example.com`` people have an active Zoom user,
- some have a *pending* Zoom user (invited, not yet activated),
- some have an *inactive* (deactivated) Zoom user,
- some have no Zoom user at all,
- ``subsidiary.example`` people live in the second calendar tenant (seed 002).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

ZoomStatus = Literal["active", "pending", "inactive"]

PRIMARY_DOMAIN = "example.com"
SECONDARY_DOMAIN = "subsidiary.example"

_FIRST = [
    "Ada",
    "Grace",
    "Alan",
    "Edsger",
    "Barbara",
    "Donald",
    "Frances",
    "John",
    "Katherine",
    "Ken",
    "Linus",
    "Margaret",
    "Niklaus",
    "Radia",
    "Shafi",
    "Tim",
    "Vint",
    "Whitfield",
    "Yukihiro",
    "Zhang",
]
_LAST = [
    "Lovelace",
    "Hopper",
    "Turing",
    "Dijkstra",
    "Liskov",
    "Knuth",
    "Allen",
    "McCarthy",
    "Johnson",
    "Thompson",
    "Torvalds",
    "Hamilton",
    "Wirth",
    "Perlman",
    "Goldwasser",
    "Berners-Lee",
    "Cerf",
    "Diffie",
    "Matsumoto",
    "Wei",
]


@dataclass(frozen=True)
class DemoPerson:
    """One person of the demo organization."""

    first_name: str
    last_name: str
    email: str
    domain: str
    zoom_status: ZoomStatus | None  # None: this person has no Zoom user
    is_admin: bool = False

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@dataclass(frozen=True)
class DemoDirectory:
    """Everybody in the demo organization, in a stable order."""

    people: tuple[DemoPerson, ...]
    seed: int

    @property
    def admin(self) -> DemoPerson:
        return next(p for p in self.people if p.is_admin and p.domain == PRIMARY_DOMAIN)

    def in_domain(self, domain: str) -> list[DemoPerson]:
        return [p for p in self.people if p.domain == domain]

    def zoom_users(self) -> list[DemoPerson]:
        return [p for p in self.people if p.zoom_status is not None]

    def emails(self, *, zoom_status: ZoomStatus | None, domain: str = PRIMARY_DOMAIN) -> list[str]:
        return [p.email for p in self.people if p.domain == domain and p.zoom_status == zoom_status]

    def summary(self) -> dict[str, list[str]]:
        """The `demo` block of `.orgconnect/dev.json` (SPEC section 6)."""
        return {
            "zoom_active": self.emails(zoom_status="active"),
            "zoom_pending": self.emails(zoom_status="pending"),
            "zoom_inactive": self.emails(zoom_status="inactive"),
            "no_zoom": self.emails(zoom_status=None),
            "other_tenant": [p.email for p in self.in_domain(SECONDARY_DOMAIN)],
        }


def build_demo_directory(
    *, seed: int = 7, primary_users: int = 50, secondary_users: int = 8
) -> DemoDirectory:
    """Generate the demo organization.

    The first ``example.com`` person is the administrator (an active Zoom user, admin of the
    Google Workspace tenant and owner of the Zoom account). Of the rest, about 80% are active
    Zoom users, 8% pending, 4% inactive and 8% have no Zoom user; at least one of each.
    """
    if primary_users < 5:
        raise ValueError("primary_users must be at least 5 (one of each kind plus the admin)")
    rng = random.Random(seed)
    people: list[DemoPerson] = []
    used: set[str] = set()

    def new_person(domain: str, status: ZoomStatus | None, *, is_admin: bool = False) -> DemoPerson:
        while True:
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            local = f"{first}.{last}".lower().replace("-", "")
            email = f"{local}@{domain}"
            n = 2
            while email in used:
                email = f"{local}{n}@{domain}"
                n += 1
            used.add(email)
            return DemoPerson(first, last, email, domain, status, is_admin)

    people.append(new_person(PRIMARY_DOMAIN, "active", is_admin=True))
    # Guarantee one of each kind, then fill by weight.
    fixed: list[ZoomStatus | None] = ["pending", "inactive", None]
    for fixed_status in fixed:
        people.append(new_person(PRIMARY_DOMAIN, fixed_status))
    statuses: list[ZoomStatus | None] = ["active", "pending", "inactive", None]
    weights = [80, 8, 4, 8]
    for _ in range(primary_users - len(people)):
        people.append(new_person(PRIMARY_DOMAIN, rng.choices(statuses, weights)[0]))
    for i in range(secondary_users):
        # The subsidiary's people are mostly on the same Zoom account too.
        subsidiary_status: ZoomStatus | None = "active" if i % 4 else None
        people.append(new_person(SECONDARY_DOMAIN, subsidiary_status, is_admin=(i == 0)))
    return DemoDirectory(people=tuple(people), seed=seed)
