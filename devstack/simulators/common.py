"""The shared core of every provider simulator (Zoom, Microsoft, Google, Webex, Indeed).

This module gathers the core's public names in one import path; each lives in the module that
says what it is:

- ``simulator``: ``Simulator``, the machinery (routing, locking, transactions, request log,
  faults, apps, webhooks, reset/reseed); ``provider_hooks``: ``ProviderHooks``, what a provider
  implements (``seed_state``, ``control_*`` user hooks, ``dev_info``, its error shapes).
- ``control_api``: the ``/_sim/`` control API; ``faults``: fault injection (``/_sim/faults``);
  ``request_log``: the request log (``/_sim/requests``); ``webhooks``: outgoing webhooks.
- ``oauth_state``: apps, single-use codes, tokens, PKCE; ``token_endpoint``: client
  authentication and code redemption, shared by every provider's token endpoint.
- ``http_helpers``: request parsing, JSON and redirect answers, redaction; ``html_pages``:
  sign-in, consent and error pages; ``clock``: ``SimClock``.
"""

from __future__ import annotations

from devstack.simulators.clock import SimClock
from devstack.simulators.faults import SPECIAL_FAULT_KINDS, Fault
from devstack.simulators.html_pages import SignInOption, html_error_page, html_page, render_signin_page
from devstack.simulators.http_helpers import (
    REDACTED,
    SECRET_NAMES,
    ControlError,
    SimResponse,
    bearer_token,
    json_response,
    parse_basic_auth,
    read_json,
    redact_params,
    redirect_with_params,
    request_params,
)
from devstack.simulators.oauth_state import (
    AuthorizationCode,
    CodeProblem,
    CodeStore,
    IssuedToken,
    OAuthApp,
    TokenKind,
    TokenStore,
    mint_secret,
    pkce_challenge,
    verify_pkce,
)
from devstack.simulators.simulator import Handler, Route, Simulator
from devstack.simulators.webhooks import WebhookConfig, hmac_sha256_hex

__all__ = [
    "REDACTED",
    "SECRET_NAMES",
    "SPECIAL_FAULT_KINDS",
    "AuthorizationCode",
    "CodeProblem",
    "CodeStore",
    "ControlError",
    "Fault",
    "Handler",
    "IssuedToken",
    "OAuthApp",
    "Route",
    "SignInOption",
    "SimClock",
    "SimResponse",
    "Simulator",
    "TokenKind",
    "TokenStore",
    "WebhookConfig",
    "bearer_token",
    "hmac_sha256_hex",
    "html_error_page",
    "html_page",
    "json_response",
    "mint_secret",
    "parse_basic_auth",
    "pkce_challenge",
    "read_json",
    "redact_params",
    "redirect_with_params",
    "render_signin_page",
    "request_params",
    "verify_pkce",
]
