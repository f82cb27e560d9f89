"""Webex REST API: ``/v1/people`` (list, ``me``, by id) and ``/v1/meetings``."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    IssuedToken,
    SimResponse,
    bearer_token,
    json_response,
    read_json,
)
from devstack.simulators.provider_kit import (
    split_scopes,
)
from devstack.simulators.simulator import RouteSpec
from devstack.simulators.webex_model import (
    ADMIN_PEOPLE_READ,
    ADMIN_SCHEDULES_WRITE,
    PEOPLE_READ,
    SCHEDULES_WRITE,
    WebexPerson,
    iso,
    parse_time,
)

if TYPE_CHECKING:
    from devstack.simulators.webex import WebexSimulator


class WebexApi:
    """The Webex REST API: people (list, me, by id) and meetings."""

    def __init__(self, sim: WebexSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The API routes."""
        return [
            ("/v1/people", self._people_list, "GET", "api"),
            ("/v1/people/me", self._people_me, "GET", "api"),
            ("/v1/people/<person_id>", self._people_get, "GET", "api"),
            ("/v1/meetings", self._create_meeting, "POST", "api"),
        ]

    def _caller(self, request: Request, accepted: Sequence[str]) -> tuple[IssuedToken, WebexPerson]:
        """The token and person behind a call; raises ``SimResponse`` with 401/403/429."""
        value = bearer_token(request)
        record = self.sim.tokens.valid(value, "access") if value else None
        person = self.sim.people.get(record.subject) if record else None
        if record is None or person is None:
            raise SimResponse(
                self.sim.webex_error(
                    401, "The request requires a valid access token set in the Authorization request header."
                )
            )
        retry_after = self.sim.limiter.hit(f"{record.client_id}:{record.subject}")
        if retry_after is not None:
            raise SimResponse(self.sim.throttled(retry_after))
        scopes = set(split_scopes(record.scope))
        if "spark:all" not in scopes and not scopes & set(accepted):
            raise SimResponse(
                self.sim.webex_error(403, "The access token does not have the scopes this API requires.")
            )
        return record, person

    @staticmethod
    def _is_admin_call(record: IssuedToken, person: WebexPerson, admin_scope: str) -> bool:
        return admin_scope in split_scopes(record.scope) and person.is_admin

    def _people_list(self, request: Request) -> Response:
        record, caller = self._caller(request, (PEOPLE_READ, ADMIN_PEOPLE_READ))
        args: list[tuple[str, str]] = [
            (k, v) for k, v in request.args.items(multi=True) if k not in ("after", "before")
        ]
        after = request.args.get("after")
        cursor_id = ""
        if after:
            saved, problem = self.sim.cursors.resolve(after, "")
            if problem is not None:
                return self.sim.webex_error(400, "Invalid cursor.")
            # The cursor remembers the query: a next link that lost its filters still pages right.
            args, cursor_id = saved
        query = dict(args)
        max_raw = query.get("max", "100")
        try:
            page_size = int(max_raw)
        except ValueError:
            return self.sim.webex_error(400, f"Invalid value for max: {max_raw}")
        if not 1 <= page_size <= self.sim.max_page_size:
            return self.sim.webex_error(400, f"max must be between 1 and {self.sim.max_page_size}.")
        email, display_name, ids = query.get("email"), query.get("displayName"), query.get("id")
        if not (email or display_name or ids) and not self._is_admin_call(record, caller, ADMIN_PEOPLE_READ):
            return self.sim.webex_error(400, "Email, displayName, or id list should be specified.")
        if query.get("orgId") and query["orgId"] != self.sim.org_id:
            return self.sim.webex_error(403, "The caller cannot access the requested organization.")
        matching = list(self.sim.people.values())
        not_found: list[str] | None = None
        if ids:
            wanted = [i for i in ids.split(",") if i][:85]
            not_found = [i for i in wanted if i not in self.sim.people]
            matching = [p for p in matching if p.id in wanted]
        if email:
            matching = [p for p in matching if p.email.lower() == email.lower()]
        if display_name:
            prefix = display_name.lower()
            matching = [
                p
                for p in matching
                if any(n.lower().startswith(prefix) for n in (p.display_name, p.first_name, p.last_name))
            ]
        matching.sort(key=lambda p: p.id)
        if cursor_id:
            matching = [p for p in matching if p.id > cursor_id]
        page, rest = matching[:page_size], matching[page_size:]
        body: dict[str, Any] = {"items": [p.to_api() for p in page]}
        if not_found is not None:
            body["notFoundIds"] = not_found
        headers: dict[str, str] = {}
        if rest:
            token = self.sim.cursors.issue("", (args, page[-1].id))
            base = request.host_url.rstrip("/")
            if self.sim.paging_quirks:
                link_query = f"max=null&before&after={quote(token)}"
            else:
                kept = [(k, v) for k, v in args if k != "max"] + [("max", str(page_size))]
                link_query = f"{urlencode(kept)}&before&after={quote(token)}"
            headers["Link"] = f'<{base}/v1/people?{link_query}>; rel="next"'
        return json_response(body, headers=headers)

    def _people_me(self, request: Request) -> Response:
        _, caller = self._caller(request, (PEOPLE_READ, ADMIN_PEOPLE_READ))
        return json_response(caller.to_api())

    def _people_get(self, request: Request, person_id: str) -> Response:
        self._caller(request, (PEOPLE_READ, ADMIN_PEOPLE_READ))
        person = self.sim.people.get(person_id)
        if person is None:
            return self.sim.webex_error(404, "Person not found.")
        return json_response(person.to_api())

    def _create_meeting(self, request: Request) -> Response:
        record, caller = self._caller(request, (SCHEDULES_WRITE, ADMIN_SCHEDULES_WRITE))
        try:
            body = read_json(request, required=True)
        except ControlError as exc:
            return self.sim.webex_error(400, exc.message)
        title = body.get("title")
        if not isinstance(title, str) or not title.strip():
            return self.sim.webex_error(400, "title is required.")
        start_raw, end_raw = body.get("start"), body.get("end")
        if not isinstance(start_raw, str) or not isinstance(end_raw, str):
            return self.sim.webex_error(400, "start and end are required.")
        try:
            start, end = parse_time(start_raw), parse_time(end_raw)
        except ValueError:
            return self.sim.webex_error(400, "start and end must be ISO 8601 date-times.")
        if end <= start:
            return self.sim.webex_error(400, "end must be after start.")
        if start < self.sim.clock.now() - 300:
            return self.sim.webex_error(400, "Meeting start time cannot be in the past.")
        host = caller
        host_email = body.get("hostEmail")
        if host_email and str(host_email).lower() != caller.email.lower():
            if not self._is_admin_call(record, caller, ADMIN_SCHEDULES_WRITE):
                return self.sim.webex_error(
                    403, "Only an administrator with meeting:admin_schedule_write can schedule for others."
                )
            found = self.sim.find_person(str(host_email))
            if found is None:
                return self.sim.webex_error(400, f"Host {host_email} is not a user of the site.")
            host = found
        if host.status != "active":
            return self.sim.webex_error(400, f"Host {host.email} is not an active user of the site.")
        if not host.meetings_licensed:
            return self.sim.webex_error(
                400, f"Host {host.email} does not have a Webex Meetings license on {self.sim.site_url}."
            )
        meeting_id = secrets.token_hex(16)
        number = "".join(str(self.sim.rng.randrange(10)) for _ in range(10))
        password = str(body.get("password") or secrets.token_urlsafe(8)[:10])
        meeting = {
            "id": meeting_id,
            "meetingNumber": number,
            "title": title,
            "password": password,
            "meetingType": "meetingSeries",
            "state": "active",
            "timezone": str(body.get("timezone") or "UTC"),
            "start": iso(start),
            "end": iso(end),
            "hostUserId": host.id,
            "hostDisplayName": host.display_name,
            "hostEmail": host.email,
            "siteUrl": self.sim.site_url,
            "webLink": f"https://{self.sim.site_url}/{self.sim.site_name}/j.php?MTID=m{meeting_id}",
            "sipAddress": f"{number}@{self.sim.site_url}",
            "dialInIpAddress": "",
            "enabledAutoRecordMeeting": False,
            "allowAnyUserToBeCoHost": False,
        }
        self.sim.meetings[meeting_id] = meeting
        return json_response(meeting)
