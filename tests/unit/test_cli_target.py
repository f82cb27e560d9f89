"""The operator CLI's ``--dev`` target follows the local stack, on moto or on DynamoDB Local."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from orgconnect.cli import resolve_target


def _dev_file(tmp_path: Path, **extra: object) -> Path:
    data = {
        "aws_endpoint_url": "http://127.0.0.1:4566",
        "aws": {"table_name": "t", "pepper_secret_id": "p", "region": "us-east-1"},
        **extra,
    }
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(
    ("extra", "dynamodb_url"),
    [
        ({}, None),
        ({"dynamodb": "local", "dynamodb_endpoint_url": "http://127.0.0.1:4567"}, "http://127.0.0.1:4567"),
    ],
    ids=["moto", "dynamodb-local"],
)
def test_dev_target_sends_dynamodb_where_the_stack_has_it(
    tmp_path: Path, extra: dict[str, str], dynamodb_url: str | None
) -> None:
    target = resolve_target(argparse.Namespace(dev=str(_dev_file(tmp_path, **extra))))
    assert (target.table_name, target.endpoint_url) == ("t", "http://127.0.0.1:4566")
    assert target.dynamodb_endpoint_url == dynamodb_url
