"""The Organizational Unit OAuth authorization flow over HTTP (SPEC 3).

The application layer of the authorize and provider-callback functions: it reads requests,
asks ``domain.authorization`` what to do, and uses the stores, the provider clients and the
pages. Every way the flow can end reaches the integrator as an RFC 6749 error with its state,
except when the client or redirect_uri cannot be trusted (then a page, never a redirect).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.shared.cookies import Cookie, SameSite
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from orgconnect.domain import authorization as flow
from orgconnect.domain.authorization import (
    FLOW_TTL_SECONDS,
    STATE_TTL_SECONDS,
    AuthorizationRequest,
    FlowError,
    PageError,
    PendingAccount,
    Step,
)
from orgconnect.domain.catalogue import CALENDARS, CONFERENCING, calendar_provider_key
from orgconnect.domain.codes import CODE_PURPOSE, OU_SCOPE, AuthorizationCode, GrantKind, new_code
from orgconnect.domain.errors import TemporarilyUnavailable
from orgconnect.domain.link_tokens import LINK_TOKEN_PURPOSE
from orgconnect.domain.model import (
    CalendarProvider,
    Client,
    Connection,
    ConnectionStatus,
    OrganizationalUnit,
    ServiceAccount,
)
from orgconnect.domain.sealing import Sealer, SealingError
from orgconnect.domain.secrets import SecretHasher, id_pattern, new_id, new_secret
from orgconnect.observability import logger
from orgconnect.providers.model import ProviderError, ProviderRefused, ProviderUnavailable, Purpose
from orgconnect.providers.registry import ProviderRegistry
from orgconnect.store import keys
from orgconnect.store.dynamodb import DynamoStore, to_item
from orgconnect.store.flows import (
    FlowStore,
    LinkTokenUnavailable,
    ProviderState,
    StateUnavailable,
    StepConflict,
    calendar_service_account_item,
    connection_item,
)
from orgconnect.store.tokens import code_put
from orgconnect.store.vault import ConnectionVault
from orgconnect.web import browser, pages

CLIENT_ID = id_pattern("cli")
STATE_PURPOSE = "provider_state"
MAX_FORM_BYTES = 8 * 1024
LINK_UNAVAILABLE = "The link has expired or has already been used; ask the application for a new one."


@dataclass
class FlowContext:
    """Everything the flow uses. The keyring, the provider apps and the vault are loaded on first
    use (each is a Secrets Manager read at cold start), so a step that does not need them does not
    pay for them; ``orgconnect.runtime`` caches them per process."""

    store: DynamoStore
    flows: FlowStore
    hasher: SecretHasher
    app_url: str
    code_ttl_seconds: int
    now: int
    load_sealer: Callable[[], Sealer]
    load_providers: Callable[[], ProviderRegistry]
    load_vault: Callable[[], ConnectionVault]

    @property
    def sealer(self) -> Sealer:
        return self.load_sealer()

    @property
    def providers(self) -> ProviderRegistry:
        return self.load_providers()

    @property
    def vault(self) -> ConnectionVault:
        return self.load_vault()


def _single(query: Mapping[str, Sequence[str]], name: str) -> str | None:
    values = query.get(name) or []
    return values[0] if len(values) == 1 else None


# -- errors ----------------------------------------------------------------------------------------


def page_for(error: PageError) -> Response[Any]:
    return pages.error_page("This link cannot be used", error.message, status=error.status)


def response_for(error: FlowError, *, client_name: str | None = None) -> Response[Any]:
    """Back to the integrator with the error (or first a page explaining it, with a return button)."""
    logger.info("flow ended with an error", extra={"error": error.error})
    if error.show_page:
        return pages.error_page(
            "The connection could not be made",
            error.description,
            status=403,
            return_url=error.location,
            client_name=client_name,
        )
    return pages.redirect(error.location)


def _end(
    ctx: FlowContext, request: AuthorizationRequest, error: FlowError, outcome: str = "failed"
) -> FlowError:
    """Mark the request finished (best effort: the error must reach the integrator regardless)."""
    try:
        ctx.flows.deny(request, outcome=outcome)
    except (StepConflict, TemporarilyUnavailable) as failure:
        logger.warning("could not mark the request finished", extra={"reason": type(failure).__name__})
    return error


# -- start -----------------------------------------------------------------------------------------


def start(ctx: FlowContext, event: APIGatewayProxyEvent) -> Response[Any]:
    """GET /organizational_unit_oauth: validate, consume the link token, bind the browser."""
    query = event.multi_value_query_string_parameters or {}
    client_id = _single(query, "client_id") or ""
    link_token = _single(query, "ou_link_token") or ""
    cookie = browser.read_flow_cookie(event)
    link_digest = ctx.hasher.digest(LINK_TOKEN_PURPOSE, link_token)
    # One read for the client, the link token and the browser's current request.
    wanted = [keys.link_token_key(link_digest)]
    if CLIENT_ID.match(client_id):
        wanted.append(keys.client_key(client_id))
    if cookie:
        wanted.append(keys.authorization_request_key(cookie.request_id))
    found = ctx.store.batch_get(wanted)
    client = ctx.store.client_from(found.get(keys.client_key(client_id)["pk"])) if client_id else None
    params = flow.validate_authorize(query, client)
    base = browser.app_base_url(event, ctx.app_url)
    read = ctx.flows.start_read(found, link_digest, cookie.request_id if cookie else None)

    resumed = read.resumable
    if (
        resumed is not None
        and resumed.link_token_digest == link_digest
        and browser.matches(cookie, resumed.request_id, resumed.browser_digest, ctx.hasher)
    ):
        return pages.redirect(f"{base}/organizational_unit_oauth/continue")

    def refused(description: str) -> FlowError:
        return FlowError("access_denied", description, redirect_uri=params.redirect_uri, state=params.state)

    grant = read.link_token
    if grant is None or read.link_token_used_by:
        raise refused(LINK_UNAVAILABLE)
    if grant.client_id != params.client.client_id:
        raise refused("The link was not issued to this application.")
    request_id = new_id("arq")
    cookie_value, browser_digest = browser.new_browser_binding(request_id, ctx.hasher)
    request = AuthorizationRequest(
        request_id=request_id,
        client_id=params.client.client_id,
        redirect_uri=params.redirect_uri,
        state=params.state,
        capability=params.capability,
        service_account_id=grant.service_account_id,
        link_token_digest=link_digest,
        browser_digest=browser_digest,
        step=Step.CHOOSE,
        created_at=ctx.now,
        expires_at=ctx.now + FLOW_TTL_SECONDS,
        requested_provider=params.requested_provider,
    )
    try:
        ctx.flows.start_request(request)
    except LinkTokenUnavailable:
        raise refused(LINK_UNAVAILABLE) from None
    except TemporarilyUnavailable:
        raise FlowError(
            "temporarily_unavailable",
            "Please try again in a moment.",
            redirect_uri=params.redirect_uri,
            state=params.state,
        ) from None
    logger.info(
        "authorization flow started", extra={"client_id": request.client_id, "request_id": request_id}
    )
    return pages.redirect(
        f"{base}/organizational_unit_oauth/continue",
        cookies=[browser.set_cookie(cookie_value, base, FLOW_TTL_SECONDS)],
    )


# -- the current request of this browser ------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    request: AuthorizationRequest
    cookie: browser.FlowCookie
    client: Client
    service_account: ServiceAccount


def session(ctx: FlowContext, event: APIGatewayProxyEvent) -> Session:
    """This browser's request, with its client and service account; a page if there is none."""
    cookie = browser.read_flow_cookie(event)
    if cookie is None:
        raise PageError(
            "This page only works in the browser that opened the application's link. "
            "Start again from the application.",
            status=403,
        )
    request = ctx.flows.get_request(cookie.request_id)
    if request is None or not browser.matches(cookie, request.request_id, request.browser_digest, ctx.hasher):
        raise PageError(
            "This authorization has expired or belongs to another browser. Start again from the application.",
            status=403,
        )
    found = ctx.store.batch_get(
        [keys.client_key(request.client_id), keys.service_account_key(request.service_account_id)]
    )
    client = ctx.store.client_from(found.get(keys.client_key(request.client_id)["pk"]))
    account = ctx.store.service_account_from(
        found.get(keys.service_account_key(request.service_account_id)["pk"])
    )
    if client is None or account is None or account.client_id != client.client_id:
        raise _end(
            ctx, request, request.error("access_denied", "The service account is no longer available.")
        )
    return Session(request, cookie, client, account)


