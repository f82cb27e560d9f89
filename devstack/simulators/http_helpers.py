"""HTTP helpers every simulator handler uses: request parsing, JSON and redirect answers, redaction."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from werkzeug.wrappers import Request, Response

#: Parameter and header names whose values never reach the request log.
SECRET_NAMES = frozenset(
    {
        "authorization",
        "code",
        "token",
        "refresh_token",
        "access_token",
        "client_secret",
        "code_verifier",
        "password",
        "assertion",
        "secret_token",
        "id_token",
        "plaintoken",
        "encryptedtoken",
        "zak",
        "pwd",
    }
)
REDACTED = "[redacted]"


class ControlError(Exception):
    """A refusal from a control-API hook, answered as ``{"error": message}`` with ``status``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class SimResponse(Exception):
    """Raise from deep inside a handler to answer with ``response`` straight away."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an ``Authorization: Basic ...`` header, else None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return user, password


def bearer_token(request: Request) -> str | None:
    """The token of an ``Authorization: Bearer ...`` header, else None."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def request_params(request: Request) -> dict[str, str]:
    """Query-string and form parameters merged (the form wins), first value of each."""
    params = {key: request.args.get(key, "") for key in request.args}
    if request.mimetype == "application/x-www-form-urlencoded":
        params.update({key: request.form.get(key, "") for key in request.form})
    return params


def read_json(request: Request, *, required: bool = False) -> dict[str, Any]:
    """The request's JSON object body ({} when empty and not ``required``).

    Raises ``ControlError(400)`` for a malformed body or one that is not an object.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        if required:
            raise ControlError(400, "a JSON object body is required")
        return {}
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ControlError(400, f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def json_response(
    data: Any,
    status: int = 200,
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str = "application/json",
) -> Response:
    """A JSON response; ``data=None`` gives an empty body (for 204s)."""
    body = b"" if data is None else json.dumps(data).encode()
    response = Response(body, status=status, content_type=None if data is None else content_type)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def redirect_with_params(url: str, params: Mapping[str, str | None]) -> Response:
    """A 302 to ``url`` with ``params`` appended to its query (None values are left out)."""
    parts = urlsplit(url)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query and extra else (parts.query or extra)
    target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
    response = Response(status=302)
    response.headers["Location"] = target
    response.headers["Cache-Control"] = "no-store"
    return response


def redact_params(params: Mapping[str, str]) -> dict[str, str]:
    """``params`` with the values of secret-bearing names replaced by ``[redacted]``."""
    return {k: (REDACTED if k.lower() in SECRET_NAMES else v) for k, v in params.items()}
