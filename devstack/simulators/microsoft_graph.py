"""Microsoft Graph directory model for the Microsoft 365 simulator: users, roles and OData queries.

Only the part of Graph that orgconnect touches is modelled: ``user`` objects with their default
and selectable properties, the Global Administrator directory role, and the ``$filter`` /
``$select`` subset the ``/users`` endpoint supports without advanced query headers.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

#: Graph's well-known role template id of Global Administrator (Company Administrator).
GLOBAL_ADMIN_TEMPLATE_ID = "62e90394-69f5-4237-9190-012177145e10"
#: Role template id of Global Reader (present in the tenant, with no members) so that callers
#: that pick "the first role" instead of matching the template id are caught.
GLOBAL_READER_TEMPLATE_ID = "f2ef992c-3afb-46b9-b7cf-a126ee74c451"

#: The properties Graph returns for a user when no ``$select`` is given (v1.0).
DEFAULT_USER_PROPERTIES: tuple[str, ...] = (
    "businessPhones",
    "displayName",
    "givenName",
    "jobTitle",
    "mail",
    "mobilePhone",
    "officeLocation",
    "preferredLanguage",
    "surname",
    "userPrincipalName",
    "id",
)
#: Every property the simulator can return through ``$select``.
SELECTABLE_USER_PROPERTIES: frozenset[str] = frozenset(
    (
        *DEFAULT_USER_PROPERTIES,
        "accountEnabled",
        "userType",
        "createdDateTime",
        "department",
        "companyName",
        "employeeId",
        "otherMails",
        "proxyAddresses",
        "usageLocation",
        "mailNickname",
        "assignedLicenses",
        "assignedPlans",
    )
)
#: Office 365 E3 (ENTERPRISEPACK) and two of its service plans: Exchange Online (Plan 2) and
#: Microsoft Teams (TEAMS1, service ``TeamspaceAPI``); a user without Teams has TEAMS1 disabled.
E3_SKU_ID = "6fd2c87f-b296-42f0-b197-1e91e994b900"
EXCHANGE_PLAN_ID = "efb87545-963c-4e0d-99df-69c6916d9eb0"
TEAMS1_PLAN_ID = "57ff2da0-773e-42df-b2af-ffb7a2317929"
#: Properties usable in ``$filter`` and their value types.
_FILTERABLE: dict[str, type] = {
    "id": str,
    "userPrincipalName": str,
    "mail": str,
    "displayName": str,
    "givenName": str,
    "surname": str,
    "jobTitle": str,
    "department": str,
    "userType": str,
    "mailNickname": str,
    "accountEnabled": bool,
}


class ODataError(Exception):
    """A refused query option, answered as a Graph 400 error with ``code``."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class GraphUser:
    """One Entra ID user of the simulated tenant."""

    id: str
    user_principal_name: str
    given_name: str
    surname: str
    created: str
    account_enabled: bool = True
    job_title: str | None = None
    department: str | None = None
    company_name: str | None = None
    business_phone: str | None = None
    mobile_phone: str | None = None
    employee_id: str | None = None
    member_of_roles: set[str] = field(default_factory=set)
    teams_licensed: bool = True  # E3 with Teams; False: E3 with the TEAMS1 plan disabled

    @property
    def mail(self) -> str:
        """Graph's ``mail``; the simulator keeps it equal to the UPN (a cloud-only tenant)."""
        return self.user_principal_name

    @property
    def display_name(self) -> str:
        """``givenName surname``."""
        return f"{self.given_name} {self.surname}".strip()

    def properties(self) -> dict[str, Any]:
        """Every property the simulator knows, keyed by its Graph name."""
        nickname = self.user_principal_name.split("@", 1)[0]
        return {
            "id": self.id,
            "businessPhones": [self.business_phone] if self.business_phone else [],
            "displayName": self.display_name,
            "givenName": self.given_name,
            "jobTitle": self.job_title,
            "mail": self.mail,
            "mobilePhone": self.mobile_phone,
            "officeLocation": None,
            "preferredLanguage": "en-US",
            "surname": self.surname,
            "userPrincipalName": self.user_principal_name,
            "accountEnabled": self.account_enabled,
            "userType": "Member",
            "createdDateTime": self.created,
            "department": self.department,
            "companyName": self.company_name,
            "employeeId": self.employee_id,
            "otherMails": [],
            "proxyAddresses": [f"SMTP:{self.mail}"],
            "usageLocation": "US",
            "mailNickname": nickname,
            "assignedLicenses": [
                {"skuId": E3_SKU_ID, "disabledPlans": [] if self.teams_licensed else [TEAMS1_PLAN_ID]}
            ],
            "assignedPlans": self.assigned_plans(),
        }

    def assigned_plans(self) -> list[dict[str, str]]:
        """The enabled service plans of the user's E3 licence (Teams only when licensed)."""
        plans = [("exchange", EXCHANGE_PLAN_ID)] + (
            [("TeamspaceAPI", TEAMS1_PLAN_ID)] if self.teams_licensed else []
        )
        return [
            {
                "assignedDateTime": self.created,
                "capabilityStatus": "Enabled",
                "service": service,
                "servicePlanId": plan,
            }
            for service, plan in plans
        ]

    def to_graph(self, select: Sequence[str] | None = None) -> dict[str, Any]:
        """The user as Graph returns it, restricted to ``select`` (default properties otherwise)."""
        everything = self.properties()
        names = select if select else DEFAULT_USER_PROPERTIES
        return {name: everything[name] for name in names}


