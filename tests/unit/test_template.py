"""Infrastructure assertions on template.yaml (what cfn-lint cannot know about our intent)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devstack.template import functions, load_template, resources_of_type

TEMPLATE = load_template()
FUNCTIONS = resources_of_type(TEMPLATE, "AWS::Serverless::Function")


def test_runtime_is_python313_everywhere() -> None:
    assert TEMPLATE["Globals"]["Function"]["Runtime"] == "python3.13"
    for fn in FUNCTIONS.values():
        assert fn["Properties"].get("Runtime", "python3.13") == "python3.13"
    for layer in resources_of_type(TEMPLATE, "AWS::Serverless::LayerVersion").values():
        assert layer["Properties"]["CompatibleRuntimes"] == ["python3.13"]
        # The layer's Makefile builds it for python3.13 (pip's target version, compiled by python3.13).
        assert layer["Metadata"]["BuildMethod"] == "makefile"
        makefile = (
            Path(__file__).resolve().parents[2] / layer["Properties"]["ContentUri"] / "Makefile"
        ).read_text()
        assert "--python-version 3.13" in makefile
        assert "PYTHON ?= python3.13" in makefile


def test_table_is_on_demand_encrypted_recoverable_with_ttl_on_expires_at() -> None:
    (table,) = resources_of_type(TEMPLATE, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert table["DeletionPolicy"] == "Retain"


def test_events_are_never_logged() -> None:
    assert (
        TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_LOGGER_LOG_EVENT"] == "false"
    )
    for api in resources_of_type(TEMPLATE, "AWS::Serverless::Api").values():
        for setting in api["Properties"].get("MethodSettings", []):
            assert setting.get("DataTraceEnabled") is False


def test_stage_throttling_is_configured() -> None:
    (api,) = resources_of_type(TEMPLATE, "AWS::Serverless::Api").values()
    (setting,) = api["Properties"]["MethodSettings"]
    assert setting["ThrottlingRateLimit"] == {"Ref": "ApiThrottlingRateLimit"}
    assert setting["ThrottlingBurstLimit"] == {"Ref": "ApiThrottlingBurstLimit"}
    assert api["Properties"]["GatewayResponses"]["THROTTLED"]["StatusCode"] == "429"


def _statements(fn: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for policy in fn["Properties"].get("Policies", []):
        assert isinstance(policy, dict) and "Statement" in policy, "only inline least-privilege statements"
        out.extend(policy["Statement"])
    return out


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_least_privilege_policy_per_function(name: str) -> None:
    statements = _statements(FUNCTIONS[name])
    assert statements, f"{name} has no policy"
    for st in statements:
        actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
        assert all("*" not in a for a in actions), f"{name}: wildcard action {actions}"
        assert st["Resource"] != "*", f"{name}: wildcard resource"
        assert not any(a in {"dynamodb:Scan", "dynamodb:DeleteTable"} for a in actions)


def test_link_token_ttl_parameter_is_bounded_1min_to_4h() -> None:
    ttl = TEMPLATE["Parameters"]["LinkTokenTtlSeconds"]
    assert (ttl["Default"], ttl["MinValue"], ttl["MaxValue"]) == (1800, 60, 14400)


def test_data_centers_match_samconfig() -> None:
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parents[2] / "samconfig.toml").read_text())
    assert TEMPLATE["Parameters"]["DataCenter"]["AllowedValues"] == ["us", "uk", "de", "ca", "au", "sg"]
    regions = {
        env: config[env]["deploy"]["parameters"]["region"] for env in ("us", "uk", "de", "ca", "au", "sg")
    }
    assert regions == {
        "us": "us-east-1",
        "uk": "eu-west-2",
        "de": "eu-central-1",
        "ca": "ca-central-1",
        "au": "ap-southeast-2",
        "sg": "ap-southeast-1",
    }
    for env in regions:
        overrides = config[env]["deploy"]["parameters"]["parameter_overrides"]
        assert f"DataCenter={env}" in overrides


def test_every_function_has_a_handler_file() -> None:
    for spec in functions(TEMPLATE):
        module = spec.handler.rpartition(".")[0]
        assert (spec.code_dir / f"{module}.py").is_file(), spec.logical_id


def test_access_logs_are_json_with_retention_and_never_record_query_strings_or_bodies() -> None:
    import json

    (api,) = resources_of_type(TEMPLATE, "AWS::Serverless::Api").values()
    setting = api["Properties"]["AccessLogSetting"]
    assert setting["DestinationArn"] == {"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]}
    fields = json.loads(setting["Format"])
    assert {"requestId", "status", "resourcePath", "httpMethod"} <= fields.keys()
    variables = set(fields.values())
    # $context.path carries ids; query strings and bodies carry link tokens, codes and secrets.
    forbidden = ("$context.path", "querystring", "$input", "$context.requestOverride", "$request")
    assert not [v for v in variables for word in forbidden if word.lower() in v.lower()]
    log_group = TEMPLATE["Resources"]["ApiAccessLogGroup"]
    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_api_stage_waits_for_the_account_logging_role_it_creates() -> None:
    (api,) = resources_of_type(TEMPLATE, "AWS::Serverless::Api").values()
    assert api["Properties"]["Variables"]["LoggingRole"]["Fn::If"][1] == {"Ref": "ApiGatewayAccount"}
    assert TEMPLATE["Resources"]["ApiGatewayAccount"]["Condition"] == "CreateApiGatewayLoggingRole"


def test_a_key_twice_in_one_mapping_is_refused(tmp_path: Path) -> None:
    """YAML keeps the last of two equal keys; two merged Conditions sections once lost one."""
    template = tmp_path / "template.yaml"
    template.write_text("Resources: {}\nConditions:\n  A: !Equals [a, a]\nConditions:\n  B: !Equals [b, b]\n")
    with pytest.raises(ValueError, match="duplicate keys \\['Conditions'\\]"):
        load_template(template)
