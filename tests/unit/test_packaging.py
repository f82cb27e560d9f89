"""The layer's requirements.txt and pyproject's runtime dependencies stay in step."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    for sep in "<>=![; ":
        requirement = requirement.split(sep, 1)[0]
    return requirement.strip().lower()


def test_layer_requirements_match_pyproject() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    layer = [
        line.strip()
        for line in (ROOT / "layers/orgconnect/requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    # Everything ships in the layer with the same spec, boto3 included (see requirements.txt).
    assert sorted(project) == sorted(layer)


BUILT_LAYER = ROOT / ".aws-sam/build/OrgconnectLayer/python"


def test_built_layer_ships_boto3_with_the_botocore_it_requires() -> None:
    """The runtime's boto3 must never run on the layer's botocore of another release."""
    from importlib.metadata import distributions

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    if not BUILT_LAYER.is_dir():
        # make test runs sam build before pytest, so CI always checks the real build output.
        assert os.environ.get("CI") != "true", "sam build output missing: make test builds before pytest"
        pytest.skip("no sam build output (run make build)")
    built = {canonicalize_name(d.metadata["Name"] or ""): d for d in distributions(path=[str(BUILT_LAYER)])}
    assert {"boto3", "botocore", "aws-lambda-powertools", "httpx", "authlib", "tenacity"} <= built.keys()
    requires = [Requirement(r) for r in built["boto3"].requires or []]
    (botocore,) = [r for r in requires if r.name == "botocore" and r.marker is None]
    assert botocore.specifier.contains(built["botocore"].version), (str(botocore), built["botocore"].version)


def test_built_layer_ships_bytecode_that_python313_uses_without_recompiling() -> None:
    """Lambda's /opt is read-only: without .pyc files every cold start compiles the layer again."""
    import importlib.util

    if not BUILT_LAYER.is_dir():
        assert os.environ.get("CI") != "true", "sam build output missing: make test builds before pytest"
        pytest.skip("no sam build output (run make build)")
    sources = list(BUILT_LAYER.rglob("*.py"))
    assert len(sources) > 500  # the dependencies, not only our package
    missing, stale = [], []
    for source in sources:
        compiled = Path(importlib.util.cache_from_source(str(source)))
        if not compiled.is_file():
            missing.append(source)
            continue
        header = compiled.read_bytes()[:8]
        # PEP 552: this interpreter's magic number (3.13, as Lambda's), flags 0b01 = unchecked hash.
        if header[:4] != importlib.util.MAGIC_NUMBER or int.from_bytes(header[4:8], "little") != 1:
            stale.append(source)
    assert not missing and not stale, (missing[:5], stale[:5])
