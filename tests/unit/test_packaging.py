"""The layer's requirements.txt and pyproject's runtime dependencies stay in step."""

from __future__ import annotations

import tomllib
from pathlib import Path

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
    # boto3 is in the Lambda runtime already; everything else must ship in the layer, same spec.
    assert sorted(r for r in project if _name(r) != "boto3") == sorted(layer)
