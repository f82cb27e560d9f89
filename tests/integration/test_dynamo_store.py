"""The shared DynamoDB helpers every store uses."""

from __future__ import annotations

from typing import Any

import pytest

from orgconnect import runtime
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.store import keys
from tests.conftest import Seeded

pytestmark = pytest.mark.every_dynamodb


def test_batch_get_retries_unprocessed_keys_then_gives_up(
    seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = runtime.get_store()
    wanted = [keys.client_key(seeded.client_id), keys.service_account_key(seeded.service_account_id)]
    real = store.client.batch_get_item
    calls: list[int] = []

    def first_call_leaves_one_key(**kwargs: Any) -> Any:
        calls.append(1)
        request = kwargs["RequestItems"][store.table_name]
        if len(calls) == 1:
            answer = real(RequestItems={store.table_name: {**request, "Keys": request["Keys"][:1]}})
            answer["UnprocessedKeys"] = {store.table_name: {**request, "Keys": request["Keys"][1:]}}
            return answer
        return real(**kwargs)

    monkeypatch.setattr(store.client, "batch_get_item", first_call_leaves_one_key)
    found = store.batch_get(wanted)
    assert set(found) == {k["pk"] for k in wanted}
    assert len(calls) == 2

    def always_unprocessed(**kwargs: Any) -> Any:
        calls.append(1)
        return {"Responses": {}, "UnprocessedKeys": kwargs["RequestItems"]}

    calls.clear()
    monkeypatch.setattr(store.client, "batch_get_item", always_unprocessed)
    with pytest.raises(TemporarilyUnavailable):
        store.batch_get(wanted)
    assert len(calls) == 3


def test_a_service_account_create_repeated_after_it_landed_stands_and_another_clients_fails(
    seeded: Seeded,
) -> None:
    from orgconnect.domain.errors import Conflict
    from orgconnect.domain.model import CalendarProvider, ServiceAccount
    from orgconnect.store.service_accounts import DynamoServiceAccounts, service_account_from
    from tests.values import replace

    store = runtime.get_store()
    accounts = DynamoServiceAccounts(store)
    made = ServiceAccount(
        service_account_id="ser_" + "a1" * 12,
        client_id=seeded.client_id,
        provider=CalendarProvider.GOOGLE_WORKSPACE,
        domain="repeat.example",
        admin_email=None,
        organizational_unit_id=None,
        created_at=1_700_000_000,
    )
    accounts.create_service_account(made)
    accounts.create_service_account(made)  # the retried attempt of a create whose answer was lost
    assert service_account_from(store.read(keys.service_account_key(made.service_account_id))) == made
    with pytest.raises(Conflict):
        accounts.create_service_account(replace(made, client_id="cli_" + "b2" * 12))
