"""Consent and approval: the consent page and POST /organizational_unit_oauth/consent (SPEC 3
steps 6-7). The approval creates (or refreshes) the connection's secret, then writes everything
in one repository operation; if that fails, the new secret is deleted (nothing half-linked).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from contextlib import suppress
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent
from msgspec import Struct

from orgconnect.domain import authorization as flow
from orgconnect.domain.authorization import Approval, PageError, PendingAccount, Step
from orgconnect.domain.catalogue import CALENDARS, CONFERENCING
from orgconnect.domain.codes import CODE_PURPOSE, OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.model import (
    CalendarProvider,
    Connection,
    ConnectionStatus,
    OrganizationalUnit,
    ProviderAccountLink,
    ServiceAccount,
)
from orgconnect.domain.ports import FlowDependencies, StepConflict
from orgconnect.domain.sealing import SealingError
from orgconnect.domain.secrets import new_id
from orgconnect.observability import logger
from orgconnect.web import browser, pages
from orgconnect.web.flow_relink import relinked_page
from orgconnect.web.flow_session import Session, base_url, done_page, end, session
from orgconnect.web.request import body_text

MAX_FORM_BYTES = 8 * 1024
MAX_OU_NAME = 100


class Candidates(Struct, frozen=True):
    """The OUs the administrator may choose (SPEC 3 step 6)."""

    existing: list[OrganizationalUnit]
    new_allowed: bool
    link: ProviderAccountLink | None  # where this provider account is linked already, if anywhere


def _account_id(s: Session, pending: PendingAccount) -> str:
    """A calendar tenant is identified by its domain; a conferencing account by its provider id."""
    return pending.domain if s.request.capability == "calendars" and pending.domain else pending.account_id


def _candidates(deps: FlowDependencies, s: Session, pending: PendingAccount) -> Candidates:
    link = deps.connections.get_link(s.client.client_id, pending.option, _account_id(s, pending))
    ou_ids = [i for i in (s.service_account.organizational_unit_id, link.ou_id if link else None) if i]
    existing = [ou for ou in deps.organizational_units.get_many(ou_ids) if ou.client_id == s.client.client_id]
    existing.sort(key=lambda ou: ou.ou_id != s.service_account.organizational_unit_id)
    return Candidates(existing, s.service_account.organizational_unit_id is None, link)


def consent_page(deps: FlowDependencies, s: Session, base: str) -> Response[Any]:
    """The consent page for the provider account waiting in the request."""
    pending = s.request.pending
    if pending is None:
        raise PageError("Nothing is waiting for approval.", status=409)
    c = _candidates(deps, s, pending)
    option_label = (
        CONFERENCING[pending.option].label
        if pending.option in CONFERENCING
        else CALENDARS[CalendarProvider(pending.option)].label
    )
    return pages.consent_page(
        client_name=s.client.name,
        action_url=f"{base}/organizational_unit_oauth/consent",
        csrf=browser.csrf_token(s.cookie, deps.hasher),
        redirect_uri=s.request.redirect_uri,
        service_account=(CALENDARS[s.service_account.provider].label, s.service_account.domain),
        account=(option_label, pending.account_name, pending.user_email),
        existing=[pages.OuChoice(ou.ou_id, ou.name) for ou in c.existing],
        new_allowed=c.new_allowed,
        default_name=s.service_account.domain,
    )


def decide(deps: FlowDependencies, event: APIGatewayProxyEvent) -> Response[Any]:
    """POST /organizational_unit_oauth/consent: Approve or Deny (CSRF-protected)."""
    s = session(deps, event)
    form = _form(event)
    if not browser.csrf_ok(s.cookie, form.get("csrf"), deps.hasher):
        raise PageError("The form has expired; reload the page and try again.", status=403)
    if s.request.step is Step.DONE:
        return done_page(deps, event, s.client.name)
    pending = s.request.pending
    if s.request.step is not Step.CONSENT or pending is None:
        raise PageError("Nothing is waiting for approval.", status=409)
    decision = form.get("decision")
    if decision == "deny":
        raise end(
            deps,
            s.request,
            s.request.error("access_denied", "The administrator denied the connection."),
            outcome="denied",
        )
    if decision != "approve":
        raise PageError("Choose Approve or Deny.")
    return _approve(deps, event, s, pending, form)


def _form(event: APIGatewayProxyEvent) -> dict[str, str]:
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = body_text(event)
    if body is None or content_type != "application/x-www-form-urlencoded" or len(body) > MAX_FORM_BYTES:
        raise PageError("The form could not be read.", status=400)
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items() if len(v) == 1}


def _approve(
    deps: FlowDependencies,
    event: APIGatewayProxyEvent,
    s: Session,
    pending: PendingAccount,
    form: Mapping[str, str],
) -> Response[Any]:
    c = _candidates(deps, s, pending)
    choice = form.get("ou", "")
    chosen = next((ou for ou in c.existing if ou.ou_id == choice), None)
    if chosen is None and not (choice == "new" and c.new_allowed):
        raise PageError("Choose one of the organizational units offered.", status=400)
    relink = s.request.relink_connection_id
    if relink is not None and (
        c.link is None or c.link.connection_id != relink or chosen is None or chosen.ou_id != c.link.ou_id
    ):
        # A relink url's flow restores that connection in its own OU, nothing else (domain/relink.py).
        raise PageError("This relink can only restore the connection in its organizational unit.", status=409)
    ou_is_new = chosen is None
    if chosen is None:
        name = " ".join(form.get("ou_name", "").split())[:MAX_OU_NAME] or s.service_account.domain
        chosen = OrganizationalUnit(new_id("ou"), s.client.client_id, name, deps.now)
    try:
        tokens = json.loads(
            deps.sealer.open(pending.sealed_tokens, associated_data=s.request.request_id.encode())
        )
    except SealingError:
        raise end(
            deps, s.request, s.request.error("server_error", "The provider credentials could not be read.")
        ) from None

    restored = _restores(deps, c.link)
    created_secret: str | None = None
    code = new_code()
    try:
        member, link, created_secret = _member(deps, s, pending, chosen, c.link, tokens)
        deps.approvals.approve(
            Approval(
                request=s.request,
                service_account=s.service_account,
                ou=chosen,
                ou_is_new=ou_is_new,
                member=member,
                link=link,
                link_is_new=c.link is None,
                code_digest=deps.hasher.digest(CODE_PURPOSE, code),
                code=AuthorizationCode(
                    client_id=s.client.client_id,
                    redirect_uri=s.request.redirect_uri,
                    kind=GrantKind.ORGANIZATIONAL_UNIT,
                    sub=chosen.ou_id,
                    scope=OU_SCOPE,
                    created_at=deps.now,
                    expires_at=deps.now + deps.code_ttl_seconds,
                    code_challenge=s.request.code_challenge,
                ),
            )
        )
    except StepConflict:
        _discard(deps, created_secret)
        # Lost a race: re-read and decide (another tab may have approved this very request).
        latest = deps.flow_state.get_request(s.request.request_id)
        if latest is not None and latest.step is Step.DONE:
            return done_page(deps, event, s.client.name)
        raise end(
            deps,
            s.request,
            s.request.error(
                "server_error", "The organization changed while you were approving; please start again."
            ),
        ) from None
    except TemporarilyUnavailable:
        _discard(deps, created_secret)
        raise end(
            deps, s.request, s.request.error("temporarily_unavailable", "Please try again in a moment.")
        ) from None
    except Exception:
        _discard(deps, created_secret)
        raise
    if isinstance(member, Connection) and deps.request_connection_sync is not None:
        deps.request_connection_sync(member.connection_id)  # its directory and profiles (docs/sync.md)
    logger.info(
        "organizational unit linked",
        extra={
            "client_id": s.client.client_id,
            "ou_id": chosen.ou_id,
            "new_ou": ou_is_new,
            "provider": pending.option,
        },
    )
    if isinstance(member, Connection) and deps.subscribe_user_changes is not None:
        # Teams and Meet: user-change notifications (best effort: the reconcile covers a failure).
        deps.subscribe_user_changes(member, base_url(deps, event))
    if restored is not None:
        with suppress(TemporarilyUnavailable):  # logged by the publisher; the relink stands
            deps.notifications.connection_status_changed(
                restored, ConnectionStatus.CONNECTED, change_key=str(deps.now)
            )
    if relink is not None:
        return relinked_page(deps, event, CONFERENCING[pending.option].label, pending.account_name)
    return pages.redirect(
        flow.redirect_with(s.request.redirect_uri, code=code, state=s.request.state),
        cookies=[browser.clear_cookie(base_url(deps, event))],
    )


def _restores(deps: FlowDependencies, link: ProviderAccountLink | None) -> str | None:
    """The connection this approval brings back to ``connected`` (it needed reauthorization or
    was revoked), or None (a new connection, or one that is connected)."""
    if link is None or link.connection_id is None or deps.load_relink is None:
        return None
    status = deps.relink.connection_status(link.connection_id)
    return link.connection_id if status not in (None, ConnectionStatus.CONNECTED) else None


def _member(
    deps: FlowDependencies,
    s: Session,
    pending: PendingAccount,
    ou: OrganizationalUnit,
    link: ProviderAccountLink | None,
    tokens: dict[str, Any],
) -> tuple[Connection | ServiceAccount | None, ProviderAccountLink, str | None]:
    """The member to write (connection or calendar tenant), its provider-account link, and the
    secret created for it (to delete if the approval fails). A linked account is refreshed in place."""
    now = deps.now
    account_id = _account_id(s, pending)
    created_at = link.created_at if link else now
    if s.request.capability == "calendars":
        tenant = CalendarProvider(pending.option)
        own = s.service_account
        if link and link.service_account_id:
            member_id = link.service_account_id
        elif tenant is own.provider and (pending.domain or "").lower() == own.domain:
            member_id = own.service_account_id  # the flow's own tenant: nothing new to create
        else:
            member_id = new_id("ser")
        member: ServiceAccount | None = None
        if member_id != own.service_account_id:
            member = ServiceAccount(
                member_id,
                s.client.client_id,
                tenant,
                pending.domain or pending.account_name,
                pending.user_email,
                ou.ou_id,
                created_at,
            )
        # The tenant's admin credentials (delegated access looks emails up with them), on its link.
        tenant_secret = link.secret_arn if link else None
        created_tenant_secret: str | None = None
        if member is not None:
            credentials = {**tokens, "tenant_id": pending.account_id, "admin_email": pending.user_email}
            if tenant_secret:
                deps.service_account_vault.replace(tenant_secret, credentials)
            else:
                tenant_secret = created_tenant_secret = deps.service_account_vault.create(
                    member_id, credentials
                )
        new_link = ProviderAccountLink(
            s.client.client_id,
            pending.option,
            account_id,
            ou.ou_id,
            secret_arn=tenant_secret,
            service_account_id=member_id,
            created_at=created_at,
            updated_at=now,
        )
        return member, new_link, created_tenant_secret
    created: str | None = None
    if link is not None and link.connection_id and link.secret_arn:
        member_id, secret_arn = link.connection_id, link.secret_arn
        deps.vault.replace(secret_arn, tokens)
    elif link is not None and link.connection_id and link.ou_id == ou.ou_id:
        # Revoked (deauthorized), its secret deleted: the same connection comes back with new
        # credentials, so its profiles reconnect without a new match (docs/connections.md).
        member_id = link.connection_id
        secret_arn = created = deps.vault.create(member_id, tokens)
    else:
        member_id = new_id("cnx")
        secret_arn = created = deps.vault.create(member_id, tokens)
    connection = Connection(
        member_id,
        ou.ou_id,
        s.client.client_id,
        pending.option,
        pending.account_id,
        pending.account_name,
        ConnectionStatus.CONNECTED,
        secret_arn,
        created_at,
        now,
    )
    new_link = ProviderAccountLink(
        s.client.client_id,
        pending.option,
        account_id,
        ou.ou_id,
        connection_id=member_id,
        secret_arn=secret_arn,
        created_at=created_at,
        updated_at=now,
    )
    return connection, new_link, created


def _discard(deps: FlowDependencies, secret_arn: str | None) -> None:
    """Delete a secret whose approval failed, so no orphan is left."""
    if secret_arn is None:
        return
    try:
        deps.vault.delete(secret_arn)
    except Exception:  # the failure must still reach the integrator; an operator alarm covers this
        logger.exception("could not delete the secret of a failed approval")
