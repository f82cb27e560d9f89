"""What every simulated token endpoint checks: client authentication and code redemption.

One implementation of RFC 6749 section 2.3 (client authentication) and section 4.1.3
(authorization-code redemption: single use, expiry, client binding, exact ``redirect_uri``) plus
RFC 7636 (PKCE), used by the Zoom, Microsoft, Google, Webex and Indeed simulators. What differs
between providers is data: which ways of sending the secret they accept (``ClientAuthRules``),
whether a missing ``redirect_uri`` is refused before the code is spent, whether a replayed code
revokes its tokens (``CodeExchangeRules``), and the error each problem is answered with
(``Refusal`` tables). A refusal is raised as ``TokenRequestRefused``; ``Simulator`` turns it into
the provider's error body through its ``token_refusal_response`` hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from werkzeug.wrappers import Request

from devstack.simulators.http_helpers import parse_basic_auth
from devstack.simulators.oauth_state import AuthorizationCode, CodeStore, OAuthApp, TokenStore, verify_pkce

ClientAuthMethod = Literal["basic", "body", "none", "both"]

ClientAuthProblem = Literal[
    "auth_conflict",  # Basic and a body client_secret together (RFC 6749 2.3: one method only)
    "wrong_auth_method",  # the secret came a way this provider does not accept
    "no_credentials",  # nothing this provider accepts was sent
    "missing_client_id",
    "unknown_client",
    "missing_secret",
    "bad_secret",
]

ExchangeProblem = Literal[
    "missing_code",
    "missing_redirect_uri",
    "unknown_code",
    "wrong_client",  # the code was issued to another client
    "used_code",
    "expired_code",
    "redirect_uri_mismatch",
    "verifier_missing",  # a challenge was bound to the code but no code_verifier came
    "verifier_unexpected",  # a code_verifier came for a code issued without a challenge
    "verifier_mismatch",
]


@dataclass(frozen=True)
class Refusal:
    """One token-endpoint error answer (RFC 6749 section 5.2).

    ``description`` may name ``{client_id}`` and ``{redirect_uri}`` (the values from the
    request). ``provider_code`` is the provider's own numeric error code where it has one
    (Microsoft's AADSTS numbers).
    """

    error: str
    description: str
    status: int = 400
    provider_code: int | None = None


class TokenRequestRefused(Exception):
    """A token request refused for ``problem``; ``refusal`` is the answer to give."""

    def __init__(self, problem: str, refusal: Refusal) -> None:
        super().__init__(f"{problem}: {refusal.error}")
        self.problem = problem
        self.refusal = refusal


@dataclass(frozen=True)
class ClientCredentials:
    """The client id and secret a token request carried, and how it carried them."""

    client_id: str
    client_secret: str | None
    method: ClientAuthMethod


def client_credentials(request: Request, params: Mapping[str, str]) -> ClientCredentials:
    """Read client authentication from HTTP Basic and/or the form body.

    ``method`` is ``"both"`` when the request used Basic *and* put a ``client_secret`` in the
    body (RFC 6749 section 2.3 forbids more than one method; providers refuse it).
    """
    basic = parse_basic_auth(request.headers.get("Authorization"))
    body_id = params.get("client_id", "")
    body_secret = params.get("client_secret")
    if basic is not None:
        return ClientCredentials(basic[0], basic[1], "both" if body_secret else "basic")
    if body_secret:
        return ClientCredentials(body_id, body_secret, "body")
    return ClientCredentials(body_id, None, "none")


@dataclass(frozen=True)
class ClientAuthRules:
    """How one provider authenticates clients at its token endpoint.

    ``methods``: the accepted ways to send the secret. ``both``: what Basic plus a body secret
    does: ``"refuse"``, ``"basic"`` (the body secret is ignored) or ``"same_client"`` (accepted
    when the body's ``client_id``, if any, is the Basic one). ``oauth_apps_only``: apps of other
    kinds (Zoom's server-to-server apps) count as unknown. ``refusals`` maps a problem to its
    answer; problems not listed get ``fallback``.
    """

    methods: frozenset[Literal["basic", "body"]]
    fallback: Refusal
    refusals: Mapping[ClientAuthProblem, Refusal] = field(default_factory=dict)
    both: Literal["refuse", "basic", "same_client"] = "refuse"
    oauth_apps_only: bool = True

    def refuse(self, problem: ClientAuthProblem, client_id: str) -> TokenRequestRefused:
        """The exception answering ``problem``."""
        return _refused(problem, self.refusals.get(problem, self.fallback), client_id=client_id)


@dataclass(frozen=True)
class CodeExchangeRules:
    """How one provider redeems authorization codes.

    ``redirect_uri_required``: a missing ``redirect_uri`` is refused before the code is spent
    (otherwise it is a mismatch, found after). ``revoke_on_replay``: a second redemption revokes
    the tokens of the code's ``extra["grant_id"]`` (RFC 6749 section 4.1.2). ``refusals`` maps a
    problem to its answer; problems not listed get ``fallback``.
    """

    fallback: Refusal
    refusals: Mapping[ExchangeProblem, Refusal] = field(default_factory=dict)
    redirect_uri_required: bool = False
    revoke_on_replay: bool = False

    def refuse(self, problem: ExchangeProblem, params: Mapping[str, str]) -> TokenRequestRefused:
        """The exception answering ``problem``."""
        refusal = self.refusals.get(problem, self.fallback)
        return _refused(problem, refusal, redirect_uri=params.get("redirect_uri", ""))


def _refused(problem: str, refusal: Refusal, **values: str) -> TokenRequestRefused:
    """``refusal`` with its description's ``{name}`` fields replaced by ``values``."""
    text = refusal.description
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return TokenRequestRefused(problem, Refusal(refusal.error, text, refusal.status, refusal.provider_code))


def authenticate_token_client(
    request: Request, params: Mapping[str, str], apps: Mapping[str, OAuthApp], rules: ClientAuthRules
) -> OAuthApp:
    """The registered app that authenticated this token request; raises ``TokenRequestRefused``."""
    creds = client_credentials(request, params)
    if request.headers.get("Authorization") and "basic" not in rules.methods:
        raise rules.refuse("wrong_auth_method", creds.client_id)
    if creds.method == "both":
        conflict = rules.both == "refuse" or (
            rules.both == "same_client" and params.get("client_id", "") not in ("", creds.client_id)
        )
        if conflict:
            raise rules.refuse("auth_conflict", creds.client_id)
    elif creds.method == "body" and "body" not in rules.methods:
        raise rules.refuse("wrong_auth_method", creds.client_id)
    elif creds.method == "none" and "body" not in rules.methods:
        raise rules.refuse("no_credentials", creds.client_id)
    if not creds.client_id:
        raise rules.refuse("missing_client_id", creds.client_id)
    app = apps.get(creds.client_id)
    if app is None or (rules.oauth_apps_only and app.kind != "oauth"):
        raise rules.refuse("unknown_client", creds.client_id)
    if creds.client_secret is None:
        raise rules.refuse("missing_secret", creds.client_id)
    if not app.check_secret(creds.client_secret):
        raise rules.refuse("bad_secret", creds.client_id)
    return app


def redeem_authorization_code(
    params: Mapping[str, str],
    client_id: str,
    codes: CodeStore,
    tokens: TokenStore,
    rules: CodeExchangeRules,
) -> AuthorizationCode:
    """Spend the request's ``code`` for ``client_id``; raises ``TokenRequestRefused``.

    Checks in this order: code present, (``redirect_uri`` present), code known, issued to this
    client (before replay handling, so another client's replay revokes nothing), not used, not
    expired, ``redirect_uri`` equal to the authorize one, PKCE. An empty parameter counts as
    absent (RFC 6749 section 3.1).
    """
    code = params.get("code", "")
    if not code:
        raise rules.refuse("missing_code", params)
    if rules.redirect_uri_required and not params.get("redirect_uri"):
        raise rules.refuse("missing_redirect_uri", params)
    record, problem = codes.redeem(code)
    if record is None:
        raise rules.refuse("unknown_code", params)
    if record.client_id != client_id:
        raise rules.refuse("wrong_client", params)
    if problem == "used":
        if rules.revoke_on_replay and "grant_id" in record.extra:
            tokens.revoke_grant(str(record.extra["grant_id"]))
        raise rules.refuse("used_code", params)
    if problem == "expired":
        raise rules.refuse("expired_code", params)
    if params.get("redirect_uri", "") != record.redirect_uri:
        raise rules.refuse("redirect_uri_mismatch", params)
    verifier = params.get("code_verifier") or None
    if record.code_challenge is None and verifier is not None:
        raise rules.refuse("verifier_unexpected", params)
    if record.code_challenge is not None and verifier is None:
        raise rules.refuse("verifier_missing", params)
    if not verify_pkce(verifier, record.code_challenge, record.code_challenge_method):
        raise rules.refuse("verifier_mismatch", params)
    return record