def resume(ctx: FlowContext, event: APIGatewayProxyEvent) -> Response[Any]:
    """GET /organizational_unit_oauth/continue: show or do the current step (a reload resumes)."""
    s = session(ctx, event)
    base = browser.app_base_url(event, ctx.app_url)
    step = flow.next_step(s.request, policy=s.client.admin_proof_policy, service_account=s.service_account)
    if step is Step.DONE:
        return pages.done_page(s.client.name)
    if step is Step.CONSENT:
        return _consent_page(ctx, s, base)
    if step is Step.ADMIN_PROOF:
        key = calendar_provider_key(s.service_account.provider)
        return _to_provider(
            ctx, s, base, key=key, option=str(s.service_account.provider), purpose=Purpose.ADMIN_PROOF
        )
    if step is Step.CHOOSE:
        options = [
            (name, label, f"{base}/organizational_unit_oauth/providers/{name}")
            for name, key, label in flow.provider_options(s.client, s.request.capability)
            if ctx.providers.configured(key)
        ]
        if not options:
            raise _end(
                ctx, s.request, s.request.error("access_denied", "No provider is available for this request.")
            )
        return pages.chooser_page(client_name=s.client.name, capability=s.request.capability, options=options)
    option = s.request.chosen or s.request.requested_provider or ""
    return _start_option(ctx, s, base, option)


