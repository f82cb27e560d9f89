"""Enterprise Connect's DynamoDB repository on moto and on DynamoDB Local: the lookup by provider
and domain, the one transaction that creates or refreshes a service account with its code, and
its conditions (a concurrent creation for the same domain, a finished request)."""

from __future__ import annotations

import pytest

from orgconnect import runtime
from orgconnect.domain.codes import AuthorizationCode, GrantKind
from orgconnect.domain.enterprise_connect import (
    EnterpriseConnectRequest,
    EnterpriseConnectStep,
    ServiceAccountAuthorization,
)
from orgconnect.domain.model import CalendarProvider, ServiceAccount
from orgconnect.domain.ports import StepConflict
from orgconnect.domain.secrets import new_id
from orgconnect.store.enterprise_connect import DynamoEnterpriseConnect, ServiceAccountDetailsReader
from tests.conftest import Seeded

pytestmark = pytest.mark.every_dynamodb
SCOPE = "service_account/accounts/manage"


def _repository() -> DynamoEnterpriseConnect:
    return DynamoEnterpriseConnect(runtime.get_store(), clock=runtime.now)


def _request(client_id: str) -> EnterpriseConnectRequest:
    now = runtime.now()
    return EnterpriseConnectRequest(
        new_id("arq"),
        client_id,
        "https://app.example/callback",
        "st",
        SCOPE,
        "read_write",
        "browser",
        now,
        now + 3600,
    )


def _authorization(
    request: EnterpriseConnectRequest, account: ServiceAccount, *, is_new: bool
) -> ServiceAccountAuthorization:
    now = runtime.now()
    code = AuthorizationCode(
        request.client_id,
        request.redirect_uri,
        GrantKind.SERVICE_ACCOUNT,
        account.service_account_id,
        SCOPE,
        now,
        now + 600,
    )
    return ServiceAccountAuthorization(
        request, account, is_new, "arn:secret:" + account.service_account_id, new_id("dg"), code
    )


def test_an_operator_recorded_service_account_is_found_by_provider_and_domain(seeded: Seeded) -> None:
    found = _repository().find_service_account(
        seeded.client_id, CalendarProvider.GOOGLE_WORKSPACE, "example.com"
    )
    assert found is not None and found.service_account.service_account_id == seeded.service_account_id
    assert found.secret_arn is None
    assert (
        _repository().find_service_account(seeded.client_id, CalendarProvider.MICROSOFT_365, "example.com")
        is None
    )


def test_a_new_service_account_its_refresh_and_a_lost_race(seeded: Seeded) -> None:
    repository = _repository()
    first = _request(seeded.client_id)
    repository.start(first)
    account = ServiceAccount(
        new_id("ser"), seeded.client_id, CalendarProvider.MICROSOFT_365, "corp.example", "admin@corp.example"
    )
    repository.authorize(_authorization(first, account, is_new=True))
    done = repository.get(first.request_id)
    assert done is not None and done.step is EnterpriseConnectStep.DONE
    found = repository.find_service_account(seeded.client_id, CalendarProvider.MICROSOFT_365, "corp.example")
    assert found is not None and found.service_account.service_account_id == account.service_account_id
    assert found.secret_arn == "arn:secret:" + account.service_account_id

    # The same request again: it is finished.
    with pytest.raises(StepConflict):
        repository.authorize(_authorization(first, account, is_new=False))
    # Another request that also believed the domain unclaimed loses: no second service account.
    second = _request(seeded.client_id)
    repository.start(second)
    rival = ServiceAccount(new_id("ser"), seeded.client_id, CalendarProvider.MICROSOFT_365, "corp.example")
    with pytest.raises(StepConflict):
        repository.authorize(_authorization(second, rival, is_new=True))
    assert ServiceAccountDetailsReader(runtime.get_store()).get(rival.service_account_id) is None
    # ... and the request it used is still open: a refresh of the found one goes through.
    refreshed = ServiceAccount(
        account.service_account_id,
        seeded.client_id,
        CalendarProvider.MICROSOFT_365,
        "corp.example",
        "new@corp.example",
    )
    repository.authorize(_authorization(second, refreshed, is_new=False))
    details = ServiceAccountDetailsReader(runtime.get_store()).get(account.service_account_id)
    assert details is not None
    assert details.service_account.admin_email == "new@corp.example"
    assert details.delegated_scope == "read_write" and details.scope == SCOPE
    with pytest.raises(StepConflict):
        repository.end(second, outcome="failed")


def test_a_refresh_never_moves_another_clients_service_account(seeded: Seeded) -> None:
    repository = _repository()
    request = _request(seeded.client_id)
    repository.start(request)
    foreign = ServiceAccount(
        seeded.other_service_account_id, seeded.client_id, CalendarProvider.GOOGLE_WORKSPACE, "other.example"
    )
    with pytest.raises(StepConflict):
        repository.authorize(_authorization(request, foreign, is_new=False))
    still = repository.get(request.request_id)
    assert still is not None and still.step is EnterpriseConnectStep.ACTIVE
