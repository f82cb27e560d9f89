"""ApprovalRepository and the organization reads: all or nothing, once, identical for both."""

from __future__ import annotations

import pytest

from orgconnect.domain.authorization import Approval, AuthorizationRequest, Step
from orgconnect.domain.codes import OU_SCOPE, AuthorizationCode, GrantKind
from orgconnect.domain.model import (
    CalendarProvider,
    Connection,
    ConnectionStatus,
    OrganizationalUnit,
    ProviderAccountLink,
    ServiceAccount,
)
from orgconnect.domain.ports import StepConflict
from orgconnect.domain.secrets import new_id, new_secret
from tests.contract.conftest import Backend
from tests.contract.helpers import Seed, at_consent, seed
from tests.values import replace

CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def _approval(
    s: Seed,
    backend: Backend,
    request: AuthorizationRequest,
    *,
    ou: OrganizationalUnit | None = None,
    member: object = "connection",
) -> Approval:
    now = backend.clock()
    ou = ou or OrganizationalUnit(new_id("ou"), s.client.client_id, "Acme", now)
    connection = Connection(
        new_id("cnx"),
        ou.ou_id,
        s.client.client_id,
        "zoom_enterprise",
        "acct-1",
        "Acme Zoom",
        ConnectionStatus.CONNECTED,
        "arn:secret",
        now,
        now,
    )
    chosen = connection if member == "connection" else member
    link = ProviderAccountLink(
        s.client.client_id,
        "zoom_enterprise",
        "acct-1",
        ou.ou_id,
        connection_id=connection.connection_id,
        secret_arn="arn:secret",
        created_at=now,
        updated_at=now,
    )
    code = AuthorizationCode(
        s.client.client_id,
        s.client.redirect_uris[0],
        GrantKind.ORGANIZATIONAL_UNIT,
        ou.ou_id,
        OU_SCOPE,
        now,
        now + 600,
        code_challenge=CHALLENGE,
    )
    return Approval(request, s.account, ou, True, chosen, link, True, new_secret(), code)  # type: ignore[arg-type]


def test_approval_writes_everything_and_the_reads_see_it(backend: Backend) -> None:
    s = seed(backend)
    approval = _approval(s, backend, at_consent(s, backend))
    backend.approvals.approve(approval)
    done = backend.flow_state.get_request(approval.request.request_id)
    assert done is not None and (done.step, done.outcome, done.pending) == (Step.DONE, "approved", None)
    assert backend.organizational_units.get_many([approval.ou.ou_id, new_id("ou")]) == [approval.ou]
    client, account = backend.service_accounts.get_with_client(
        s.client.client_id, s.account.service_account_id
    )
    assert client == s.client
    assert account is not None and account.organizational_unit_id == approval.ou.ou_id
    assert backend.connections.get_link(s.client.client_id, "zoom_enterprise", "acct-1") == approval.link
    assert backend.issued_code(approval.code_digest) == approval.code  # with its PKCE challenge


def test_approval_happens_once(backend: Backend) -> None:
    s = seed(backend)
    request = at_consent(s, backend)
    backend.approvals.approve(_approval(s, backend, request))
    with pytest.raises(StepConflict):
        backend.approvals.approve(_approval(s, backend, request))


def test_approval_after_the_request_expired_is_refused_and_writes_nothing(backend: Backend) -> None:
    s = seed(backend)
    approval = _approval(s, backend, at_consent(s, backend))
    backend.clock.now = approval.request.expires_at
    with pytest.raises(StepConflict):
        backend.approvals.approve(approval)
    assert backend.organizational_units.get_many([approval.ou.ou_id]) == []
    assert backend.connections.get_link(s.client.client_id, "zoom_enterprise", "acct-1") is None
    assert backend.issued_code(approval.code_digest) is None


def test_approval_is_refused_when_the_service_account_moved_meanwhile(backend: Backend) -> None:
    s = seed(backend)
    first = _approval(s, backend, at_consent(s, backend))
    backend.approvals.approve(first)
    # A second flow's page showed the service account unlinked; it has joined an OU since.
    stale = _approval(s, backend, at_consent(seed_again(backend, s), backend))
    with pytest.raises(StepConflict):
        backend.approvals.approve(replace(stale, link_is_new=False))
    assert backend.issued_code(stale.code_digest) is None
    assert backend.organizational_units.get_many([stale.ou.ou_id]) == []


def test_relinking_a_calendar_tenant_keeps_its_created_at(backend: Backend) -> None:
    s = seed(backend)
    first = at_consent(s, backend, option="microsoft_365", domain="tenant.example")
    ou = OrganizationalUnit(new_id("ou"), s.client.client_id, "Acme", backend.clock())
    tenant = ServiceAccount(
        new_id("ser"),
        s.client.client_id,
        CalendarProvider.MICROSOFT_365,
        "tenant.example",
        "a@tenant.example",
        ou.ou_id,
        backend.clock(),
    )
    link = ProviderAccountLink(
        s.client.client_id,
        "microsoft_365",
        "tenant.example",
        ou.ou_id,
        service_account_id=tenant.service_account_id,
        created_at=backend.clock(),
        updated_at=backend.clock(),
    )
    backend.approvals.approve(replace(_approval(s, backend, first, ou=ou, member=tenant), link=link))
    created = backend.clock()
    backend.clock.now += 100
    again = at_consent(seed_again(backend, s), backend, option="microsoft_365", domain="tenant.example")
    later = replace(tenant, created_at=backend.clock())
    relink = replace(
        _approval(s, backend, again, ou=ou, member=later),
        service_account=replace(s.account, organizational_unit_id=ou.ou_id),
        ou_is_new=False,
        link=replace(link, updated_at=backend.clock()),
        link_is_new=False,
    )
    backend.approvals.approve(relink)
    _, stored = backend.service_accounts.get_with_client(s.client.client_id, tenant.service_account_id)
    assert stored is not None and stored.created_at == created


def test_the_flows_own_service_account_as_the_calendar_member_is_written_once(backend: Backend) -> None:
    s = seed(backend)
    request = at_consent(s, backend, option="google_workspace", domain="example.com")
    own = replace(s.account, organizational_unit_id="ignored")
    approval = _approval(s, backend, request, member=None)
    backend.approvals.approve(
        replace(
            approval,
            link=replace(approval.link, connection_id=None, service_account_id=own.service_account_id),
        )
    )
    _, stored = backend.service_accounts.get_with_client(s.client.client_id, s.account.service_account_id)
    assert stored is not None and stored.organizational_unit_id == approval.ou.ou_id
    assert stored.created_at == s.account.created_at


def seed_again(backend: Backend, s: Seed) -> Seed:
    """Another link token for the same client and service account."""
    from orgconnect.domain.model import LinkTokenGrant

    digest = new_secret()
    now = backend.clock()
    backend.put_link_token(
        digest, LinkTokenGrant(s.client.client_id, s.account.service_account_id, now, now + 1800)
    )
    return replace(s, link_digest=digest)
