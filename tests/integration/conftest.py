from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from devstack.apigw import load_handler
from devstack.template import functions, load_template


@pytest.fixture(scope="session")
def handlers() -> dict[str, Callable[[dict[str, Any], Any], dict[str, Any]]]:
    """Every function's lambda_handler, loaded from template.yaml as the dev stack loads them.

    Functions validate their settings when they load; each test's ``aws`` fixture then sets the
    real environment and ``runtime.reset()`` makes the handlers read it again.
    """
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ORGCONNECT_TABLE_NAME", "placeholder")
        env.setenv("ORGCONNECT_PEPPER_SECRET_ID", "placeholder")
        env.setenv("ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL", "placeholder")
        return {spec.logical_id: load_handler(spec) for spec in functions(load_template())}
