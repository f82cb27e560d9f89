"""The Zoom simulator's data model: accounts, users, meetings, and an indexed user directory.

Facts come from ``reference/providers.md`` section 1; where the reference is silent the choice
is documented in ``docs/simulators.md``.

The directory keeps, per account and status, an insertion-ordered id set plus a cached list
snapshot, so listing a page is O(page) (the snapshot is rebuilt only after a mutation), which
keeps ``GET /v2/users`` fast on a 100,000-user benchmark seed.
"""

from __future__ import annotations

import calendar
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from werkzeug.wrappers import Response

from devstack.simulators.common import SimResponse, json_response

Plan = Literal["free", "pro", "business"]
UserStatus = Literal["active", "inactive", "pending"]
Category = Literal["Light", "Medium", "Heavy"]

PLANS: tuple[Plan, ...] = ("free", "pro", "business")
STATUSES: tuple[UserStatus, ...] = ("active", "inactive", "pending")
CREATE_ACTIONS = ("create", "autoCreate", "custCreate", "ssoCreate")

#: Zoom user types (providers.md 1.4): 1 Basic, 2 Licensed, 3 On-prem, 99 None.
USER_TYPES = (1, 2, 3, 99)
ROLE_OWNER, ROLE_ADMIN, ROLE_MEMBER = "0", "1", "2"
ROLE_NAMES = {ROLE_OWNER: "Owner", ROLE_ADMIN: "Admin", ROLE_MEMBER: "Member"}

ACCESS_TOKEN_TTL = 3600  # "The OAuth Access Token's 1 hour expiration cannot be extended."
CODE_TTL = 300  # "The OAuth code expires in 5 minutes."
NEXT_PAGE_TOKEN_TTL = 900  # "This token's expiration period is 15 minutes."
REFRESH_TOKEN_TTL_STRICT = 90 * 86400  # the shorter of the two lifetimes the sources give
REFRESH_TOKEN_TTL_15_YEARS = 15 * 365 * 86400
DAY = 86400

#: Per-second and per-day quotas by plan and request type (providers.md 1.6). ``None``: none.
#: For Pro/Business+ the Heavy daily quota is the one shared with resource-intensive APIs.
RATE_LIMITS: dict[Plan, dict[Category, tuple[int, int | None]]] = {
    "free": {"Light": (4, 6000), "Medium": (2, 2000), "Heavy": (1, 1000)},
    "pro": {"Light": (30, None), "Medium": (20, None), "Heavy": (10, 30000)},
    "business": {"Light": (80, None), "Medium": (60, None), "Heavy": (40, 60000)},
}

#: Daily ``POST /users`` ``action=create`` limits per plan (providers.md 1.4).
DAILY_CREATE_LIMITS: dict[Plan, int] = {"free": 50, "pro": 1500, "business": 10000}
MEETINGS_PER_USER_PER_DAY = 100
EMAIL_CHANGES_PER_DAY = 3  # seed 004: "more than 3 attempts ... within a 24-hour period ... 429"

#: Scopes granted to an app registered without explicit scopes (classic and granular forms).
DEFAULT_SCOPES = (
    "user:read:list_users:admin",
    "user:read:user:admin",
    "user:write:user:admin",
    "user:update:user:admin",
    "user:delete:user:admin",
    "meeting:write:meeting:admin",
    "meeting:read:meeting:admin",
    "scim2:admin",
)


def iso(ts: float) -> str:
    """Zoom's timestamp format, e.g. ``2019-06-01T07:58:03Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def utc_day(ts: float) -> int:
    """The UTC day number of ``ts`` (daily quotas reset at 00:00 UTC)."""
    return int(ts // DAY)


def next_utc_midnight(ts: float) -> float:
    """Epoch seconds of the next 00:00 UTC after ``ts``."""
    return float((utc_day(ts) + 1) * DAY)


def parse_iso(value: str) -> float | None:
    """Epoch seconds of ``2023-01-10T09:00:10Z`` (or without ``Z``), else None."""
    text = value.strip().rstrip("Z")
    try:
        return float(calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return None


def zoom_error(
    status: int,
    code: int,
    message: str,
    *,
    errors: list[dict[str, str]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> SimResponse:
    """A raisable Zoom error ``{"code", "message"[, "errors"]}`` with HTTP ``status``."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return SimResponse(json_response(body, status, headers=headers))


