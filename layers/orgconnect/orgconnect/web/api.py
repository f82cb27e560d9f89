"""The Powertools resolver every API and page function uses."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from msgspec import Struct

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.observability import logger
from orgconnect.web.errors import register_error_handlers, request_id
from orgconnect.web.openapi import SCHEMAS

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
# The API's authentication schemes, referenced by each operation's ``security``.
SECURITY_SCHEMES: dict[str, Any] = {
    "clientSecret": {
        "type": "http",
        "scheme": "bearer",
        "description": "The application's `client_secret` (Cronofy's application authentication).",
    },
    "clientSecretBasic": {
        "type": "http",
        "scheme": "basic",
        "description": (
            "`client_id:client_secret` (RFC 6749 section 2.3.1). Cronofy's SDKs send `client_id` and "
            "`client_secret` as body parameters instead, which is accepted too (never both at once)."
        ),
    },
    "zoomWebhookSignature": {
        "type": "apiKey",
        "in": "header",
        "name": "x-zm-signature",
        "description": (
            "`v0=` + hex HMAC-SHA256(the Zoom app's webhook secret token, `v0:{x-zm-request-timestamp}:"
            "{raw body}`), with `x-zm-request-timestamp` (epoch seconds) at most 5 minutes from now."
        ),
    },
    "serviceAccountToken": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "A service account's access token (Enterprise Connect, `POST /oauth/token`), as "
            "`Authorization: Bearer …`; other tokens get 403 `insufficient_scope`."
        ),
    },
    "accountToken": {
        "type": "http",
        "scheme": "bearer",
        "description": (
            "An account's access token (delegated access, `POST /oauth/token`), as "
            "`Authorization: Bearer …`; other tokens get 403 `insufficient_scope`."
        ),
    },
    "organizationalUnitToken": {
        "type": "oauth2",
        "description": "An access token from `POST /oauth/token`, as `Authorization: Bearer …`.",
        "flows": {
            "authorizationCode": {
                "authorizationUrl": "/organizational_unit_oauth",
                "tokenUrl": "/oauth/token",
                "refreshUrl": "/oauth/token",
                "scopes": {"organizational_unit_use_integrations": "The Organizational Unit's integrations"},
            }
        },
    },
}


class BodySchema(Struct, frozen=True):
    """A request body's JSON Schema (``$defs`` allowed), named as a component."""

    name: str
    schema: dict[str, Any]
    media_types: tuple[str, ...] = (JSON,)


class OrgconnectResolver(APIGatewayRestResolver):
    """Powertools' REST resolver plus request bodies that are parsed by hand.

    Bodies are parsed inside the route (after authentication, so an unauthenticated caller
    learns nothing from validation errors); :meth:`document_body` still puts their schema in
    the OpenAPI document, and :meth:`document_security` the operation's authentication.
    """

    def __init__(self) -> None:
        # No route takes typed parameters, so Powertools' validation would check nothing, and
        # its middleware and pydantic would cost every cold start ~45 ms; the document does not need it.
        super().__init__(enable_validation=False)
        self._documented_bodies: dict[tuple[str, str], BodySchema | str] = {}
        self._security: dict[tuple[str, str], list[dict[str, list[str]]]] = {}

    def document_body(self, method: str, path: str, body: BodySchema | str) -> None:
        """Declare that ``method path`` takes a body: a schema (its media types), or the name of a
        model of ``orgconnect.web.schemas`` (JSON), as in :func:`orgconnect.web.openapi.json_body`."""
        self._documented_bodies[(method.lower(), path)] = body

    def document_security(self, method: str, path: str, *schemes: str) -> None:
        """Declare that ``method path`` needs one of ``schemes`` (names in :data:`SECURITY_SCHEMES`)."""
        unknown = set(schemes) - set(SECURITY_SCHEMES)
        if unknown:
            raise ValueError(f"unknown security schemes: {sorted(unknown)}")
        self._security[(method.lower(), path)] = [{s: []} for s in schemes]

    def openapi_document(self, *, title: str, version: str) -> dict[str, Any]:
        """This resolver's OpenAPI document as plain data, with the documented bodies and security."""
        document: dict[str, Any] = self.get_openapi_schema(title=title, version=version).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        schemas.update(_model_schemas())
        for (method, path), body in self._documented_bodies.items():
            media_types: tuple[str, ...] = (JSON,)
            if isinstance(body, str):
                name = body
            else:
                schema = dict(body.schema)
                schemas.update(schema.pop("$defs", {}))
                schemas[body.name] = schema
                name, media_types = body.name, body.media_types
            reference = {"schema": {"$ref": SCHEMAS + name}}
            content = dict.fromkeys(media_types, reference)
            document["paths"][path][method]["requestBody"] = {"required": True, "content": content}
        for (method, path), requirements in self._security.items():
            document["paths"][path][method]["security"] = requirements
        used = {name for requirements in self._security.values() for r in requirements for name in r}
        if used:
            components["securitySchemes"] = {n: SECURITY_SCHEMES[n] for n in sorted(used)}
        for item in document["paths"].values():
            for operation in item.values():
                _drop_unanswered_validation_error(operation)
        # Powertools adds schemas of its own error shapes that our routes never answer with.
        components["schemas"] = _referenced(document["paths"], schemas)
        return document


