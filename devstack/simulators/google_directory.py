"""Google Workspace directory model for the Google simulator: users and the users.list query syntax.

Only the part of the Admin SDK Directory API that orgconnect touches is modelled: ``User``
resources (admin and domain-public views), renames that keep the old address as an alias, and
the ``query`` / ``orderBy`` / ``sortOrder`` parameters of ``users.list``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from devstack.simulators.demo import DemoPerson, work_profile

#: ``query`` fields the simulator understands, mapped to how a user exposes them.
_QUERY_FIELDS = ("email", "givenname", "familyname", "name", "isadmin", "issuspended")
_TERM_RE = re.compile(r"(?P<field>[A-Za-z]+)(?P<op>[:=])(?P<value>'[^']*'|\"[^\"]*\"|\S+)")


class DirectoryQueryError(ValueError):
    """A ``query`` the simulator cannot evaluate (answered as 400 ``invalid``)."""


@dataclass
class WorkspaceUser:
    """One user of the simulated Google Workspace customer."""

    id: str
    primary_email: str
    given_name: str
    family_name: str
    customer_id: str
    creation_time: str
    is_admin: bool = False
    suspended: bool = False
    aliases: list[str] = field(default_factory=list)
    job_title: str | None = None
    department: str | None = None
    organization: str | None = None
    phone: str | None = None  # phones[type=work]
    mobile_phone: str | None = None  # phones[type=mobile]
    employee_id: str | None = None  # externalIds[type=organization]
    language: str = "en"

    @classmethod
    def of_person(cls, user_id: str, person: DemoPerson, customer_id: str, created: str) -> WorkspaceUser:
        """A demo person as a user of the customer, with its work profile."""
        work = work_profile(person)
        return cls(
            user_id, person.email, person.first_name, person.last_name, customer_id, created,
            is_admin=person.is_admin, suspended=person.google_suspended, job_title=work.job_title,
            department=work.department, organization=work.organization, phone=work.phone,
            mobile_phone=work.mobile_phone, employee_id=work.employee_id,
        )  # fmt: skip

    @property
    def full_name(self) -> str:
        """``givenName familyName``."""
        return f"{self.given_name} {self.family_name}".strip()

    @property
    def domain(self) -> str:
        """The primary email's domain."""
        return self.primary_email.rsplit("@", 1)[1].lower()

    def etag(self) -> str:
        """A quoted etag that changes whenever the resource does."""
        digest = hashlib.sha256(repr(self.admin_view()).encode()).hexdigest()[:27]
        return f'"{digest}"'

    def admin_view(self) -> dict[str, Any]:
        """The ``admin_view`` representation (``projection=basic``), without the etag."""
        local = self.primary_email.split("@", 1)[0]
        body: dict[str, Any] = {
            "kind": "admin#directory#user",
            "id": self.id,
            "primaryEmail": self.primary_email,
            "name": {
                "givenName": self.given_name,
                "familyName": self.family_name,
                "fullName": self.full_name,
            },
            "isAdmin": self.is_admin,
            "isDelegatedAdmin": False,
            "lastLoginTime": "1970-01-01T00:00:00.000Z",
            "creationTime": self.creation_time,
            "agreedToTerms": True,
            "suspended": self.suspended,
            "archived": False,
            "changePasswordAtNextLogin": False,
            "ipWhitelisted": False,
            "emails": [{"address": self.primary_email, "primary": True}]
            + [{"address": alias} for alias in self.aliases],
            "languages": [{"languageCode": self.language, "preference": "preferred"}],
            "nonEditableAliases": [f"{local}@{self.domain.split('.')[0]}.test-google-a.com"],
            "customerId": self.customer_id,
            "orgUnitPath": "/",
            "isMailboxSetup": True,
            "isEnrolledIn2Sv": False,
            "isEnforcedIn2Sv": False,
            "includeInGlobalAddressList": True,
        }
        if self.aliases:
            body["aliases"] = list(self.aliases)
        body.update(self._work_view())
        if self.suspended:
            body["suspensionReason"] = "ADMIN"
        return body

    def _work_view(self) -> dict[str, Any]:
        """``phones``, ``organizations`` and ``externalIds``, each left out when empty (as Google)."""
        phones = [
            {"value": value, "type": kind}
            for value, kind in ((self.phone, "work"), (self.mobile_phone, "mobile"))
            if value
        ]
        job = {"title": self.job_title, "department": self.department, "name": self.organization}
        organization = {key: value for key, value in job.items() if value}
        view: dict[str, Any] = {"phones": phones} if phones else {}
        if organization:
            view["organizations"] = [{**organization, "primary": True, "customType": ""}]
        if self.employee_id:
            view["externalIds"] = [{"value": self.employee_id, "type": "organization"}]
        return view

    def to_resource(self, *, admin_view: bool) -> dict[str, Any]:
        """The resource as users.get / users.list return it for the chosen ``viewType``."""
        if admin_view:
            return {"etag": self.etag(), **self.admin_view()}
        return {
            "kind": "admin#directory#user",
            "id": self.id,
            "etag": self.etag(),
            "primaryEmail": self.primary_email,
            "name": {
                "givenName": self.given_name,
                "familyName": self.family_name,
                "fullName": self.full_name,
            },
            "emails": [{"address": self.primary_email, "primary": True}],
        }


