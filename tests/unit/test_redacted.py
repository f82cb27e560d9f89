"""Values that hold a secret leave it out of their repr (and so out of every log line and
traceback that formats them): every ``Redacted`` subclass, found by walking the layer."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from msgspec.structs import fields

import orgconnect.domain
import orgconnect.providers
from orgconnect.domain.redacted import Redacted


def _subclasses() -> list[type[Redacted]]:
    for package in (orgconnect.domain, orgconnect.providers):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)
    found: list[type[Redacted]] = []
    pending = list(Redacted.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__qualname__)


SECRET_HOLDERS = _subclasses()


def test_the_layer_has_its_secret_holding_values() -> None:
    names = {cls.__name__ for cls in SECRET_HOLDERS}
    assert {"ProviderTokens", "TokenSet", "ProviderApp", "ClientCredentials", "SigningSecrets"} <= names


@pytest.mark.parametrize("cls", SECRET_HOLDERS, ids=lambda cls: cls.__name__)
def test_repr_leaves_out_exactly_the_named_secret_fields(cls: type[Redacted]) -> None:
    names = [f.name for f in fields(cls)]
    assert cls.__redacted__ and cls.__redacted__ <= set(names)  # a misspelt name would hide nothing
    # Structs do not check types at construction: a marker per field shows where each one went.
    value = cls(**{name: f"marker-{name}-1f3a" for name in names})
    shown = repr(value)
    for name in names:
        assert (f"marker-{name}-1f3a" in shown) is (name not in cls.__redacted__), name
    assert str(value) == shown and f"{value!r}" == shown
