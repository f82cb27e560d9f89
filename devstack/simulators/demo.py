"""The demo organization shared by every provider simulator.

One deterministic directory of people, generated from a seed, so that the calendar tenants
(Google Workspace ``example.com``, Microsoft 365 ``subsidiary.example``) and the conferencing
accounts (Zoom, Webex, ...) agree on who exists:

- most ``example.com`` people have an active Zoom user,
- some have a *pending* Zoom user (invited, not yet activated),
- some have an *inactive* (deactivated) Zoom user,
- some have no Zoom user at all,
- ``subsidiary.example`` people live in the second calendar tenant (seed 002).

The other conferencing providers follow the same people (``summary()`` names them per provider):
Webex and Indeed hold the people who have a Zoom user, with the same standing (pending =
invited, inactive = sign-in disabled / deactivated); Google Meet is the Google Workspace tenant
(the last ``example.com`` person is suspended there); Microsoft Teams is the Microsoft 365 tenant
(the last ``subsidiary.example`` person has no Teams licence).
"""

from __future__ import annotations

import random
import zlib
from dataclasses import dataclass, replace
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
    google_suspended: bool = False  # suspended in Google Workspace (Meet: inactive)
    teams_licensed: bool = True  # Microsoft 365: the E3 licence's Teams plan is enabled

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
        """The `demo` block of `.orgconnect/dev.json` (SPEC section 6): calendar users, per
        conferencing provider and standing. Every email is a calendar user of the demo: the
        ``example.com`` ones of the Google Workspace tenant, the ``subsidiary.example`` ones
        (``other_tenant``, ``ms_teams_*``) of the Microsoft 365 tenant."""
        primary = self.in_domain(PRIMARY_DOMAIN)
        secondary = self.in_domain(SECONDARY_DOMAIN)
        active, pending, inactive = (self.emails(zoom_status=s) for s in ("active", "pending", "inactive"))
        return {
            "zoom_active": active,
            "zoom_pending": pending,
            "zoom_inactive": inactive,
            "no_zoom": self.emails(zoom_status=None),
            "other_tenant": [p.email for p in secondary],
            # Webex: the Zoom people; pending = invitePending, inactive = loginEnabled false.
            "webex_active": active,
            "webex_pending": pending,
            "webex_inactive": inactive,
            "ms_teams_active": [p.email for p in secondary if p.teams_licensed],
            "ms_teams_unlicensed": [p.email for p in secondary if not p.teams_licensed],
            "google_meet_active": [p.email for p in primary if not p.google_suspended],
            "google_meet_suspended": [p.email for p in primary if p.google_suspended],
            # Indeed: the Zoom people; pending = invited, inactive = deactivated.
            "indeed_active": active,
            "indeed_invited": pending,
            "indeed_deactivated": inactive,
        }


def build_demo_directory(
    *, seed: int = 7, primary_users: int = 50, secondary_users: int = 8
) -> DemoDirectory:
    """Generate the demo organization.

    The first ``example.com`` person is the administrator (an active Zoom user, admin of the
    Google Workspace tenant and owner of the Zoom account). Of the rest, about 80% are active
    Zoom users, 8% pending, 4% inactive and 8% have no Zoom user; at least one of each. The
    last non-admin of ``example.com`` is suspended in Google Workspace, the last non-admin of
    ``subsidiary.example`` has no Teams licence.
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
    # One person per calendar tenant who cannot use its conferencing: the last of each domain
    # (never an admin), chosen without drawing from ``rng`` so the emails stay what they were.
    last = {p.domain: i for i, p in enumerate(people) if not p.is_admin}
    if PRIMARY_DOMAIN in last:
        people[last[PRIMARY_DOMAIN]] = replace(people[last[PRIMARY_DOMAIN]], google_suspended=True)
    if SECONDARY_DOMAIN in last:
        people[last[SECONDARY_DOMAIN]] = replace(people[last[SECONDARY_DOMAIN]], teams_licensed=False)
    return DemoDirectory(people=tuple(people), seed=seed)


#: (department, job title) of the demo's non-administrators, one chosen per person by its email.
_JOBS = (
    ("Engineering", "Software Engineer"),
    ("Sales", "Account Executive"),
    ("Finance", "Financial Analyst"),
    ("Support", "Support Engineer"),
    ("Marketing", "Product Marketing Manager"),
)
_ORGANIZATIONS = {PRIMARY_DOMAIN: "Example Corporation", SECONDARY_DOMAIN: "Example Subsidiary"}


@dataclass(frozen=True)
class WorkProfile:
    """What a calendar directory holds about a person's job (provisioning's attribute mapping)."""

    job_title: str
    department: str
    organization: str
    phone: str
    mobile_phone: str | None  # about half the people have none
    employee_id: str


def work_profile(person: DemoPerson) -> WorkProfile:
    """The person's job, derived from its email alone (no draw from the directory's ``rng``, so
    the people stay who they were); administrators are in IT."""
    number = zlib.crc32(person.email.encode())
    department, title = ("IT", "IT Administrator") if person.is_admin else _JOBS[number % len(_JOBS)]
    return WorkProfile(
        job_title=title,
        department=department,
        organization=_ORGANIZATIONS.get(person.domain, "Example Corporation"),
        phone=f"+1 555 01{number % 100:02d}",
        mobile_phone=f"+1 555 02{number // 100 % 100:02d}" if number % 2 else None,
        employee_id=f"E{number % 100000:05d}",
    )