def choose(ctx: FlowContext, event: APIGatewayProxyEvent, option: str) -> Response[Any]:
    """GET /organizational_unit_oauth/providers/{provider}: the administrator picked ``option``."""
    s = session(ctx, event)
    base = browser.app_base_url(event, ctx.app_url)
    step = flow.next_step(s.request, policy=s.client.admin_proof_policy, service_account=s.service_account)
    if step not in (Step.CHOOSE, Step.PROVIDER):
        return pages.redirect(f"{base}/organizational_unit_oauth/continue")
    return _start_option(ctx, s, base, option)


def _start_option(ctx: FlowContext, s: Session, base: str, option: str) -> Response[Any]:
    offered = {name: key for name, key, _ in flow.provider_options(s.client, s.request.capability)}
    key = offered.get(option)
    if key is None or not ctx.providers.configured(key):
        # L2: the browser cannot widen what the application enabled.
        raise PageError("That provider is not available for this application.", status=403)
    purpose = Purpose.CALENDARS if s.request.capability == "calendars" else Purpose.CONFERENCING
    return _to_provider(ctx, s, base, key=key, option=option, purpose=purpose)


def _to_provider(
    ctx: FlowContext, s: Session, base: str, *, key: str, option: str, purpose: Purpose
) -> Response[Any]:
    """Mint a single-use state bound to this request, browser and provider; send the admin there."""
    client = ctx.providers.client(key)
    state = new_secret()
    verifier = new_secret(48) if client.supports_pkce else None  # 64 chars: within RFC 7636's 43-128
    ctx.flows.put_state(
        ctx.hasher.digest(STATE_PURPOSE, state),
        ProviderState(
            request_id=s.request.request_id,
            provider_key=key,
            purpose=str(purpose),
            option=option,
            code_verifier=verifier,
            browser_digest=s.request.browser_digest,
            expires_at=ctx.now + STATE_TTL_SECONDS,
        ),
    )
    domain = s.service_account.domain if purpose is Purpose.ADMIN_PROOF else None
    return pages.redirect(
        client.authorization_url(
            purpose=purpose,
            state=state,
            redirect_uri=f"{base}/oauth/callback/{key}",
            code_verifier=verifier,
            domain=domain,
        )
    )


# -- provider callback -----------------------------------------------------------------------------


