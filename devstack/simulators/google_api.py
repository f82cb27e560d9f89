"""Google APIs: OpenID userinfo, Admin SDK Directory ``users`` and Meet ``spaces``."""

from __future__ import annotations

import secrets
import string
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from werkzeug.wrappers import Request, Response

from devstack.simulators.common import (
    ControlError,
    IssuedToken,
    SimResponse,
    bearer_token,
    json_response,
    read_json,
    request_params,
)
from devstack.simulators.google_directory import (
    DirectoryQueryError,
    WorkspaceUser,
    order_key,
    parse_query,
    select_users,
)
from devstack.simulators.google_model import (
    DIRECTORY_USER,
    DIRECTORY_USER_READONLY,
    MEET_CREATED,
    MEET_READONLY,
    USERINFO_EMAIL,
    USERINFO_PROFILE,
)
from devstack.simulators.provider_kit import (
    split_scopes,
)
from devstack.simulators.simulator import RouteSpec

if TYPE_CHECKING:
    from devstack.simulators.google import GoogleSimulator


class GoogleApi:
    """The Google APIs: userinfo, Admin SDK Directory users, Meet spaces."""

    def __init__(self, sim: GoogleSimulator) -> None:
        self.sim = sim

    def routes(self) -> list[RouteSpec]:
        """The API routes."""
        return [
            ("/v1/userinfo", self._userinfo, "GET", "api"),
            ("/v1/userinfo", self._userinfo, "POST", "api"),
            ("/oauth2/v3/userinfo", self._userinfo, "GET", "api"),
            ("/oauth2/v3/userinfo", self._userinfo, "POST", "api"),
            ("/admin/directory/v1/users", self._users_list, "GET", "api"),
            ("/admin/directory/v1/users/<user_key>", self._users_get, "GET", "api"),
            ("/v2/spaces", self._create_space, "POST", "api"),
            ("/v2/spaces/<space_id>", self._get_space, "GET", "api"),
        ]

    def _authenticate(
        self, request: Request, *, rate_limited: bool = True
    ) -> tuple[IssuedToken, WorkspaceUser]:
        """The caller's token and user, or a ``SimResponse`` with Google's 401 / 429."""
        value = bearer_token(request)
        record = self.sim.tokens.valid(value, "access") if value else None
        user = self.sim.users.get(record.subject) if record else None
        if record is None or user is None:
            raise SimResponse(
                self.sim.google_error(
                    401,
                    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
                    "cookie or other valid authentication credential.",
                    "authError",
                    "UNAUTHENTICATED",
                    headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'},
                    location="Authorization",
                    locationType="header",
                )
            )
        if rate_limited and self.sim.limiter.hit(f"{record.client_id}:{record.subject}") is not None:
            raise SimResponse(self.sim.rate_limited_response(request, "api"))
        return record, user

    def _require_scope(self, record: IssuedToken, accepted: Sequence[str]) -> None:
        if not set(split_scopes(record.scope)) & set(accepted):
            raise SimResponse(
                self.sim.google_error(
                    403,
                    "Request had insufficient authentication scopes.",
                    "insufficientPermissions",
                    "PERMISSION_DENIED",
                    headers={
                        "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", '
                        'error="insufficient_scope"'
                    },
                )
            )

    def _forbidden(self) -> Response:
        return self.sim.google_error(
            403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED"
        )

    def _userinfo(self, request: Request) -> Response:
        value = bearer_token(request) or request_params(request).get("access_token")
        record = self.sim.tokens.valid(value, "access") if value else None
        user = self.sim.users.get(record.subject) if record else None
        if record is None or user is None:
            if request.path.startswith("/oauth2/"):
                return json_response(
                    {"error": "invalid_request", "error_description": "Invalid Credentials"}, 401
                )
            return self.sim.google_error(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 access token, login "
                "cookie or other valid authentication credential.",
                None,
                "UNAUTHENTICATED",
            )
        scopes = split_scopes(record.scope)
        body: dict[str, Any] = {"sub": user.id}
        if USERINFO_PROFILE in scopes:
            body.update(
                {
                    "name": user.full_name,
                    "given_name": user.given_name,
                    "family_name": user.family_name,
                    "picture": f"https://lh3.googleusercontent.com/a/default-user=s96-c#{user.id}",
                }
            )
        if USERINFO_EMAIL in scopes:
            body.update({"email": user.primary_email, "email_verified": True})
        body["hd"] = user.domain
        return json_response(body)

    def _users_list(self, request: Request) -> Response:
        record, caller = self._authenticate(request)
        self._require_scope(record, (DIRECTORY_USER, DIRECTORY_USER_READONLY))
        args = request.args
        customer, domain = args.get("customer"), args.get("domain")
        if not customer and not domain:
            return self.sim.google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
        if customer and customer not in ("my_customer", self.sim.customer_id):
            return self._forbidden()
        if domain and domain.lower() != self.sim.domain:
            return self._forbidden()
        view = args.get("viewType", "admin_view")
        if view not in ("admin_view", "domain_public"):
            return self.sim.google_error(
                400,
                f"Invalid value '{view}'. Values must be one of: admin_view, domain_public",
                "invalid",
                "INVALID_ARGUMENT",
            )
        admin_view = view == "admin_view"
        if admin_view and not caller.is_admin:
            return self._forbidden()
        max_raw = args.get("maxResults", "100")
        try:
            max_results = int(max_raw)
        except ValueError:
            return self.sim.google_error(
                400, f"Invalid value '{max_raw}'. Values must be an integer.", "invalid", "INVALID_ARGUMENT"
            )
        if not 1 <= max_results <= 500:
            return self.sim.google_error(
                400,
                f"Invalid value '{max_raw}'. Values must be within the range: [1, 500]",
                "invalid",
                "INVALID_ARGUMENT",
            )
        order_by, sort_order = args.get("orderBy"), args.get("sortOrder", "ASCENDING").upper()
        key = order_key(order_by)
        if key is None or sort_order not in ("ASCENDING", "DESCENDING"):
            return self.sim.google_error(
                400, "Invalid Input: orderBy/sortOrder", "invalid", "INVALID_ARGUMENT"
            )
        try:
            predicate = parse_query(args.get("query"))
        except DirectoryQueryError as exc:
            return self.sim.google_error(400, str(exc), "invalid", "INVALID_ARGUMENT")
        descending = sort_order == "DESCENDING"
        users = [u for u in self.sim.users.values() if not domain or u.domain == domain.lower()]
        matching = select_users(users, predicate, key)
        if descending:
            matching.reverse()
        query = urlencode(
            sorted((k, v) for k, v in args.items(multi=True) if k not in ("pageToken", "fields"))
        )
        page_token = args.get("pageToken")
        if page_token:
            cursor, problem = self.sim.page_tokens.resolve(page_token, query)
            if problem is not None:
                return self.sim.google_error(400, "Invalid page token", "invalid", "INVALID_ARGUMENT")
            after = tuple(cursor)
            matching = [u for u in matching if (key(u) < after if descending else key(u) > after)]
        page, rest = matching[:max_results], matching[max_results:]
        body: dict[str, Any] = {"kind": "admin#directory#users", "etag": f'"{secrets.token_hex(13)}"'}
        if page:  # Google leaves "users" out of an empty result
            body["users"] = [u.to_resource(admin_view=admin_view) for u in page]
        if rest:
            body["nextPageToken"] = self.sim.page_tokens.issue(query, list(key(page[-1])))
        return json_response(body)

    def _users_get(self, request: Request, user_key: str) -> Response:
        record, caller = self._authenticate(request)
        self._require_scope(record, (DIRECTORY_USER, DIRECTORY_USER_READONLY))
        view = request.args.get("viewType", "admin_view")
        admin_view = view != "domain_public"
        if "@" in user_key and user_key.rsplit("@", 1)[1].lower() != self.sim.domain:
            return self._forbidden()
        if admin_view and not caller.is_admin:
            return self._forbidden()
        user = self.sim.find_user(user_key)
        if user is None:
            return self.sim.google_error(404, "Resource Not Found: userKey", "notFound", "NOT_FOUND")
        return json_response(user.to_resource(admin_view=admin_view))

    def _create_space(self, request: Request) -> Response:
        record, caller = self._authenticate(request)
        if not self.sim.meet_api_enabled:
            return self._service_disabled(record.client_id)
        self._require_scope(record, (MEET_CREATED,))
        try:
            body = read_json(request)
        except ControlError as exc:
            return self.sim.google_error(400, exc.message, None, "INVALID_ARGUMENT")
        raw_config = body.get("config")
        config: dict[str, Any] = raw_config if isinstance(raw_config, dict) else {}
        access_type = str(config.get("accessType", "TRUSTED"))
        if access_type not in ("OPEN", "TRUSTED", "RESTRICTED"):
            return self.sim.google_error(
                400, f"Invalid value at 'space.config.access_type' ({access_type})", None, "INVALID_ARGUMENT"
            )
        letters = string.ascii_lowercase
        code = "-".join("".join(self.sim.rng.choice(letters) for _ in range(n)) for n in (3, 4, 3))
        space_id = "".join(self.sim.rng.choice(string.ascii_letters + string.digits) for _ in range(12))
        space = {
            "name": f"spaces/{space_id}",
            "meetingUri": f"https://meet.google.com/{code}",
            "meetingCode": code,
            "config": {"accessType": access_type, "entryPointAccess": "ALL"},
        }
        self.sim.spaces[space_id] = {**space, "_owner": caller.id}
        return json_response(space)

    def _service_disabled(self, client_id: str) -> Response:
        """Google's answer when an API is off in the calling client's Cloud project: 403
        ``PERMISSION_DENIED`` with an ``ErrorInfo`` whose reason is ``SERVICE_DISABLED``."""
        # A Google client id starts with its project number: "123456789012-abc.apps.googleusercontent.com".
        prefix = client_id.partition("-")[0]
        project = prefix if prefix.isdigit() else str(zlib.crc32(client_id.encode()))
        message = (
            f"Google Meet REST API has not been used in project {project} before or it is disabled. "
            f"Enable it by visiting https://console.developers.google.com/apis/api/meet.googleapis.com/"
            f"overview?project={project} then retry."
        )
        info = {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "SERVICE_DISABLED",
            "domain": "googleapis.com",
            "metadata": {"service": "meet.googleapis.com", "consumer": f"projects/{project}"},
        }
        body = {"error": {"code": 403, "message": message, "status": "PERMISSION_DENIED", "details": [info]}}
        return json_response(body, 403)

    def _get_space(self, request: Request, space_id: str) -> Response:
        record, caller = self._authenticate(request)
        if not self.sim.meet_api_enabled:
            return self._service_disabled(record.client_id)
        self._require_scope(record, (MEET_CREATED, MEET_READONLY))
        space = self.sim.spaces.get(space_id)
        readable = space is not None and (
            space["_owner"] == caller.id or MEET_READONLY in record.scope.split()
        )
        if space is None or not readable:
            return self.sim.google_error(404, "Requested entity was not found.", None, "NOT_FOUND")
        return json_response({k: v for k, v in space.items() if not k.startswith("_")})
