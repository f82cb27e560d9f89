"""Account departures: the revocation tells which subjects it named (token or sub, only the
client's own), the queue message round trip, and the worker's handling (another client's account,
or an unknown one, is left alone)."""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from orgconnect.domain.accounts import Account
from orgconnect.domain.revocation import revoke
from orgconnect.workers.provisioning_departures import AccountDeparture, DepartureWorker, is_departure
from tests.provisioning.fakes import CLIENT, OU, account
from tests.unit.test_delegated_access_units import tenant
from tests.unit.token_doubles import HASHER, NOW, InMemoryTokens, add_client, issue_code, redeem

ACCOUNT_SUB = "acc_" + "a" * 24


def test_the_revocation_names_the_subjects_it_revoked() -> None:
    store = InMemoryTokens()
    client, other = add_client(store), add_client(store)
    mine = redeem(store, client, issue_code(store, client, sub=ACCOUNT_SUB))
    theirs = redeem(store, other, issue_code(store, other, sub=ACCOUNT_SUB))
    heard: list[str] = []
    revoke_for_client = partial(revoke, client, store=store, hasher=HASHER, now=NOW, on_revoked=heard.append)
    revoke_for_client(token=mine.refresh_token, sub=None)
    revoke_for_client(token=theirs.access_token, sub=None)
    revoke_for_client(token=None, sub=ACCOUNT_SUB)
    revoke_for_client(token=None, sub="acc_" + "b" * 24)
    assert heard == [ACCOUNT_SUB, ACCOUNT_SUB]  # another client's token and an unknown sub: nothing


def test_a_departure_message_round_trips_and_nothing_else_passes_for_one() -> None:
    departure = AccountDeparture(CLIENT, ACCOUNT_SUB)
    message = departure.to_message()
    assert is_departure(message) and AccountDeparture.from_message(message) == departure
    assert not is_departure({"client_id": CLIENT, "email": "a@example.com"}) and not is_departure([1])
    for bad in ({**message, "account_id": "ou_1"}, {**message, "kind": "other"}, {"kind": message["kind"]}):
        with pytest.raises((KeyError, ValueError)):
            AccountDeparture.from_message(bad)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str | None]] = []

    def deprovision_account(self, account: Account, ou_id: str | None) -> list[Any]:
        self.calls.append((account.account_id, ou_id))
        return []


def test_the_worker_deprovisions_the_clients_own_account_in_its_ou() -> None:
    leaver = account("leaver@example.com")
    accounts = {leaver.account_id: leaver}
    tenants = {"ser_1": tenant("ser_1", "example.com", ou=OU)}

    class Store:
        def get(self, key: str) -> Any:
            return accounts.get(key) or tenants.get(key)

        def others_in_organizational_unit(self, own: Any) -> list[Any]:
            return []

    recorder = Recorder()
    worker = DepartureWorker(accounts=Store(), tenants=Store(), provisioner=recorder)  # type: ignore[arg-type]
    assert worker.handle(AccountDeparture(CLIENT, leaver.account_id)) == "departed"
    assert worker.handle(AccountDeparture("cli_other", leaver.account_id)) == "account_not_found"
    assert worker.handle(AccountDeparture(CLIENT, "acc_" + "c" * 24)) == "account_not_found"
    assert recorder.calls == [(leaver.account_id, OU)]
