"""K4: every secret is unguessable and ids have the documented shape."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from orgconnect.domain.secrets import SecretHasher, id_pattern, new_id, new_secret

LAYER = Path(__file__).resolve().parents[2] / "layers" / "orgconnect" / "orgconnect"


def test_ids_are_prefix_and_24_lowercase_hex() -> None:
    ids = {new_id("ou") for _ in range(200)}
    assert len(ids) == 200
    assert all(re.fullmatch(r"ou_[0-9a-f]{24}", i) for i in ids)
    assert id_pattern("ou").match(next(iter(ids)))
    assert not id_pattern("ou").match("ou_" + "A" * 24)
    assert not id_pattern("ou").match(next(iter(ids)) + "\n")


def test_secrets_have_256_bits_of_randomness() -> None:
    secrets = {new_secret() for _ in range(200)}
    assert len(secrets) == 200
    assert all(len(s) == 43 and re.fullmatch(r"[A-Za-z0-9_-]+", s) for s in secrets)


def test_k4_no_weak_randomness_in_shipped_code() -> None:
    """K4: only the secrets module mints tokens; no random/uuid1/uuid4 in the layer."""
    offenders = []
    for path in LAYER.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names]
                module = getattr(node, "module", None) or ""
                if (
                    module == "random"
                    or "random" in names
                    or (module == "uuid" and {"uuid1", "uuid4"} & set(names))
                ):
                    offenders.append(str(path))
            if isinstance(node, ast.Attribute) and node.attr in {"uuid1", "uuid4"}:
                offenders.append(str(path))
    assert offenders == []


def test_keyed_digest_depends_on_pepper_and_purpose() -> None:
    a, b = SecretHasher(b"a" * 32), SecretHasher(b"b" * 32)
    assert a.digest("x", "secret") == a.digest("x", "secret")
    assert a.digest("x", "secret") != b.digest("x", "secret")
    assert a.digest("x", "secret") != a.digest("y", "secret")
    assert a.matches("x", "secret", a.digest("x", "secret"))
    assert not a.matches("x", "secret2", a.digest("x", "secret"))


def test_short_pepper_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretHasher(b"short")
