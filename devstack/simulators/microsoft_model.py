"""Microsoft tenant vocabulary: Graph permissions, consent records, ids and timestamps."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from devstack.simulators.common import IssuedToken
from devstack.simulators.demo import DemoPerson, work_profile
from devstack.simulators.microsoft_graph import GraphUser

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
GRAPH_RESOURCE = "https://graph.microsoft.com"
OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})
#: Delegated Graph permissions the simulator knows (canonical casing).
DELEGATED_PERMISSIONS = frozenset(
    {
        "User.Read",
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
        "GroupMember.Read.All",
        "RoleManagement.Read.Directory",
        "Calendars.Read",
        "Calendars.ReadWrite",
        "Mail.Send",
        "OnlineMeetings.Read",
        "OnlineMeetings.ReadWrite",
    }
)
#: Delegated permissions only an administrator may consent to.
ADMIN_ONLY_DELEGATED = frozenset(
    {
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
        "GroupMember.Read.All",
        "RoleManagement.Read.Directory",
    }
)
#: Application permissions (app roles) the simulator knows.
APPLICATION_PERMISSIONS = frozenset(
    {
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "RoleManagement.Read.Directory",
        "Calendars.Read",
        "Calendars.ReadWrite",
        "Mail.Send",
        "OnlineMeetings.ReadWrite.All",
    }
)
#: What the orgconnect app registration asks for (API permissions blade of the app).
DEFAULT_APPLICATION_PERMISSIONS = ("User.Read.All", "Calendars.ReadWrite", "OnlineMeetings.ReadWrite.All")
DEFAULT_DELEGATED_PERMISSIONS = (
    "openid",
    "profile",
    "email",
    "offline_access",
    "User.Read",
    "User.Read.All",
    "Calendars.ReadWrite",
    "OnlineMeetings.ReadWrite",
)

READ_USERS_DELEGATED = frozenset(
    {
        "User.ReadBasic.All",
        "User.Read.All",
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
        "Directory.AccessAsUser.All",
    }
)
READ_USERS_APP = frozenset(
    {"User.Read.All", "User.ReadWrite.All", "Directory.Read.All", "Directory.ReadWrite.All"}
)
READ_ROLES_DELEGATED = READ_USERS_DELEGATED | {"RoleManagement.Read.Directory", "GroupMember.Read.All"}
READ_ROLES_APP = READ_USERS_APP | {"RoleManagement.Read.Directory"}

AdminConsentError = Literal["consent_required", "access_denied"]
UNSUPPORTED_ODATA = ("$orderby", "$count", "$search", "$expand", "$skip", "$format")


def iso_utc(timestamp: float) -> str:
    """RFC 3339 UTC to the second, as Graph writes timestamps."""
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_guid(rng: random.Random) -> str:
    """A GUID drawn from ``rng`` (deterministic for a seeded simulator)."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def seeded_guid(*parts: object) -> str:
    """A GUID that depends only on ``parts`` (stable tenant ids)."""
    return random_guid(random.Random(":".join(str(p) for p in parts)))


def person_user(user_id: str, person: DemoPerson, created: str) -> GraphUser:
    """A demo person as a user of the tenant, with its work profile."""
    work = work_profile(person)
    return GraphUser(
        user_id,
        person.email,
        person.first_name,
        person.last_name,
        created,
        job_title=work.job_title,
        department=work.department,
        company_name=work.organization,
        business_phone=work.phone,
        mobile_phone=work.mobile_phone,
        employee_id=work.employee_id,
        teams_licensed=person.teams_licensed,
    )


@dataclass
class TenantConsent:
    """Tenant-wide (admin) consent given to one app."""

    roles: set[str] = field(default_factory=set)
    delegated: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class GraphCaller:
    """Who a Graph request acts as."""

    token: IssuedToken
    kind: Literal["user", "app"]
    user: GraphUser | None
    scopes: frozenset[str]
    roles: frozenset[str]


class ScopeError(ValueError):
    """A scope parameter that names something the simulator does not know."""