UserPredicate = Callable[[WorkspaceUser], bool]


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _text_match(actual: str, op: str, wanted: str) -> bool:
    actual, wanted = actual.lower(), wanted.lower()
    if wanted.endswith("*"):
        return actual.startswith(wanted[:-1])
    if op == "=":
        return actual == wanted
    # ``field:value`` matches a whole word of the field (Google's "contains" for names).
    return actual == wanted or wanted in re.split(r"[\s.@_-]+", actual)


def parse_query(raw: str | None) -> UserPredicate | None:
    """users.list ``query`` as a predicate: space-separated ``field:value`` / ``field=value``
    terms, all of which must match; ``value*`` is a prefix match."""
    if raw is None or not raw.strip():
        return None
    terms: list[UserPredicate] = []
    position = 0
    text = raw.strip()
    while position < len(text):
        match = _TERM_RE.match(text, position)
        if match is None:
            raise DirectoryQueryError(f"Invalid Input: {raw}")
        name, op, value = match.group("field").lower(), match.group("op"), _unquote(match.group("value"))
        if name not in _QUERY_FIELDS:
            raise DirectoryQueryError(f"Invalid Input: unknown field {match.group('field')}")
        terms.append(_term(name, op, value))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return lambda user: all(term(user) for term in terms)


def _term(name: str, op: str, value: str) -> UserPredicate:
    if name in ("isadmin", "issuspended"):
        if value.lower() not in ("true", "false"):
            raise DirectoryQueryError(f"Invalid Input: {name} takes true or false")
        flag = value.lower() == "true"
        if name == "isadmin":
            return lambda u: u.is_admin == flag
        return lambda u: u.suspended == flag
    if name == "email":
        return lambda u: any(_text_match(address, op, value) for address in [u.primary_email, *u.aliases])
    if name == "givenname":
        return lambda u: _text_match(u.given_name, op, value)
    if name == "familyname":
        return lambda u: _text_match(u.family_name, op, value)
    return lambda u: _text_match(u.full_name, op, value) or _text_match(u.given_name, op, value)


_ORDER_KEYS: dict[str | None, Callable[[WorkspaceUser], tuple[str, str]]] = {
    None: lambda u: ("", u.id),
    "email": lambda u: (u.primary_email.lower(), u.id),
    "givenName": lambda u: (u.given_name.lower(), u.id),
    "familyName": lambda u: (u.family_name.lower(), u.id),
}


def order_key(order_by: str | None) -> Callable[[WorkspaceUser], tuple[str, str]] | None:
    """The sort key for ``orderBy`` (None for an unsupported value)."""
    return _ORDER_KEYS.get(order_by)


def select_users(
    users: Iterable[WorkspaceUser],
    predicate: UserPredicate | None,
    key: Callable[[WorkspaceUser], tuple[str, str]],
) -> list[WorkspaceUser]:
    """The users matching ``predicate``, sorted by ``key`` (ascending)."""
    return sorted((u for u in users if predicate is None or predicate(u)), key=key)
