"""`make dev`: the whole system on 127.0.0.1 behaves as SPEC 2.1 and 6 say (issue 2's "done when")."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest

from tests.e2e.conftest import ROOT, DevStackProcess

pytestmark = pytest.mark.e2e
PATH = "/v1/organizational_unit_authorization_link_tokens"
PER_PROVIDER_DEMO = {
    "webex_active",
    "webex_inactive",
    "ms_teams_active",
    "ms_teams_unlicensed",
    "google_meet_active",
    "google_meet_suspended",
    "indeed_active",
    "indeed_deactivated",
}
SPEC_KEYS = {
    "api_url",
    "app_url",
    "aws_endpoint_url",
    "client_id",
    "client_secret",
    "redirect_uri",
    "service_account_id",
    "service_account_token",
    "simulators",
    "demo",
}


def mint(
    stack: dict[str, Any],
    *,
    secret: str | None = None,
    body: Any = None,
    content: str | None = None,
    content_type: str = "application/json",
) -> httpx.Response:
    headers = {"Authorization": f"Bearer {secret or stack['client_secret']}", "Content-Type": content_type}
    if content is None:
        content = json.dumps({"service_account_id": stack["service_account_id"]} if body is None else body)
    return httpx.post(f"{stack['api_url']}{PATH}", headers=headers, content=content, timeout=10)


def test_dev_json_has_the_spec_keys_and_loopback_urls(dev_stack: dict[str, Any]) -> None:
    assert set(dev_stack) >= SPEC_KEYS
    for key in ("api_url", "app_url", "aws_endpoint_url", "redirect_uri"):
        assert dev_stack[key].startswith("http://127.0.0.1:")
    assert set(dev_stack["demo"]) >= {
        "zoom_active",
        "zoom_pending",
        "no_zoom",
        "other_tenant",
        *PER_PROVIDER_DEMO,
    }
    assert all(dev_stack["demo"][key] for key in PER_PROVIDER_DEMO)  # every provider has its users
    assert re.fullmatch(r"cli_[0-9a-f]{24}", dev_stack["client_id"])
    assert re.fullmatch(r"ser_[0-9a-f]{24}", dev_stack["service_account_id"])


def test_link_token_with_dev_credentials(dev_stack: dict[str, Any]) -> None:
    response = mint(dev_stack)
    assert response.status_code == 200
    token = response.json()["organizational_unit_authorization_link_token"]["ou_link_token"]
    assert len(token) >= 43


def test_wrong_key_is_401(dev_stack: dict[str, Any]) -> None:
    response = mint(dev_stack, secret="not-the-secret")
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "body", [{}, {"service_account_id": "ser_000000000000000000000000"}], ids=["missing", "unknown"]
)
def test_missing_or_unknown_service_account_is_422(dev_stack: dict[str, Any], body: dict[str, Any]) -> None:
    response = mint(dev_stack, body=body)
    assert response.status_code == 422
    (error,) = response.json()["errors"]["service_account_id"]
    assert error["key"].startswith("errors.") and error["description"]


def test_malformed_json_is_4xx(dev_stack: dict[str, Any]) -> None:
    response = mint(dev_stack, content='{"service_account_id": ')
    assert 400 <= response.status_code < 500
    assert response.json()["errors"]["body"]


def test_wrong_content_type_is_415(dev_stack: dict[str, Any]) -> None:
    assert (
        mint(
            dev_stack, content="service_account_id=x", content_type="application/x-www-form-urlencoded"
        ).status_code
        == 415
    )


def test_unknown_route_answers_like_api_gateway(dev_stack: dict[str, Any]) -> None:
    response = httpx.get(f"{dev_stack['api_url']}/v1/nothing-here")
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}


def test_swagger_ui_and_openapi_are_served(dev_stack: dict[str, Any]) -> None:
    spec = httpx.get(dev_stack["openapi_url"]).json()
    assert PATH in spec["paths"]
    page = httpx.get(dev_stack["docs_url"])
    assert page.status_code == 200 and "swagger-ui" in page.text
    assert httpx.get(f"{dev_stack['api_url']}/_dev/docs/swagger-ui-bundle.js").status_code == 200


def test_openapi_in_docs_is_up_to_date(dev_stack: dict[str, Any]) -> None:
    committed = json.loads((ROOT / "docs" / "openapi.json").read_text())
    served = httpx.get(dev_stack["openapi_url"]).json()
    served.pop("servers", None)
    assert committed == served, "run `make openapi` and commit docs/openapi.json"


def test_demo_integrator_starts_the_flow_with_a_fresh_link_token(dev_stack: dict[str, Any]) -> None:
    first = httpx.get(dev_stack["start_url"])
    second = httpx.get(dev_stack["start_url"])
    assert first.status_code == second.status_code == 302
    urls = [urlsplit(r.headers["location"]) for r in (first, second)]
    queries = [parse_qs(u.query) for u in urls]
    assert urls[0].path == "/organizational_unit_oauth"
    assert f"{urls[0].scheme}://{urls[0].netloc}" == dev_stack["app_url"]
    assert queries[0]["client_id"] == [dev_stack["client_id"]]
    assert queries[0]["redirect_uri"] == [dev_stack["redirect_uri"]]
    assert queries[0]["scope"] == ["organizational_unit_use_integrations"]
    assert queries[0]["capabilities[]"] == ["conferencing"]
    assert queries[0]["ou_link_token"] != queries[1]["ou_link_token"]
    assert queries[0]["state"] != queries[1]["state"]


def test_demo_integrator_callback_shows_code_or_error(dev_stack: dict[str, Any]) -> None:
    ok = httpx.get(dev_stack["redirect_uri"], params={"code": "abc123", "state": "s1"})
    assert ok.status_code == 200 and "abc123" in ok.text and "Authorization complete" in ok.text
    bad = httpx.get(dev_stack["redirect_uri"], params={"error": "access_denied", "state": "s2"})
    assert "access_denied" in bad.text and "did not complete" in bad.text
    evil = httpx.get(dev_stack["redirect_uri"], params={"code": "<script>alert(1)</script>"})
    assert "<script>alert" not in evil.text
    assert evil.headers["content-security-policy"].startswith("default-src 'none'")


def test_aws_emulator_is_inspectable_with_the_aws_sdk(dev_stack: dict[str, Any]) -> None:
    client = boto3.client(
        "dynamodb",
        endpoint_url=dev_stack["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    )
    assert dev_stack["aws"]["table_name"] in client.list_tables()["TableNames"]
    ttl = client.describe_time_to_live(TableName=dev_stack["aws"]["table_name"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    # The operator's environment, not the test process's (which may point at another stack).
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ORGCONNECT_"))}
    return subprocess.run(
        [sys.executable, "-m", "orgconnect.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )


def test_admin_cli_creates_a_client_and_service_account_that_work(
    dev_stack: dict[str, Any], tmp_path: Path
) -> None:
    dev_file = tmp_path / "dev.json"
    dev_file.write_text(json.dumps(dev_stack))
    made = run_cli(
        "admin",
        "create-client",
        "--dev",
        str(dev_file),
        "--name",
        "CLI app",
        "--redirect-uri",
        "https://cli.example/cb",
        "--redirect-uri",
        "https://cli.example/cb2",
        "--categories",
        "general,recruiting",
    )
    assert made.returncode == 0, made.stderr
    client = json.loads(made.stdout)
    assert re.fullmatch(r"cli_[0-9a-f]{24}", client["client_id"]) and len(client["client_secret"]) >= 43
    assert client["categories"] == ["general", "recruiting"]
    account_run = run_cli(
        "admin",
        "create-service-account",
        "--dev",
        str(dev_file),
        "--client-id",
        client["client_id"],
        "--provider",
        "microsoft_365",
        "--domain",
        "Subsidiary.Example",
    )
    assert account_run.returncode == 0, account_run.stderr
    account = json.loads(account_run.stdout)
    assert account["domain"] == "subsidiary.example"
    response = mint(
        dev_stack, secret=client["client_secret"], body={"service_account_id": account["service_account_id"]}
    )
    assert response.status_code == 200
    # The new client cannot use the demo client's service account.
    assert mint(dev_stack, secret=client["client_secret"]).status_code == 422


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--redirect-uri", "http://cli.example/cb"], "https"),
        (["--redirect-uri", "https://cli.example/cb#x"], "fragment"),
        (["--redirect-uri", "https://cli.example/cb", "--categories", "bogus"], "bogus"),
    ],
)
def test_admin_cli_refuses_bad_input_without_a_traceback(
    dev_stack: dict[str, Any], tmp_path: Path, args: list[str], message: str
) -> None:
    dev_file = tmp_path / "dev.json"
    dev_file.write_text(json.dumps(dev_stack))
    result = run_cli("admin", "create-client", "--dev", str(dev_file), "--name", "x", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_admin_cli_without_a_target_says_what_to_do() -> None:
    result = run_cli("admin", "create-client", "--name", "x", "--redirect-uri", "https://a.example/cb")
    assert result.returncode == 2
    assert "--stack-name" in result.stderr


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((parts.hostname or "127.0.0.1", parts.port or 80)) == 0


def test_sigterm_stops_every_server_and_removes_dev_json(tmp_path: Path) -> None:
    stack = DevStackProcess(tmp_path / "state")
    info = stack.wait_ready()
    urls = [
        info["api_url"],
        info["aws_endpoint_url"],
        info["integrator_url"],
        *(s["base_url"] for s in info["simulators"].values()),
    ]
    assert all(_port_open(u) for u in urls)
    assert stack.stop() == 0
    assert not stack.dev_file.exists()
    assert not any(_port_open(u) for u in urls)
