"""Answers that carry a secret or personal data must not be stored by any cache (RFC 9111 §5.2.2.5).

The token endpoint adds ``Pragma: no-cache`` as RFC 6749 section 5.1 asks of token responses.
"""

from __future__ import annotations

from typing import Any

NO_STORE = {"Cache-Control": "no-store"}
NO_STORE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def with_no_store(result: dict[str, Any], *, pragma: bool = False) -> dict[str, Any]:
    """The proxy result with ``Cache-Control: no-store`` (and ``Pragma``), whatever produced it."""
    headers = NO_STORE_HEADERS if pragma else NO_STORE
    multi = result.get("multiValueHeaders")
    if not isinstance(multi, dict):
        multi = result["multiValueHeaders"] = {}
    for name, value in headers.items():
        multi[name] = [value]
    if isinstance(result.get("headers"), dict):
        result["headers"].update(headers)
    return result