def callback(ctx: FlowContext, event: APIGatewayProxyEvent, provider_key: str) -> Response[Any]:
    """GET /oauth/callback/{provider}: state checks (S1, S2, M1), code exchange, account checks."""
    query = event.query_string_parameters or {}
    state = query.get("state")
    if not state:
        raise PageError("The provider's answer is missing its state; start again from the application.")
    try:
        held = ctx.flows.consume_state(ctx.hasher.digest(STATE_PURPOSE, state))
    except StateUnavailable:
        raise PageError(
            "This sign-in has expired or was already used; start again from the application."
        ) from None
    if held.provider_key != provider_key:
        raise PageError("The answer came from a different provider than the one you were sent to.")  # M1
    cookie = browser.read_flow_cookie(event)
    if not browser.matches(cookie, held.request_id, held.browser_digest, ctx.hasher):
        raise PageError(
            "This sign-in was started in another browser; start again from the application.", status=403
        )
    s = session(ctx, event)
    if s.request.step is not Step.CHOOSE:
        raise PageError("This step is already complete.", status=409)
    purpose = Purpose(held.purpose)
    if query.get("error") or not query.get("code"):
        denied = query.get("error") == "access_denied" or bool(query.get("error"))
        raise _end(
            ctx,
            s.request,
            s.request.error(
                "access_denied" if denied else "invalid_request",
                "The administrator did not authorize the provider."
                if denied
                else "The provider sent no code.",
            ),
            outcome="denied",
        )
    base = browser.app_base_url(event, ctx.app_url)
    client = ctx.providers.client(provider_key)
    domain = s.service_account.domain if purpose is Purpose.ADMIN_PROOF else None
    try:
        tokens = client.exchange_code(
            extra=client.callback_token_params(query),
            purpose=purpose,
            code=query["code"],
            code_verifier=held.code_verifier,
            redirect_uri=f"{base}/oauth/callback/{provider_key}",
            domain=domain,
        )
        account = client.read_account(tokens, purpose, domain=domain)
    except ProviderUnavailable as error:
        logger.warning("provider unavailable", extra={"provider": provider_key, "reason": error.description})
        raise _end(
            ctx,
            s.request,
            s.request.error(
                "temporarily_unavailable", f"{client.label} did not answer; please try again later."
            ),
        ) from None
    except ProviderRefused as error:
        logger.warning("provider refused", extra={"provider": provider_key, "reason": error.description})
        code = "access_denied" if error.error == "access_denied" else "server_error"
        raise _end(
            ctx, s.request, s.request.error(code, f"{client.label} refused the authorization.")
        ) from None
    except ProviderError as error:  # any other provider failure
        raise _end(ctx, s.request, s.request.error("server_error", error.description)) from None

    if purpose is Purpose.ADMIN_PROOF:
        problem = flow.check_admin(account.user_is_admin, account.domain, s.service_account)
        if problem:
            raise _end(ctx, s.request, s.request.error("access_denied", problem, show_page=True))
        _save(ctx, s.request.advanced(admin_proved=True), expected=Step.CHOOSE)
        return pages.redirect(f"{base}/organizational_unit_oauth/continue")

    label = CONFERENCING[held.option].label if held.option in CONFERENCING else client.label
    if not account.user_is_admin:
        raise _end(
            ctx,
            s.request,
            s.request.error(
                "access_denied",
                f"{account.user_email} is not an administrator of the {label} account.",
                show_page=True,
            ),
        )
    if account.paid is False:
        raise _end(
            ctx,
            s.request,
            s.request.error(
                "access_denied",
                f"The {label} account {account.account_name} is on a free plan. "
                f"Connecting an organization needs a paid {label} plan.",
                show_page=True,
            ),
        )
    sealed = ctx.sealer.seal(
        json.dumps(tokens.to_dict()).encode(), associated_data=s.request.request_id.encode()
    )
    pending = PendingAccount(
        option=held.option or provider_key,
        provider_key=provider_key,
        account_id=account.account_id,
        account_name=account.account_name,
        user_email=account.user_email,
        domain=account.domain,
        sealed_tokens=sealed,
    )
    _save(ctx, s.request.advanced(pending=pending, step=Step.CONSENT), expected=Step.CHOOSE)
    return pages.redirect(f"{base}/organizational_unit_oauth/continue")


def _save(ctx: FlowContext, request: AuthorizationRequest, *, expected: Step) -> None:
    try:
        ctx.flows.save_request(request, expected_step=expected)
    except StepConflict:
        raise PageError("This step was completed in another tab.", status=409) from None
    except TemporarilyUnavailable:
        raise request.error("temporarily_unavailable", "Please try again in a moment.") from None


# -- consent ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidates:
    """The OUs the administrator may choose (SPEC 3 step 6)."""

    existing: list[OrganizationalUnit]
    new_allowed: bool
    link: dict[str, Any] | None  # the provider-account link item, if this account is linked already


