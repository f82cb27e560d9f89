"""OpenAPI entries that name a model of ``orgconnect.web.schemas`` instead of holding it.

The models are pydantic; only the document builder (``make openapi``) loads them, so no
function pays for pydantic at cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

SCHEMAS = "#/components/schemas/"


def json_body(description: str, schema: str) -> OpenAPIResponse:
    """An OpenAPI response entry whose JSON body is the model named ``schema``."""
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": SCHEMAS + schema}}},
    }
