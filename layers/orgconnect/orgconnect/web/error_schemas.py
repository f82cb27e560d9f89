"""The error bodies' schemas for the OpenAPI document (pydantic, so loaded only by the routes
that document them: the browser functions answer pages and never need pydantic)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    key: str = Field(examples=["errors.required"])
    description: str


class ErrorsResponse(BaseModel):
    """422: one or more parameters are invalid (Cronofy's format)."""

    errors: dict[str, list[ErrorDetail]]


class ErrorResponse(BaseModel):
    """Any other error: an OAuth-style code and a human description."""

    error: str = Field(examples=["unauthorized"])
    error_description: str