def _link_key(s: Session, pending: PendingAccount) -> dict[str, str]:
    account_id = (
        pending.domain if s.request.capability == "calendars" and pending.domain else pending.account_id
    )
    return keys.provider_account_key(s.client.client_id, pending.option, account_id)


def _candidates(ctx: FlowContext, s: Session, pending: PendingAccount) -> Candidates:
    link = ctx.store.read(_link_key(s, pending))
    ou_ids = [i for i in (s.service_account.organizational_unit_id, (link or {}).get("ou_id")) if i]
    found = ctx.store.batch_get([keys.organizational_unit_key(i) for i in dict.fromkeys(ou_ids)])
    existing = [
        OrganizationalUnit(d["ou_id"], d["client_id"], d["name"], d.get("created_at", 0))
        for d in found.values()
        if d.get("client_id") == s.client.client_id
    ]
    existing.sort(key=lambda ou: ou.ou_id != s.service_account.organizational_unit_id)
    return Candidates(existing, s.service_account.organizational_unit_id is None, link)


def _consent_page(ctx: FlowContext, s: Session, base: str) -> Response[Any]:
    pending = s.request.pending
    if pending is None:
        raise PageError("Nothing is waiting for approval.", status=409)
    c = _candidates(ctx, s, pending)
    option_label = (
        CONFERENCING[pending.option].label
        if pending.option in CONFERENCING
        else CALENDARS[CalendarProvider(pending.option)].label
    )
    sa_label = CALENDARS[s.service_account.provider].label
    return pages.consent_page(
        client_name=s.client.name,
        action_url=f"{base}/organizational_unit_oauth/consent",
        csrf=browser.csrf_token(s.cookie, ctx.hasher),
        redirect_uri=s.request.redirect_uri,
        service_account=(sa_label, s.service_account.domain),
        account=(option_label, pending.account_name, pending.user_email),
        existing=[pages.OuChoice(ou.ou_id, ou.name) for ou in c.existing],
        new_allowed=c.new_allowed,
        default_name=s.service_account.domain,
    )


def decide(ctx: FlowContext, event: APIGatewayProxyEvent) -> Response[Any]:
    """POST /organizational_unit_oauth/consent: Approve or Deny (CSRF-protected)."""
    s = session(ctx, event)
    form = _form(event)
    if not browser.csrf_ok(s.cookie, form.get("csrf"), ctx.hasher):
        raise PageError("The form has expired; reload the page and try again.", status=403)
    if s.request.step is Step.DONE:
        return pages.done_page(s.client.name)
    pending = s.request.pending
    if s.request.step is not Step.CONSENT or pending is None:
        raise PageError("Nothing is waiting for approval.", status=409)
    decision = form.get("decision")
    if decision == "deny":
        raise _end(
            ctx,
            s.request,
            s.request.error("access_denied", "The administrator denied the connection."),
            outcome="denied",
        )
    if decision != "approve":
        raise PageError("Choose Approve or Deny.")
    return _approve(ctx, s, pending, form)


def _form(event: APIGatewayProxyEvent) -> dict[str, str]:
    content_type = (event.headers.get("content-type") or "").split(";")[0].strip().lower()
    body = event.decoded_body or ""
    if content_type != "application/x-www-form-urlencoded" or len(body) > MAX_FORM_BYTES:
        raise PageError("The form could not be read.", status=400)
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items() if len(v) == 1}