@dataclass(frozen=True)
class DirectoryRole:
    """An activated directory role of the tenant."""

    id: str
    display_name: str
    description: str
    role_template_id: str

    def to_graph(self) -> dict[str, Any]:
        """The role as Graph returns it (``microsoft.graph.directoryRole``)."""
        return {
            "@odata.type": "#microsoft.graph.directoryRole",
            "id": self.id,
            "deletedDateTime": None,
            "description": self.description,
            "displayName": self.display_name,
            "roleTemplateId": self.role_template_id,
        }


# --------------------------------------------------------------------------------------------
# $select
# --------------------------------------------------------------------------------------------


def parse_select(raw: str | None) -> list[str] | None:
    """``$select`` as a list of user properties (None when absent).

    Property names are matched case-insensitively, as Graph does, and returned in Graph's casing.
    """
    if raw is None or not raw.strip():
        return None
    by_lower = {name.lower(): name for name in SELECTABLE_USER_PROPERTIES}
    selected: list[str] = []
    for item in raw.split(","):
        name = item.strip()
        canonical = by_lower.get(name.lower())
        if canonical is None:
            raise ODataError(
                "Request_BadRequest",
                f"Could not find a property named '{name}' on type 'microsoft.graph.user'.",
            )
        if canonical not in selected:
            selected.append(canonical)
    return selected


# --------------------------------------------------------------------------------------------
# $filter
# --------------------------------------------------------------------------------------------

UserPredicate = Callable[[GraphUser], bool]

_TOKEN_RE = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[(),])|(?P<word>[A-Za-z_][A-Za-z0-9_./]*))")
_UNSUPPORTED_OPERATORS = frozenset({"ne", "gt", "ge", "lt", "le", "not", "endswith", "any", "all"})


@dataclass(frozen=True)
class _Tok:
    kind: str  # "str", "punct" or "word"
    text: str


