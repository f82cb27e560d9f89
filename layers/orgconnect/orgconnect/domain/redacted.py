"""Values that hold a secret (tokens, client secrets, sealed blobs, a provider's raw answer):
their ``repr``, and so any log line or traceback that formats them, leaves the secret out."""

from __future__ import annotations

from typing import ClassVar

from msgspec import Struct


class Redacted(Struct, frozen=True):
    """Base of the frozen values that hold a secret: ``repr`` omits the fields named in
    ``__redacted__`` (what ``dataclasses.field(repr=False)`` does for a dataclass)."""

    __redacted__: ClassVar[frozenset[str]] = frozenset()

    def __repr__(self) -> str:
        shown = (
            f"{name}={getattr(self, name)!r}"
            for name in self.__struct_fields__
            if name not in self.__redacted__
        )
        return f"{type(self).__name__}({', '.join(shown)})"