def _approve(ctx: FlowContext, s: Session, pending: PendingAccount, form: Mapping[str, str]) -> Response[Any]:
    c = _candidates(ctx, s, pending)
    choice = form.get("ou", "")
    chosen = next((ou for ou in c.existing if ou.ou_id == choice), None)
    if chosen is None and not (choice == "new" and c.new_allowed):
        raise PageError("Choose one of the organizational units offered.", status=400)
    ou_is_new = chosen is None
    if chosen is None:
        name = " ".join(form.get("ou_name", "").split())[:100] or s.service_account.domain
        chosen = OrganizationalUnit(new_id("ou"), s.client.client_id, name, ctx.now)
    try:
        tokens = json.loads(
            ctx.sealer.open(pending.sealed_tokens, associated_data=s.request.request_id.encode())
        )
    except SealingError:
        raise _end(
            ctx, s.request, s.request.error("server_error", "The provider credentials could not be read.")
        ) from None

    created_secret: str | None = None
    try:
        member_put, link_item, link_is_new, created_secret = _member(ctx, s, pending, chosen, c.link, tokens)
        code = new_code()
        record = AuthorizationCode(
            client_id=s.client.client_id,
            redirect_uri=s.request.redirect_uri,
            kind=GrantKind.ORGANIZATIONAL_UNIT,
            sub=chosen.ou_id,
            scope=OU_SCOPE,
            created_at=ctx.now,
            expires_at=ctx.now + ctx.code_ttl_seconds,
        )
        ctx.flows.approve(
            request=s.request,
            service_account=s.service_account,
            ou=chosen,
            ou_is_new=ou_is_new,
            link_item=link_item,
            link_is_new=link_is_new,
            member_put=member_put,
            code_put=code_put(
                ctx.store.table_name, ctx.hasher.digest(CODE_PURPOSE, code), record, chosen.name
            ),
        )
    except StepConflict:
        _discard(ctx, created_secret)
        if (latest := ctx.flows.get_request(s.request.request_id)) is not None and latest.step is Step.DONE:
            return pages.done_page(s.client.name)
        raise _end(
            ctx,
            s.request,
            s.request.error(
                "server_error", "The organization changed while you were approving; please start again."
            ),
        ) from None
    except TemporarilyUnavailable:
        _discard(ctx, created_secret)
        raise _end(
            ctx, s.request, s.request.error("temporarily_unavailable", "Please try again in a moment.")
        ) from None
    except Exception:
        _discard(ctx, created_secret)
        raise
    logger.info(
        "organizational unit linked",
        extra={
            "client_id": s.client.client_id,
            "ou_id": chosen.ou_id,
            "new_ou": ou_is_new,
            "provider": pending.option,
        },
    )
    base = s.request.redirect_uri
    expired = Cookie(
        name=browser.COOKIE_NAME, value="", path="/", max_age=0, http_only=True, same_site=SameSite.LAX_MODE
    )
    return pages.redirect(flow.redirect_with(base, code=code, state=s.request.state), cookies=[expired])


def _member(
    ctx: FlowContext,
    s: Session,
    pending: PendingAccount,
    ou: OrganizationalUnit,
    link: dict[str, Any] | None,
    tokens: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any], bool, str | None]:
    """The connection (or calendar service account) Put, its provider-account link, and the secret
    created for it (to delete if the transaction fails). A linked account is refreshed in place."""
    now = ctx.now
    created: str | None = None
    link_key = _link_key(s, pending)
    if s.request.capability == "calendars":
        member_id = (link or {}).get("service_account_id") or new_id("ser")
        account = ServiceAccount(
            member_id,
            s.client.client_id,
            CalendarProvider(pending.option),
            pending.domain or pending.account_name,
            pending.user_email,
            ou.ou_id,
            now,
        )
        item = calendar_service_account_item(account)
        link_item = {
            **link_key,
            "type": "provider_account",
            "service_account_id": member_id,
            "ou_id": ou.ou_id,
            "client_id": s.client.client_id,
            "updated_at": now,
        }
    else:
        if link is not None:
            member_id, secret_arn = link["connection_id"], link["secret_arn"]
            ctx.vault.replace(secret_arn, tokens)
        else:
            member_id = new_id("cnx")
            secret_arn = created = ctx.vault.create(member_id, tokens)
        connection = Connection(
            member_id,
            ou.ou_id,
            s.client.client_id,
            pending.option,
            pending.account_id,
            pending.account_name,
            ConnectionStatus.CONNECTED,
            secret_arn,
            (link or {}).get("created_at", now),
            now,
        )
        item = connection_item(connection)
        link_item = {
            **link_key,
            "type": "provider_account",
            "connection_id": member_id,
            "secret_arn": secret_arn,
            "ou_id": ou.ou_id,
            "client_id": s.client.client_id,
            "created_at": (link or {}).get("created_at", now),
            "updated_at": now,
        }
    put = {"Put": {"TableName": ctx.store.table_name, "Item": to_item(item)}}
    return put, link_item, link is None, created


def _discard(ctx: FlowContext, secret_arn: str | None) -> None:
    """Delete a secret whose transaction failed, so no orphan is left."""
    if secret_arn is None:
        return
    try:
        ctx.vault.delete(secret_arn)
    except Exception:  # the failure must still reach the integrator; an operator alarm covers this
        logger.exception("could not delete the secret of a failed approval")