def _drop_unanswered_validation_error(operation: dict[str, Any]) -> None:
    """Remove what Powertools documents but our routes never answer.

    Its default 422 (our routes declare no parameters it would validate), and the placeholder
    JSON body it gives a response documented without content (such as the revocation's 200).
    """
    responses = operation.get("responses", {})
    schema = responses.get("422", {}).get("content", {}).get(JSON, {}).get("schema", {})
    if schema.get("$ref", "").endswith("/HTTPValidationError"):
        del responses["422"]
    for answer in responses.values():
        if answer.get("content", {}).get(JSON, {}).get("schema") == {"title": "Return"}:
            del answer["content"]


def _model_schemas() -> dict[str, Any]:
    """The JSON schema of every model in ``orgconnect.web.schemas``, by model name."""
    from pydantic import BaseModel
    from pydantic.json_schema import models_json_schema

    from orgconnect.web import schemas

    models = [m for m in vars(schemas).values() if isinstance(m, type) and issubclass(m, BaseModel)]
    _, top = models_json_schema(
        [(m, "validation") for m in models if m is not BaseModel], ref_template=SCHEMAS + "{model}"
    )
    return dict(top.get("$defs", {}))


def _referenced(root: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The schemas reachable by ``$ref`` from ``root``."""
    prefix = "#/components/schemas/"
    keep: dict[str, Any] = {}
    pending = [root]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix):
                name = ref[len(prefix) :]
                if name not in keep and name in schemas:
                    keep[name] = schemas[name]
                    pending.append(schemas[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return dict(sorted(keep.items()))


def create_api() -> OrgconnectResolver:
    """A REST resolver with OpenAPI validation and the central error mapping."""
    app = OrgconnectResolver()
    register_error_handlers(app)
    return app


def create_html_app() -> OrgconnectResolver:
    """A resolver for the browser pages: errors become HTML pages or redirects, never JSON."""
    from orgconnect.domain.authorization import FlowError, PageError
    from orgconnect.web import flow, pages

    app = OrgconnectResolver()

    def flow_error(error: FlowError) -> Response[Any]:
        return flow.response_for(error)

    def unexpected(_: Exception) -> Response[Any]:
        logger.exception("unhandled error in the authorization flow")
        # The request id lets an administrator's report be matched with the operator's logs.
        return pages.error_page(
            "Something went wrong",
            "Something went wrong on our side. Start again from the application. "
            f"If you report this, quote the request id {request_id(app) or 'unknown'}.",
            status=500,
        )

    def unavailable(_: Exception) -> Response[Any]:
        return pages.error_page("Please try again", "The service is busy; try again in a moment.", status=503)

    def not_found(_: Exception) -> Response[Any]:
        return pages.error_page("Not found", "There is no such page.", status=404)

    app.exception_handler(PageError)(flow.page_for)
    app.exception_handler(FlowError)(flow_error)
    app.exception_handler(TemporarilyUnavailable)(unavailable)
    app.exception_handler(Exception)(unexpected)
    app.not_found(not_found)
    return app