def _tokenize(raw: str) -> list[_Tok]:
    tokens: list[_Tok] = []
    pos = 0
    text = raw.strip()
    while pos < len(text):
        match = _TOKEN_RE.match(text, pos)
        if match is None or match.end() == pos:
            raise ODataError(
                "BadRequest", f"Invalid filter clause: syntax error at position {pos} in '{raw}'."
            )
        kind = match.lastgroup or "word"
        tokens.append(_Tok(kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


class _FilterParser:
    """Recursive-descent parser for the ``$filter`` subset Graph allows on users by default."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self.tokens = _tokenize(raw)
        self.pos = 0

    def parse(self) -> UserPredicate:
        predicate = self._or()
        if self.pos != len(self.tokens):
            self._fail()
        return predicate

    def _fail(self) -> NoReturn:
        raise ODataError("BadRequest", f"Invalid filter clause: '{self.raw}'.")

    def _peek(self) -> _Tok | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, kind: str | None = None, text: str | None = None) -> _Tok:
        tok = self._peek()
        if tok is None or (kind and tok.kind != kind) or (text and tok.text.lower() != text):
            self._fail()
        self.pos += 1
        return tok

    def _keyword(self, word: str) -> bool:
        tok = self._peek()
        if tok is not None and tok.kind == "word" and tok.text.lower() == word:
            self.pos += 1
            return True
        return False

    def _or(self) -> UserPredicate:
        parts = [self._and()]
        while self._keyword("or"):
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else (lambda u: any(p(u) for p in parts))

    def _and(self) -> UserPredicate:
        parts = [self._atom()]
        while self._keyword("and"):
            parts.append(self._atom())
        return parts[0] if len(parts) == 1 else (lambda u: all(p(u) for p in parts))

    def _atom(self) -> UserPredicate:
        tok = self._peek()
        if tok is None:
            self._fail()
        if tok.kind == "punct" and tok.text == "(":
            self.pos += 1
            inner = self._or()
            self._take("punct", ")")
            return inner
        if tok.kind == "word" and tok.text.lower() in _UNSUPPORTED_OPERATORS:
            raise ODataError(
                "Request_UnsupportedQuery",
                f"Unsupported query: '{tok.text}' needs advanced query parameters "
                "(ConsistencyLevel: eventual and $count=true), which the simulator does not implement.",
            )
        if tok.kind == "word" and tok.text.lower() == "startswith":
            self.pos += 1
            self._take("punct", "(")
            prop = self._property()
            self._take("punct", ",")
            prefix = self._literal(prop)
            self._take("punct", ")")
            if not isinstance(prefix, str):
                self._fail()
            return lambda u: _text(u, prop).startswith(str(prefix).lower())
        prop = self._property()
        operator = self._take("word").text.lower()
        if operator == "eq":
            value = self._literal(prop)
            return lambda u: _matches(u, prop, value)
        if operator == "in":
            self._take("punct", "(")
            values = [self._literal(prop)]
            while self._peek() == _Tok("punct", ","):
                self.pos += 1
                values.append(self._literal(prop))
            self._take("punct", ")")
            return lambda u: any(_matches(u, prop, v) for v in values)
        if operator in _UNSUPPORTED_OPERATORS:
            raise ODataError(
                "Request_UnsupportedQuery",
                f"Unsupported or invalid query filter clause specified for property '{prop}' "
                "of resource 'User'.",
            )
        self._fail()

    def _property(self) -> str:
        name = self._take("word").text
        by_lower = {key.lower(): key for key in _FILTERABLE}
        canonical = by_lower.get(name.lower())
        if canonical is None:
            raise ODataError(
                "Request_UnsupportedQuery",
                f"Unsupported or invalid query filter clause specified for property '{name}' "
                "of resource 'User'.",
            )
        return canonical

    def _literal(self, prop: str) -> str | bool | None:
        tok = self._take()
        expected = _FILTERABLE[prop]
        if tok.kind == "str":
            if expected is bool:
                self._fail()
            return tok.text[1:-1].replace("''", "'")
        word = tok.text.lower()
        if word in ("true", "false") and expected is bool:
            return word == "true"
        if word == "null":
            return None
        self._fail()


def _text(user: GraphUser, prop: str) -> str:
    value = user.properties()[prop]
    return "" if value is None else str(value).lower()


def _matches(user: GraphUser, prop: str, value: str | bool | None) -> bool:
    actual = user.properties()[prop]
    if isinstance(value, str):
        # Directory string comparisons are case-insensitive.
        return isinstance(actual, str) and actual.lower() == value.lower()
    return bool(actual == value)


def parse_filter(raw: str | None) -> UserPredicate | None:
    """``$filter`` as a predicate on users (None when absent); raises ``ODataError``."""
    if raw is None or not raw.strip():
        return None
    return _FilterParser(raw).parse()


def filter_users(users: Iterable[GraphUser], predicate: UserPredicate | None) -> list[GraphUser]:
    """The users matching ``predicate``, ordered by id (the order paging relies on)."""
    return sorted((u for u in users if predicate is None or predicate(u)), key=lambda u: u.id)
