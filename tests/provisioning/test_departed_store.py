"""Departed accounts (store/provisioning_departed.py) on moto and on DynamoDB Local: recorded per
OU, a repeat is harmless, another OU sees none; the departure worker records the account before
it removes its Zoom users, so the reconcile never creates one for it again."""

from __future__ import annotations

from typing import Any

import pytest

from orgconnect import runtime
from orgconnect.domain.accounts import Account
from orgconnect.domain.secrets import new_id
from orgconnect.store.provisioning_departed import DynamoDepartedAccounts
from orgconnect.workers.provisioning_departures import AccountDeparture, DepartureWorker
from tests.provisioning.fakes import CLIENT, OU, account
from tests.unit.test_delegated_access_units import tenant

pytestmark = pytest.mark.every_dynamodb


def test_departures_are_kept_per_ou(aws: dict[str, str]) -> None:
    departed = DynamoDepartedAccounts(runtime.get_store())
    ou, other = new_id("ou"), new_id("ou")
    assert departed.account_ids(ou) == frozenset()
    departed.record(ou, "acc_1", now=1)
    departed.record(ou, "acc_1", now=2)  # a redelivered departure
    departed.record(ou, "acc_2", now=3)
    departed.record(other, "acc_3", now=4)
    assert departed.account_ids(ou) == {"acc_1", "acc_2"}
    assert departed.account_ids(other) == {"acc_3"}


class Recorder:
    def __init__(self, departed: DynamoDepartedAccounts) -> None:
        self.departed = departed
        self.seen: list[frozenset[str]] = []

    def now(self) -> int:
        return 1_800_000_000

    def deprovision_account(self, account: Account, ou_id: str | None) -> list[Any]:
        self.seen.append(self.departed.account_ids(ou_id or ""))
        return []


def test_the_worker_records_the_departure_before_removing(aws: dict[str, str]) -> None:
    leaver = account("leaver@example.com")

    class Store:
        def get(self, key: str) -> Any:
            return leaver if key == leaver.account_id else tenant(key, "example.com", ou=OU)

        def others_in_organizational_unit(self, own: Any) -> list[Any]:
            return []

    departed = DynamoDepartedAccounts(runtime.get_store())
    recorder = Recorder(departed)
    worker = DepartureWorker(Store(), Store(), recorder, departed)  # type: ignore[arg-type]
    assert worker.handle(AccountDeparture(CLIENT, leaver.account_id)) == "departed"
    assert recorder.seen == [{leaver.account_id}]
