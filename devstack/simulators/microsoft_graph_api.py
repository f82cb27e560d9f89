"""Microsoft Graph v1.0: users, me, memberOf, directory roles, organization, Teams meetings."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import ControlError, SimResponse, bearer_token, json_response, read_json
from devstack.simulators.microsoft_graph import (
    DirectoryRole,
    GraphUser,
    ODataError,
    filter_users,
    parse_filter,
    parse_select,
)
from devstack.simulators.microsoft_model import (
    READ_ROLES_APP,
    READ_ROLES_DELEGATED,
    READ_USERS_APP,
    READ_USERS_DELEGATED,
    UNSUPPORTED_ODATA,
    GraphCaller,
    iso_utc,
)
from devstack.simulators.provider_kit import split_scopes
from devstack.simulators.simulator import RouteSpec

if TYPE_CHECKING:
    from devstack.simulators.microsoft import MicrosoftSimulator


class MicrosoftGraphApi:
    """The Graph v1.0 handlers; callers are authenticated by their Graph JWT."""

    def __init__(self, sim: MicrosoftSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The Graph v1.0 routes."""
        return [
            ("/v1.0/users", self._users_list, "GET", "api"),
            ("/v1.0/users/<key>", self._users_get, "GET", "api"),
            ("/v1.0/users/<key>/memberOf", self._member_of, "GET", "api"),
            ("/v1.0/users/<key>/onlineMeetings", self._create_meeting, "POST", "api"),
            ("/v1.0/me", self._me, "GET", "api"),
            ("/v1.0/me/memberOf", self._member_of, "GET", "api"),
            ("/v1.0/me/onlineMeetings", self._create_meeting, "POST", "api"),
            ("/v1.0/directoryRoles", self._roles_list, "GET", "api"),
            ("/v1.0/directoryRoles/<role_id>", self._role_get, "GET", "api"),
            ("/v1.0/directoryRoles/<role_id>/members", self._role_members, "GET", "api"),
            ("/v1.0/directoryRoles(roleTemplateId=<template>)", self._role_get, "GET", "api"),
            ("/v1.0/directoryRoles(roleTemplateId=<template>)/members", self._role_members, "GET", "api"),
            ("/v1.0/organization", self._organization, "GET", "api"),
        ]

    def _caller(self, request: Request) -> GraphCaller:
        """Authenticate a Graph call and apply the rate limit; raises ``SimResponse`` on refusal."""
        value = bearer_token(request)
        www = {
            "WWW-Authenticate": 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/'
            'common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"'
        }
        if value is None:
            raise SimResponse(
                self.sim.graph_error(
                    request, 401, "InvalidAuthenticationToken", "Access token is empty.", www
                )
            )
        record = self.sim.tokens.find(value)
        if record is None or record.kind != "access" or record.revoked:
            raise SimResponse(
                self.sim.graph_error(
                    request,
                    401,
                    "InvalidAuthenticationToken",
                    "Access token validation failure. Invalid audience.",
                    www,
                )
            )
        if self.sim.clock.now() >= record.expires_at:
            raise SimResponse(
                self.sim.graph_error(
                    request,
                    401,
                    "InvalidAuthenticationToken",
                    "Lifetime validation failed, the token is expired.",
                    www,
                )
            )
        retry_after = self.sim.limiter.hit(f"{record.client_id}:{record.subject}")
        if retry_after is not None:
            raise SimResponse(self.sim.throttled(request, retry_after))
        if record.extra.get("kind") == "app":
            return GraphCaller(record, "app", None, frozenset(), frozenset(record.extra.get("roles", [])))
        return GraphCaller(
            record,
            "user",
            self.sim.users.get(record.subject),
            frozenset(split_scopes(record.scope)),
            frozenset(),
        )

    def _require(
        self, request: Request, caller: GraphCaller, delegated: Iterable[str], app: Iterable[str]
    ) -> None:
        allowed = caller.scopes & set(delegated) if caller.kind == "user" else caller.roles & set(app)
        if not allowed:
            raise SimResponse(
                self.sim.graph_error(
                    request,
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                )
            )

    def _signed_in_user(
        self, request: Request, caller: GraphCaller, delegated: Iterable[str] = ()
    ) -> GraphUser:
        """The user behind a ``/me`` request: app tokens cannot use ``/me`` (400), the token must
        carry one of ``delegated`` when given, and the user must still exist (404)."""
        if caller.kind == "app":
            raise SimResponse(
                self.sim.graph_error(
                    request,
                    400,
                    "BadRequest",
                    "/me request is only valid with delegated authentication flow.",
                )
            )
        if delegated:
            self._require(request, caller, set(delegated), ())
        if caller.user is None:
            raise SimResponse(self._not_found(request, caller.token.subject))
        return caller.user

    def _not_found(self, request: Request, key: str) -> Response:
        return self.sim.graph_error(
            request,
            404,
            "Request_ResourceNotFound",
            f"Resource '{key}' does not exist or one of its queried reference-property objects are "
            "not present.",
        )

    def _users_list(self, request: Request) -> Response:
        caller = self._caller(request)
        self._require(request, caller, READ_USERS_DELEGATED, READ_USERS_APP)
        args = request.args
        for option in UNSUPPORTED_ODATA:
            if option in args:
                message = (
                    "'$skip' is not supported by the service."
                    if option == "$skip"
                    else f"The simulator does not implement {option} on /users."
                )
                return self.sim.graph_error(request, 400, "Request_UnsupportedQuery", message)
        top_raw = args.get("$top")
        top = 100
        if top_raw is not None:
            try:
                top = int(top_raw)
            except ValueError:
                return self.sim.graph_error(
                    request, 400, "BadRequest", f"Invalid value '{top_raw}' for $top."
                )
            if not 1 <= top <= 999:
                return self.sim.graph_error(
                    request,
                    400,
                    "Request_BadRequest",
                    f"Invalid page size specified: '{top}'. Must be between 1 and 999 inclusive.",
                )
        try:
            select = parse_select(args.get("$select"))
            predicate = parse_filter(args.get("$filter"))
        except ODataError as exc:
            return self.sim.graph_error(request, 400, exc.code, exc.message)
        query = urlencode(sorted((k, v) for k, v in args.items(multi=True) if k != "$skiptoken"))
        matching = filter_users(self.sim.users.values(), predicate)
        skiptoken = args.get("$skiptoken")
        if skiptoken is not None:
            cursor, problem = self.sim.page_tokens.resolve(skiptoken, query)
            if problem is not None:
                return self.sim.graph_error(
                    request,
                    400,
                    "Directory_ExpiredPageToken",
                    "The specified page token value has expired and can no longer be included in your "
                    "request.",
                )
            matching = [u for u in matching if u.id > str(cursor)]
        page, rest = matching[:top], matching[top:]
        base = request.host_url.rstrip("/")
        context = f"{base}/v1.0/$metadata#users" + (f"({','.join(select)})" if select else "")
        body: dict[str, Any] = {"@odata.context": context, "value": [u.to_graph(select) for u in page]}
        if rest:
            token = self.sim.page_tokens.issue(query, page[-1].id)
            next_params = [(k, v) for k, v in args.items(multi=True) if k != "$skiptoken"] + [
                ("$skiptoken", token)
            ]
            body["@odata.nextLink"] = f"{base}/v1.0/users?" + urlencode(
                next_params, quote_via=quote, safe="$,'()"
            )
        return json_response(body)

    def _users_get(self, request: Request, key: str) -> Response:
        caller = self._caller(request)
        user = self.sim.find_user(key)
        own = caller.user is not None and user is not None and caller.user.id == user.id
        if not own or "User.Read" not in caller.scopes:
            self._require(request, caller, READ_USERS_DELEGATED, READ_USERS_APP)
        if user is None:
            return self._not_found(request, key)
        try:
            select = parse_select(request.args.get("$select"))
        except ODataError as exc:
            return self.sim.graph_error(request, 400, exc.code, exc.message)
        base = request.host_url.rstrip("/")
        return json_response(
            {"@odata.context": f"{base}/v1.0/$metadata#users/$entity", **user.to_graph(select)}
        )

    def _me(self, request: Request) -> Response:
        caller = self._caller(request)
        me = self._signed_in_user(request, caller, {"User.Read"} | READ_USERS_DELEGATED)
        try:
            select = parse_select(request.args.get("$select"))
        except ODataError as exc:
            return self.sim.graph_error(request, 400, exc.code, exc.message)
        base = request.host_url.rstrip("/")
        return json_response(
            {"@odata.context": f"{base}/v1.0/$metadata#users/$entity", **me.to_graph(select)}
        )

    def _member_of(self, request: Request, key: str | None = None) -> Response:
        caller = self._caller(request)
        if key is None:
            user = self._signed_in_user(request, caller, {"User.Read"} | READ_ROLES_DELEGATED)
        else:
            self._require(request, caller, READ_ROLES_DELEGATED, READ_ROLES_APP)
            found = self.sim.find_user(key)
            if found is None:
                return self._not_found(request, key)
            user = found
        base = request.host_url.rstrip("/")
        roles = [self.sim.roles[r].to_graph() for r in sorted(user.member_of_roles) if r in self.sim.roles]
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryObjects", "value": roles})

    def _find_role(self, role_id: str | None, template: str | None) -> DirectoryRole | None:
        if role_id is not None:
            return self.sim.roles.get(role_id)
        wanted = (template or "").strip("'\"")
        return next((r for r in self.sim.roles.values() if r.role_template_id == wanted), None)

    def _roles_list(self, request: Request) -> Response:
        caller = self._caller(request)
        self._require(request, caller, READ_ROLES_DELEGATED, READ_ROLES_APP)
        base = request.host_url.rstrip("/")
        value = [r.to_graph() for r in self.sim.roles.values()]
        for item in value:
            item.pop("@odata.type")
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryRoles", "value": value})

    def _requested_role(self, request: Request, role_id: str | None, template: str | None) -> DirectoryRole:
        """The role named by id or ``roleTemplateId``, for a caller allowed to read roles (else 403/404)."""
        caller = self._caller(request)
        self._require(request, caller, READ_ROLES_DELEGATED, READ_ROLES_APP)
        role = self._find_role(role_id, template)
        if role is None:
            raise SimResponse(self._not_found(request, role_id or template or ""))
        return role

    def _role_get(
        self, request: Request, role_id: str | None = None, template: str | None = None
    ) -> Response:
        role = self._requested_role(request, role_id, template)
        base = request.host_url.rstrip("/")
        body = role.to_graph()
        body.pop("@odata.type")
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryRoles/$entity", **body})

    def _role_members(
        self, request: Request, role_id: str | None = None, template: str | None = None
    ) -> Response:
        role = self._requested_role(request, role_id, template)
        base = request.host_url.rstrip("/")
        members = [
            {"@odata.type": "#microsoft.graph.user", **u.to_graph()}
            for u in sorted(self.sim.users.values(), key=lambda u: u.id)
            if role.id in u.member_of_roles
        ]
        return json_response({"@odata.context": f"{base}/v1.0/$metadata#directoryObjects", "value": members})

    def _organization(self, request: Request) -> Response:
        self._caller(request)
        base = request.host_url.rstrip("/")
        return json_response(
            {
                "@odata.context": f"{base}/v1.0/$metadata#organization",
                "value": [
                    {
                        "id": self.sim.tenant_id,
                        "displayName": self.sim.tenant_display_name,
                        "verifiedDomains": [
                            {
                                "capabilities": "Email, OfficeCommunicationsOnline",
                                "isDefault": name == self.sim.domain,
                                "isInitial": name == self.sim.initial_domain,
                                "name": name,
                                "type": "Managed",
                            }
                            for name in self.sim.domains
                        ],
                        "tenantType": "AAD",
                    }
                ],
            }
        )

    def _create_meeting(self, request: Request, key: str | None = None) -> Response:
        caller = self._caller(request)
        if key is None:
            organizer = self._signed_in_user(request, caller)
        else:
            found = self.sim.find_user(key)
            if caller.kind == "user" and (caller.user is None or found is None or found.id != caller.user.id):
                # Delegated tokens only create meetings for the signed-in user.
                return self.sim.graph_error(
                    request, 403, "Forbidden", "Insufficient privileges to complete the operation."
                )
            if found is None:
                return self._not_found(request, key)
            organizer = found
        if caller.kind == "user":
            self._require(request, caller, {"OnlineMeetings.ReadWrite"}, ())
        else:
            self._require(request, caller, (), {"OnlineMeetings.ReadWrite.All"})
            if not self.sim.teams_application_access_policy:
                return self.sim.graph_error(
                    request, 403, "General", "No application access policy found for this app."
                )
        try:
            body = read_json(request)
        except ControlError as exc:
            return self.sim.graph_error(request, 400, "BadRequest", exc.message)
        now = self.sim.clock.now()
        start = str(body.get("startDateTime") or iso_utc(now))
        end = str(body.get("endDateTime") or iso_utc(now + 3600))
        try:
            if datetime.fromisoformat(end.replace("Z", "+00:00")) < datetime.fromisoformat(
                start.replace("Z", "+00:00")
            ):
                return self.sim.graph_error(
                    request, 400, "BadRequest", "endDateTime must be after startDateTime."
                )
        except ValueError:
            return self.sim.graph_error(
                request, 400, "BadRequest", "startDateTime and endDateTime must be ISO 8601."
            )
        thread = secrets.token_hex(24)
        meeting_id = "MSo" + secrets.token_urlsafe(60)
        context = quote(f'{{"Tid":"{self.sim.tenant_id}","Oid":"{organizer.id}"}}', safe="")
        meeting = {
            "id": meeting_id,
            "creationDateTime": iso_utc(now),
            "startDateTime": start,
            "endDateTime": end,
            "subject": body.get("subject"),
            "joinWebUrl": f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0"
            f"?context={context}",
            "joinMeetingIdSettings": {
                "isPasscodeRequired": True,
                "joinMeetingId": "".join(str(self.sim.rng.randrange(10)) for _ in range(12)),
                "passcode": secrets.token_urlsafe(4)[:6],
            },
            "participants": {
                "organizer": {
                    "upn": organizer.user_principal_name,
                    "role": "presenter",
                    "identity": {
                        "user": {"id": organizer.id, "displayName": None, "tenantId": self.sim.tenant_id}
                    },
                },
                "attendees": [],
            },
            "chatInfo": {"threadId": f"19:meeting_{thread}@thread.v2", "messageId": "0"},
            "videoTeleconferenceId": None,
        }
        self.sim.meetings[meeting_id] = meeting
        base = request.host_url.rstrip("/")
        context_url = f"{base}/v1.0/$metadata#users('{organizer.id}')/onlineMeetings/$entity"
        return json_response({"@odata.context": context_url, **meeting}, 201)
