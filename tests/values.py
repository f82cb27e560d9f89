"""``replace`` for tests, which change both the layer's values (msgspec Structs) and their own
test values (dataclasses)."""

from __future__ import annotations

import dataclasses
from typing import Any

from msgspec import Struct, structs


def replace[T](value: T, **changes: Any) -> T:
    """A copy of ``value`` with ``changes``: a Struct's or a dataclass's."""
    if isinstance(value, Struct):
        return structs.replace(value, **changes)
    return dataclasses.replace(value, **changes)  # type: ignore[type-var]
