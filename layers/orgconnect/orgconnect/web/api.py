"""The Powertools resolver every API and page function uses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.observability import logger
from orgconnect.web.errors import register_error_handlers

if TYPE_CHECKING:
    from pydantic import BaseModel


class OrgconnectResolver(APIGatewayRestResolver):
    """Powertools' REST resolver plus request bodies that are parsed by hand.

    Bodies are parsed inside the route (after authentication, so an unauthenticated caller
    learns nothing from validation errors); :meth:`document_body` still puts their schema in
    the OpenAPI document.
    """

    def __init__(self) -> None:
        # No route takes typed parameters, so Powertools' validation would check nothing, and
        # its middleware and pydantic would cost every cold start ~45 ms; the document does not need it.
        super().__init__(enable_validation=False)
        self._documented_bodies: dict[tuple[str, str], type[BaseModel]] = {}

    def document_body(self, method: str, path: str, model: type[BaseModel]) -> None:
        """Declare that ``method path`` takes a JSON body of ``model``."""
        self._documented_bodies[(method.lower(), path)] = model

    def openapi_document(self, *, title: str, version: str) -> dict[str, Any]:
        """This resolver's OpenAPI document as plain data, with the documented bodies."""
        document: dict[str, Any] = self.get_openapi_schema(title=title, version=version).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        for (method, path), model in self._documented_bodies.items():
            operation = document["paths"][path][method]
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(schema.pop("$defs", {}))
            schemas[model.__name__] = schema
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
                },
            }
        # Powertools adds schemas of its own error shapes that our routes never answer with.
        document["components"]["schemas"] = _referenced(document["paths"], schemas)
        return document


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
        return pages.error_page(
            "Something went wrong",
            "Something went wrong on our side. Start again from the application.",
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
