"""Swagger UI for the dev stack, served from the swagger-ui-bundle package (no CDN)."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable
from pathlib import Path
from typing import Any

from werkzeug.wrappers import Request, Response

_PAGE = """<!doctype html><html lang=en><head><meta charset=utf-8><title>orgconnect API</title>
<link rel=stylesheet href="/_dev/docs/swagger-ui.css"></head><body><div id=swagger-ui></div>
<script src="/_dev/docs/swagger-ui-bundle.js"></script>
<script src="/_dev/docs/swagger-ui-standalone-preset.js"></script>
<script src="/_dev/docs/init.js"></script></body></html>"""
_INIT = (
    "window.ui = SwaggerUIBundle({url: '/_dev/openapi.json', dom_id: '#swagger-ui', "
    "presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout'});"
)


def docs_routes(openapi: Callable[[], dict[str, Any]]) -> dict[str, Callable[[Request], Response]]:
    """Routes for ``/_dev/openapi.json`` and ``/_dev/docs`` (extra routes of the local API)."""
    import swagger_ui_bundle

    assets = Path(swagger_ui_bundle.swagger_ui_path)

    def spec(_: Request) -> Response:
        return Response(json.dumps(openapi()), content_type="application/json")

    def page(_: Request) -> Response:
        return Response(_PAGE, content_type="text/html; charset=utf-8")

    def asset(request: Request) -> Response:
        name = request.path.rsplit("/", 1)[-1]
        if name == "init.js":
            return Response(_INIT, content_type="text/javascript")
        path = assets / name
        if "/" in name or not path.is_file():
            return Response("not found", 404)
        return Response(
            path.read_bytes(), content_type=mimetypes.guess_type(name)[0] or "application/octet-stream"
        )

    return {"/_dev/openapi.json": spec, "/_dev/docs": page, "/_dev/docs/<name>": asset}