def validation_failed(*fields: str) -> SimResponse:
    """Zoom's 300 "Validation Failed." with one ``Invalid field.`` entry per field."""
    return zoom_error(
        400, 300, "Validation Failed.", errors=[{"field": f, "message": "Invalid field."} for f in fields]
    )


def zoom_json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A Zoom JSON response with a tracking id header, like api.zoom.us sends."""
    response = json_response(data, status, headers=headers)
    response.headers["x-zm-trackingid"] = "SIM_" + format(time.monotonic_ns() & 0xFFFFFFFF, "08x")
    return response


@dataclass
class ZoomAccount:
    """One Zoom account. ``managed_domains`` allow ``autoCreate`` and email changes."""

    id: str
    name: str
    plan: Plan
    account_number: int
    owner_id: str = ""
    managed_domains: tuple[str, ...] = ()
    sso_enabled: bool = False
    cust_create_enabled: bool = False
    creates_today: tuple[int, int] = (0, 0)  # (UTC day, action=create calls that day)

    @property
    def is_paid(self) -> bool:
        """Any plan other than Free."""
        return self.plan != "free"


@dataclass(slots=True)
class ZoomUser:
    """One user of a Zoom account."""

    id: str
    account_id: str
    email: str
    first_name: str
    last_name: str
    type: int
    status: UserStatus
    role_id: str
    created_at: float
    pmi: int
    timezone: str = "America/New_York"
    dept: str = ""
    job_title: str = ""
    language: str = "en-US"
    phone_number: str = ""
    external_id: str | None = None
    last_login_time: float | None = None
    meetings_today: tuple[int, int] = (0, 0)  # (UTC day, meeting creates that day)
    email_changes: list[float] = field(default_factory=list)

    @property
    def display_name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}".strip()

    def summary(self) -> dict[str, Any]:
        """``{id, first_name, last_name, email, type}``: create responses and event objects."""
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "type": self.type,
        }

    def list_item(self, *, include_fields: frozenset[str] = frozenset()) -> dict[str, Any]:
        """The user as an item of ``GET /users`` (minimal for pending users, as Zoom does)."""
        if self.status == "pending":
            item = {**self.summary(), "status": "pending", "role_id": self.role_id}
            item["created_at"] = iso(self.created_at)
            return item
        item = {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "display_name": self.display_name,
            "email": self.email,
            "type": self.type,
            "pmi": self.pmi,
            "timezone": self.timezone,
            "verified": 1,
            "dept": self.dept,
            "created_at": iso(self.created_at),
            "user_created_at": iso(self.created_at),
            "last_client_version": "5.17.11.34827(mac)",
            "language": self.language,
            "status": self.status,
            "role_id": self.role_id,
            "employee_unique_id": "",
            "group_ids": [],
            "im_group_ids": [],
        }
        if self.last_login_time is not None:
            item["last_login_time"] = iso(self.last_login_time)
        if "host_key" in include_fields:
            item["host_key"] = str(self.pmi)[-6:]
        if "custom_attributes" in include_fields:
            item["custom_attributes"] = []
        return item

    def detail(self, account: ZoomAccount, base_url: str) -> dict[str, Any]:
        """The user as ``GET /users/{userId}`` returns it."""
        if self.status == "pending":
            item = self.list_item()
            item["account_id"] = self.account_id
            return item
        item = self.list_item()
        item.update(
            {
                "account_id": account.id,
                "account_number": account.account_number,
                "role_name": ROLE_NAMES.get(self.role_id, "Member"),
                "use_pmi": False,
                "personal_meeting_url": f"{base_url}/j/{self.pmi}",
                "vanity_url": "",
                "jid": f"{self.id.lower()}@xmpp.zoom.us",
                "job_title": self.job_title,
                "company": account.name,
                "location": "",
                "phone_number": self.phone_number,
                "phone_country": "",
                "phone_numbers": [],
                "login_types": [100] if account.sso_enabled else [100, 101],
                "cluster": "us05",
                "pic_url": "",
            }
        )
        return item


@dataclass
class ZoomMeeting:
    """A scheduled meeting."""

    id: int
    uuid: str
    host_id: str
    host_email: str
    topic: str
    type: int
    start_time: float
    duration: int
    timezone: str
    password: str
    created_at: float
    agenda: str = ""
    settings: dict[str, Any] = field(default_factory=dict)

    def as_json(self, base_url: str) -> dict[str, Any]:
        """The meeting as ``POST /users/{userId}/meetings`` returns it."""
        return {
            "uuid": self.uuid,
            "id": self.id,
            "host_id": self.host_id,
            "host_email": self.host_email,
            "topic": self.topic,
            "type": self.type,
            "status": "waiting",
            "start_time": iso(self.start_time),
            "duration": self.duration,
            "timezone": self.timezone,
            "agenda": self.agenda,
            "created_at": iso(self.created_at),
            "start_url": f"{base_url}/s/{self.id}?zak=sim-{self.uuid}",
            "join_url": f"{base_url}/j/{self.id}?pwd={self.password}",
            "password": self.password,
            "h323_password": self.password,
            "pstn_password": self.password,
            "encrypted_password": self.password,
            "pre_schedule": False,
            "settings": {"host_video": False, "participant_video": False, "join_before_host": False}
            | self.settings,
        }


@dataclass
class PageCursor:
    """Server-side state behind a ``next_page_token``."""

    account_id: str
    status: UserStatus
    role_id: str | None
    offset: int
    expires_at: float


class ZoomDirectory:
    """Accounts and users with the indexes the API needs (by id, by email, by account+status)."""

    def __init__(self) -> None:
        self.accounts: dict[str, ZoomAccount] = {}
        self.users: dict[str, ZoomUser] = {}
        self._by_email: dict[str, str] = {}
        self._buckets: dict[tuple[str, UserStatus], dict[str, None]] = {}
        self._snapshots: dict[tuple[str, UserStatus], list[str]] = {}

    # ----- lookups ---------------------------------------------------------------------------

    def by_email(self, email: str) -> ZoomUser | None:
        """The user with ``email`` (case-insensitive) in any account."""
        user_id = self._by_email.get(email.lower())
        return self.users.get(user_id) if user_id else None

    def find(self, account_id: str, id_or_email: str) -> ZoomUser | None:
        """A user of ``account_id`` by Zoom id or email; users of other accounts are invisible."""
        user = self.by_email(id_or_email) if "@" in id_or_email else self.users.get(id_or_email)
        if user is None or user.account_id != account_id:
            return None
        return user

    def count(self, account_id: str, status: UserStatus) -> int:
        """How many users of ``account_id`` have ``status``."""
        return len(self._buckets.get((account_id, status), ()))

    def page(self, account_id: str, status: UserStatus, offset: int, size: int) -> list[ZoomUser]:
        """Users ``offset .. offset+size`` of ``account_id`` with ``status``, in creation order."""
        key = (account_id, status)
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            snapshot = list(self._buckets.get(key, ()))
            self._snapshots[key] = snapshot
        return [self.users[uid] for uid in snapshot[offset : offset + size]]

    def account_users(self, account_id: str) -> list[ZoomUser]:
        """Every user of one account (all statuses, creation order within each status)."""
        return [self.users[uid] for status in STATUSES for uid in self._buckets.get((account_id, status), ())]

    # ----- mutations -------------------------------------------------------------------------

    def add(self, user: ZoomUser) -> ZoomUser:
        """Insert a new user (the caller has checked that the email is free)."""
        self.users[user.id] = user
        self._by_email[user.email.lower()] = user.id
        self._bucket_add(user)
        return user

    def remove(self, user: ZoomUser) -> None:
        """Take a user out of the directory."""
        self._bucket_remove(user)
        self.users.pop(user.id, None)
        self._by_email.pop(user.email.lower(), None)

    def set_status(self, user: ZoomUser, status: UserStatus) -> None:
        """Move a user to another status bucket."""
        if user.status == status:
            return
        self._bucket_remove(user)
        user.status = status
        self._bucket_add(user)

    def rename(self, user: ZoomUser, email: str) -> None:
        """Change a user's email (the caller has checked that it is free)."""
        self._by_email.pop(user.email.lower(), None)
        user.email = email
        self._by_email[email.lower()] = user.id

    def _bucket_add(self, user: ZoomUser) -> None:
        key = (user.account_id, user.status)
        self._buckets.setdefault(key, {})[user.id] = None
        self._snapshots.pop(key, None)

    def _bucket_remove(self, user: ZoomUser) -> None:
        key = (user.account_id, user.status)
        self._buckets.get(key, {}).pop(user.id, None)
        self._snapshots.pop(key, None)


def compact_json(data: Any) -> bytes:
    """JSON without spaces, the way Zoom's webhook bodies look."""
    return json.dumps(data, separators=(",", ":")).encode()
