"""Reading request bodies and credentials, with clear 4xx answers for every malformed input."""

from __future__ import annotations

import binascii
import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent

from orgconnect.domain.errors import InvalidRequest, MalformedRequest

MAX_BODY_BYTES = 64 * 1024


def body_text(event: BaseProxyEvent) -> str | None:
    """The request body as text ("" when there is none); None when its bytes are not UTF-8.

    API Gateway passes a body that is not valid UTF-8 base64-encoded; decoding it is the
    caller's business, so that such a body is a 4xx and never an exception.
    """
    try:
        return event.decoded_body or ""
    except (UnicodeDecodeError, binascii.Error, ValueError):
        return None


def json_object_body(app: APIGatewayRestResolver) -> dict[str, Any]:
    """The request body as a JSON object.

    415 for a content type other than JSON, 413 for an oversized body, 400 for bytes that are
    not JSON, 422 for JSON that is not an object. An empty body reads as ``{}`` so that a
    missing field is reported as required (422) rather than as malformed.
    """
    event = app.current_event
    content_type = (event.headers.get("content-type") or event.headers.get("Content-Type") or "").lower()
    media_type = content_type.split(";", 1)[0].strip()
    if media_type and media_type != "application/json" and not media_type.endswith("+json"):
        raise MalformedRequest("the body must be JSON (Content-Type: application/json)", status=415)
    raw = body_text(event)
    if raw is None:
        raise MalformedRequest("the body is not UTF-8 text")
    if len(raw.encode()) > MAX_BODY_BYTES:
        raise MalformedRequest("the body is too large", status=413)
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise MalformedRequest("the body is not valid JSON") from None
    except RecursionError:
        # Under 64 KiB, JSON can still nest deeper than the parser's recursion limit.
        raise MalformedRequest("the body is nested too deeply") from None
    if not isinstance(body, dict):
        raise InvalidRequest.single("body", "errors.invalid", "the body must be a JSON object")
    return body
