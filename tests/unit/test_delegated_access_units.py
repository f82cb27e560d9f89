"""Delegated access without AWS: the request rules, the worker with in-memory ports, the local
SQS event source's partial-failure rules, the sample event, and what the functions import."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devstack.sqs_events import SqsMapping, failed_ids
from orgconnect.domain.accounts import Account, CalendarTenant, DirectoryUser
from orgconnect.domain.codes import AuthorizationCode, GrantKind
from orgconnect.domain.delegated_access import DelegatedAccessRequest, validate_authorizations
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import CalendarProvider, ServiceAccount
from orgconnect.domain.secrets import SecretHasher
from orgconnect.providers.directory import TenantUnusable
from orgconnect.workers.delegated_access import DelegatedAccessWorker
from tests.cold_start import PROVIDER_CLIENTS, cold_import

ROOT = Path(__file__).resolve().parents[2]
SER, OTHER, CLI = "ser_" + "1" * 24, "ser_" + "2" * 24, "cli_" + "3" * 24
GOOD = {"email": "Ada@Example.com", "scope": "read_only", "callback_url": "https://app.example/cb"}


def validate(
    body: dict[str, Any], delegated_scope: str | None = "read_write"
) -> list[DelegatedAccessRequest]:
    return validate_authorizations(
        body, client_id=CLI, service_account_id=SER, delegated_scope=delegated_scope
    )


def test_one_request_is_normalized() -> None:
    (request,) = validate({**GOOD, "state": "s"})
    assert (request.email, request.scope, request.state) == ("ada@example.com", "read_only", "s")


def test_a_batch_takes_the_top_level_state_as_default() -> None:
    requests = validate({"service_account_authorizations": [GOOD, {**GOOD, "state": "own"}], "state": "top"})
    assert [r.state for r in requests] == ["top", "own"]


@pytest.mark.parametrize(
    "callback_url",
    ["http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]/cb", "https://a.example/x?y=1"],
)
def test_https_or_loopback_callbacks_are_accepted(callback_url: str) -> None:
    assert validate({**GOOD, "callback_url": callback_url})[0].callback_url == callback_url


@pytest.mark.parametrize(
    ("body", "delegated_scope"),
    [
        ({**GOOD, "callback_url": "http://app.example/cb"}, "read_write"),
        ({**GOOD, "callback_url": "ftp://app.example/cb"}, "read_write"),
        ({**GOOD, "callback_url": "https://u:p@app.example/cb"}, "read_write"),
        ({**GOOD, "scope": "read_write"}, "read_only"),
        ({**GOOD, "scope": "read_only"}, None),
        ({**GOOD, "email": "two@@example.com"}, "read_write"),
        ({**GOOD, "email": "x@localhost"}, "read_write"),
        ({**GOOD, "email": 5}, "read_write"),
        ({**GOOD, "state": 5}, "read_write"),
        ({**GOOD, "service_account_authorizations": [GOOD]}, "read_write"),
        ({"service_account_authorizations": "x"}, "read_write"),
        ({"service_account_authorizations": [GOOD] * 51}, "read_write"),
        ({"service_account_authorizations": [GOOD, 3]}, "read_write"),
    ],
)
def test_invalid_requests_are_refused(body: dict[str, Any], delegated_scope: str | None) -> None:
    with pytest.raises(InvalidRequest):
        validate(body, delegated_scope)


def test_fifty_is_the_largest_batch() -> None:
    assert len(validate({"service_account_authorizations": [GOOD] * 50})) == 50


def test_a_message_carries_no_secret_and_reads_back() -> None:
    (request,) = validate(GOOD)
    assert DelegatedAccessRequest.from_message(json.loads(json.dumps(request.to_message()))) == request


# -- the worker with in-memory ports ------------------------------------------------------------


def tenant(service_account_id: str, domain: str, ou: str | None = "ou_" + "4" * 24) -> CalendarTenant:
    account = ServiceAccount(service_account_id, CLI, CalendarProvider.GOOGLE_WORKSPACE, domain, None, ou)
    return CalendarTenant(account, "arn:secret", "read_write")


@dataclass
class Ports:
    tenants: dict[str, CalendarTenant]
    users: dict[str, dict[str, DirectoryUser]]  # by service account id
    unusable: set[str] = field(default_factory=set)
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)
    codes: list[AuthorizationCode] = field(default_factory=list)
    delivered: set[str] = field(default_factory=set)
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def get(self, service_account_id: str) -> CalendarTenant | None:
        return self.tenants.get(service_account_id)

    def others_in_organizational_unit(self, own: CalendarTenant) -> list[CalendarTenant]:
        return [t for k, t in self.tenants.items() if k != own.service_account.service_account_id]

    def find(self, t: CalendarTenant, email: str) -> DirectoryUser | None:
        if t.service_account.service_account_id in self.unusable:
            raise TenantUnusable("refused")
        return self.users.get(t.service_account.service_account_id, {}).get(email)

    def create_or_get(self, account: Account) -> tuple[Account, bool]:
        key = (account.service_account_id, account.email)
        if key in self.accounts:
            return self.accounts[key], False
        self.accounts[key] = account
        return account, True

    def issue_code(self, code_digest: str, code: AuthorizationCode, profile_name: str) -> None:
        self.codes.append(code)

    def callback_delivered(self, message_id: str) -> bool:
        return message_id in self.delivered

    def mark_delivered(self, message_id: str) -> None:
        self.delivered.add(message_id)

    def worker(self) -> DelegatedAccessWorker:
        return DelegatedAccessWorker(
            tenants=self,
            directory=self,
            accounts=self,
            hasher=SecretHasher(b"p" * 32),
            deliver=lambda url, body: self.posts.append((url, body)),
            now=lambda: 1_000,
            code_ttl_seconds=600,
        )


def request(email: str = "ada@example.com") -> DelegatedAccessRequest:
    return DelegatedAccessRequest(CLI, SER, email, "read_only", "https://app.example/cb", "st")


def test_a_found_email_gets_a_code_bound_to_the_callback_url() -> None:
    ports = Ports(
        {SER: tenant(SER, "example.com")}, {SER: {"ada@example.com": DirectoryUser("u1", "ada@example.com")}}
    )
    assert ports.worker().handle(request(), "m1") == "code"
    (code,) = ports.codes
    assert (code.kind, code.redirect_uri, code.scope) == (
        GrantKind.ACCOUNT,
        "https://app.example/cb",
        "read_only",
    )
    ((url, body),) = ports.posts
    assert url == "https://app.example/cb" and set(body["authorization"]) == {"code", "state"}


def test_a_redelivered_message_whose_callback_was_delivered_does_nothing() -> None:
    ports = Ports(
        {SER: tenant(SER, "example.com")}, {SER: {"ada@example.com": DirectoryUser("u1", "ada@example.com")}}
    )
    worker = ports.worker()
    worker.handle(request(), "m1")
    assert worker.handle(request(), "m1") == "already_delivered"
    assert len(ports.posts) == 1 and len(ports.accounts) == 1


def test_the_other_tenants_of_the_ou_are_searched_and_profile_their_provider() -> None:
    ports = Ports(
        {SER: tenant(SER, "example.com"), OTHER: tenant(OTHER, "subsidiary.example")},
        {OTHER: {"bo@subsidiary.example": DirectoryUser("u2", "bo@subsidiary.example", "Bo")}},
    )
    assert ports.worker().handle(request("bo@subsidiary.example"), "m1") == "code"
    (account,) = ports.accounts.values()
    assert account.service_account_id == SER and account.provider_user_id == "u2" and account.name == "Bo"


def test_an_unknown_email_gets_the_error_callback() -> None:
    ports = Ports({SER: tenant(SER, "example.com")}, {})
    assert ports.worker().handle(request(), "m1") == "account_not_found"
    ((_, body),) = ports.posts
    assert body["authorization"]["error"] == "not_found" and body["authorization"]["state"] == "st"
    assert not ports.accounts


def test_unusable_admin_credentials_ask_for_reauthorization() -> None:
    ports = Ports({SER: tenant(SER, "example.com")}, {}, unusable={SER})
    assert ports.worker().handle(request(), "m1") == "service_account_reauthorization_required"


def test_a_deleted_service_account_gets_an_error_callback() -> None:
    ports = Ports({}, {})
    assert ports.worker().handle(request(), "m1") == "service_account_not_found"


def test_a_failed_callback_leaves_no_delivery_mark() -> None:
    ports = Ports(
        {SER: tenant(SER, "example.com")}, {SER: {"ada@example.com": DirectoryUser("u1", "ada@example.com")}}
    )
    worker = ports.worker()

    def refuse(url: str, body: dict[str, Any]) -> None:
        raise RuntimeError("down")

    worker.deliver = refuse
    with pytest.raises(RuntimeError):
        worker.handle(request(), "m1")
    assert not ports.delivered


# -- the local SQS event source -----------------------------------------------------------------


def mapping(partial: bool) -> SqsMapping:
    spec: Any = None  # failed_ids reads only the response type
    return SqsMapping(
        spec=spec, queue_url="u", queue_arn="a", batch_size=10, report_batch_item_failures=partial
    )


def test_partial_batch_failures_keep_only_the_named_records() -> None:
    ids = {"a", "b", "c"}
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, mapping(True), ids) == {"b"}
    assert failed_ids({"batchItemFailures": []}, mapping(True), ids) == set()
    # An identifier that is not in the batch, or an unreadable answer, fails the whole batch.
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, mapping(True), ids) == ids
    assert failed_ids({"batchItemFailures": "x"}, mapping(True), ids) == ids
    # Without ReportBatchItemFailures a returned answer means the whole batch succeeded.
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "b"}]}, mapping(False), ids) == set()


def test_the_sample_sqs_event_is_a_worker_message() -> None:
    event = json.loads((ROOT / "events" / "sqs" / "DelegatedAccessWorkerFunction.json").read_text())
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs"
    DelegatedAccessRequest.from_message(json.loads(record["body"]))


@pytest.mark.parametrize("function", ["service_account_authorizations", "delegated_access_worker"])
def test_importing_the_function_builds_nothing_and_loads_no_provider_client(function: str) -> None:
    unwanted = (*PROVIDER_CLIENTS, "orgconnect.web.flow")
    env = {
        "ORGCONNECT_TABLE_NAME": "table",
        "ORGCONNECT_PEPPER_SECRET_ID": "p",
        "ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL": "q",
    }
    started = cold_import(function, env=env, unwanted=unwanted, cached=("get_store", "get_hasher"))
    assert started == ([], 0)


@pytest.mark.parametrize(
    ("kind", "scope"),
    [
        (GrantKind.SERVICE_ACCOUNT, "service_account/resources/manage"),
        (GrantKind.ORGANIZATIONAL_UNIT, "organizational_unit_use_integrations"),
        (GrantKind.ACCOUNT, "read_only"),
    ],
)
def test_only_service_account_tokens_with_the_accounts_scope_may_ask(kind: GrantKind, scope: str) -> None:
    from orgconnect.domain.grants import AccessGrant
    from orgconnect.web.service_account_authorizations import NotAServiceAccountToken, accept

    def untouched(*_: Any) -> Any:
        raise AssertionError("nothing is read or queued for a refused token")

    app: Any = None
    with pytest.raises(NotAServiceAccountToken):
        accept(app, AccessGrant("grt_x", CLI, kind, SER, scope), load_tenant=untouched, queue=untouched)


def test_local_iam_names_the_queue_and_the_single_message_action_of_sqs_batches() -> None:
    from devstack import iam

    url = "http://127.0.0.1:4566/123456789012/orgconnect-local-DelegatedAccessQueue"
    arn = "arn:aws:sqs:us-east-1:123456789012:orgconnect-local-DelegatedAccessQueue"
    assert iam.required("sqs", "SendMessageBatch", {"QueueUrl": url}) == [("sqs:SendMessage", arn)]
    assert iam.required("sqs", "ReceiveMessage", {"QueueUrl": url}) == [("sqs:ReceiveMessage", arn)]


class _Context:
    function_name, memory_limit_in_mb, aws_request_id = "worker", 512, "req-1"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:worker"


def test_a_batch_whose_records_all_fail_reports_them_all(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    from orgconnect import settings

    for name, value in {
        "ORGCONNECT_TABLE_NAME": "table",
        "ORGCONNECT_PEPPER_SECRET_ID": "p",
        "ORGCONNECT_DELEGATED_ACCESS_QUEUE_URL": "q",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    settings.reset()
    spec = importlib.util.spec_from_file_location(
        "worker_app", ROOT / "functions/delegated_access_worker/app.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    event = json.loads((ROOT / "events" / "sqs" / "DelegatedAccessWorkerFunction.json").read_text())
    record = event["Records"][0]
    event["Records"] = [{**record, "body": "not json"}, {**record, "messageId": "second", "body": "{}"}]
    answer = module.lambda_handler(event, _Context())
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": record["messageId"]}, {"itemIdentifier": "second"}]
    }
    settings.reset()
