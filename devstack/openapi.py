"""One OpenAPI document for the whole API, merged from every function's Powertools resolver.

``make openapi`` writes it to docs/openapi.json; the dev stack serves it with Swagger UI.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any
from unittest import mock

from devstack.apigw import load_function_module
from devstack.template import functions, load_template

TITLE = "orgconnect API"
VERSION = "0.1.0"
DESCRIPTION = (
    "Cronofy-compatible API for Organizational Unit authorization of enterprise conferencing. "
    "Integrator endpoints authenticate with `Authorization: Bearer {client_secret}`."
)
# Functions validate their settings when they load; the document is also built outside any stack.
_REQUIRED_SETTINGS = {
    "ORGCONNECT_TABLE_NAME": "openapi",
    "ORGCONNECT_PEPPER_SECRET_ID": "openapi",
    "ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL": "openapi",
}


def build_openapi(server_url: str | None = None) -> dict[str, Any]:
    """Merge the OpenAPI schema of every function that serves API routes."""
    merged: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": VERSION, "description": DESCRIPTION},
        "paths": {},
        "components": {"schemas": {}},
    }
    if server_url:
        merged["servers"] = [{"url": server_url}]
    for spec in functions(load_template()):
        if not spec.routes:
            continue
        with mock.patch.dict(os.environ, {k: os.environ.get(k, v) for k, v in _REQUIRED_SETTINGS.items()}):
            resolver = load_function_module(spec).app
        schema = resolver.openapi_document(title=TITLE, version=VERSION)
        for path, item in schema.get("paths", {}).items():
            merged["paths"].setdefault(path, {}).update(item)
        components = schema.get("components", {})
        merged["components"]["schemas"].update(components.get("schemas", {}))
        merged["components"].setdefault("securitySchemes", {}).update(components.get("securitySchemes", {}))
    merged["paths"] = dict(sorted(merged["paths"].items()))
    for kind in ("schemas", "securitySchemes"):
        merged["components"][kind] = dict(sorted(merged["components"].get(kind, {}).items()))
    return merged


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("output", type=Path)
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(build_openapi(), indent=2, sort_keys=False) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
