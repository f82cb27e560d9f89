"""The test of a browser-linked Zoom connection (providers/connection_tokens.py) against the Zoom
simulator on 127.0.0.1: the account and plan are read with the connection's access token, every
failure names ``connection_id``, a 401 is left to the caller (to refresh), an outage is 503."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from orgconnect.domain.connection_checks import CheckFailure
from orgconnect.domain.provider_model import AccessTokenRejected, ProviderUnavailable
from orgconnect.providers.connection_tokens import ProviderConnectionTokens
from orgconnect.providers.registry import ProviderRegistry
from tests.integration.test_provider_api_zoom import Zoom, served, zoom  # noqa: F401 (fixtures)

ALL_SCOPES = "user:read:admin meeting:write:admin"


@dataclass(frozen=True)
class Target:
    connection_id: str
    provider_name: str
    provider_account_id: str
    secret_arn: str = "arn:unused"


def checker(zoom: Zoom) -> ProviderConnectionTokens:  # noqa: F811
    registry = ProviderRegistry({"zoom": zoom.app}, overrides={"zoom": zoom.url}, timeout=1.0)
    return ProviderConnectionTokens(lambda: registry, timeout=1.0)


def test_the_linked_account_passes(zoom: Zoom) -> None:  # noqa: F811
    tokens = zoom.user_tokens()
    target = Target("cnx_1", "zoom_enterprise", zoom.sim.paid_account().id)
    check = checker(zoom).check(target, tokens.access_token, ALL_SCOPES)
    assert check.passed and check.account_id == target.provider_account_id and check.account_name


def test_another_account_and_missing_scopes_name_the_connection(zoom: Zoom) -> None:  # noqa: F811
    tokens = zoom.user_tokens()
    elsewhere = checker(zoom).check(Target("cnx_1", "zoom_enterprise", "another"), tokens.access_token, None)
    assert elsewhere.failure is CheckFailure.UNKNOWN_ACCOUNT
    assert [(e.field, e.key) for e in elsewhere.errors()] == [("connection_id", "errors.unknown_account")]
    target = Target("cnx_1", "zoom_enterprise", zoom.sim.paid_account().id)
    lacking = checker(zoom).check(target, tokens.access_token, "user:read:admin")
    assert lacking.failure is CheckFailure.MISSING_SCOPES
    assert lacking.missing_scopes == ("meeting:write:meeting:admin",)
    assert [e.field for e in lacking.errors()] == ["connection_id"]


def test_a_refused_token_is_left_to_the_caller_and_an_outage_is_unavailable(zoom: Zoom) -> None:  # noqa: F811
    target = Target("cnx_1", "zoom_enterprise", zoom.sim.paid_account().id)
    with pytest.raises(AccessTokenRejected):
        checker(zoom).check(target, "not-a-zoom-token", ALL_SCOPES)
    tokens = zoom.user_tokens()
    zoom.fault(target="api", kind="503", count=2)
    with pytest.raises(ProviderUnavailable):
        checker(zoom).check(target, tokens.access_token, ALL_SCOPES)


def test_other_providers_have_no_linked_test(zoom: Zoom) -> None:  # noqa: F811
    assert not checker(zoom).supports("webex_enterprise")
    with pytest.raises(ValueError, match="webex_enterprise"):
        checker(zoom).check(Target("cnx_1", "webex_enterprise", "acc"), "token", None)
