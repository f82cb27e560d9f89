"""The Powertools resolver every API and page function uses."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.observability import logger
from orgconnect.web.errors import register_error_handlers
from orgconnect.web.openapi import SCHEMAS


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
        self._documented_bodies: dict[tuple[str, str], str] = {}

    def document_body(self, method: str, path: str, schema: str) -> None:
        """Declare that ``method path`` takes a JSON body of the model ``schema`` (by name, as in
        :func:`orgconnect.web.openapi.json_body`)."""
        self._documented_bodies[(method.lower(), path)] = schema

    def openapi_document(self, *, title: str, version: str) -> dict[str, Any]:
        """This resolver's OpenAPI document as plain data, with the documented bodies."""
        document: dict[str, Any] = self.get_openapi_schema(title=title, version=version).model_dump(
            mode="json", by_alias=True, exclude_none=True
        )
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        schemas.update(_model_schemas())
        for (method, path), schema in self._documented_bodies.items():
            document["paths"][path][method]["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": SCHEMAS + schema}}},
            }
        # Only what the paths refer to (Powertools adds schemas of its own error shapes).
        document["components"]["schemas"] = _referenced(document["paths"], schemas)
        return document


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
