"""What every authorization client shares: OAuth authorization-code flow with PKCE (Authlib's httpx
client), bounded retries, and the mapping of provider failures to the outcomes the flow handles.

- ProviderRefused: the provider said no (4xx, an OAuth error such as invalid_grant). Never retried.
- ProviderUnavailable: network errors, timeouts, 5xx and 429, still failing after the retries.
- ProviderAnswerMalformed: a success answer whose body is not the JSON we expect. Never retried.

The API client the workers use (refresh, REST calls, paging) is orgconnect.providers.api.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from orgconnect.domain.model import ProviderApp
from orgconnect.domain.provider_model import (
    ProviderAccount,
    ProviderAnswerMalformed,
    ProviderError,
    ProviderRefused,
    ProviderTokens,
    ProviderUnavailable,
    Purpose,
)
from orgconnect.providers.answers import TokenAnswer, json_body, parse_answer

if TYPE_CHECKING:
    import httpx
    from authlib.integrations.httpx_client import OAuth2Client

__all__ = [
    "OAuthProvider",
    "ProviderAccount",
    "ProviderAnswerMalformed",
    "ProviderApp",
    "ProviderError",
    "ProviderRefused",
    "ProviderTokens",
    "ProviderUnavailable",
    "Purpose",
    "with_retries",
]

RETRY_ATTEMPTS = 3


def is_transient(error: BaseException) -> bool:
    """Worth another try: the request may not have been processed, or the provider is overloaded."""
    import httpx

    if isinstance(error, httpx.TransportError):
        return True
    if isinstance(error, httpx.HTTPStatusError):
        return error.response.status_code >= 500 or error.response.status_code == 429
    return False


def with_retries[T](call: Callable[[], T], *, what: str) -> T:
    """Run ``call`` with up to 3 attempts and jittered exponential backoff on transient errors.

    Credentials are kept whatever happens; a 4xx is never retried.
    """
    # Loaded on the first provider call: most requests of the flow never make one.
    import httpx
    from authlib.integrations.base_client.errors import OAuthError
    from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

    retrying = Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(RETRY_ATTEMPTS),
        wait=wait_exponential_jitter(multiplier=0.2, max=1.0),
        reraise=True,
    )
    try:
        return retrying(call)
    except OAuthError as error:
        raise ProviderRefused(f"{what}: {error.description or error.error}", error=str(error.error)) from None
    except httpx.HTTPStatusError as error:
        status = error.response.status_code
        if status >= 500 or status == 429:
            raise ProviderUnavailable(f"{what}: the provider answered {status}", status=status) from None
        raise ProviderRefused(f"{what}: the provider answered {status}", status=status) from None
    except httpx.TransportError as error:
        raise ProviderUnavailable(f"{what}: {type(error).__name__}") from None


class OAuthProvider(ABC):
    """An OAuth 2 authorization-code provider (P5: PKCE S256 wherever the provider supports it)."""

    key: ClassVar[str]
    label: ClassVar[str]
    #: RFC 6749 client authentication at the token endpoint.
    token_auth_method: ClassVar[str] = "client_secret_basic"
    supports_pkce: ClassVar[bool] = True
    #: Real hosts, by role; a base-URL override (the simulators) replaces every one of them.
    hosts: ClassVar[dict[str, str]]

    def __init__(
        self,
        app: ProviderApp,
        *,
        base_url: str | None = None,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.app = app
        self.timeout = timeout
        self._base_url = base_url.rstrip("/") if base_url else None
        self._transport = transport

    def host(self, role: str) -> str:
        return self._base_url or self.hosts[role]

    @abstractmethod
    def authorize_endpoint(self, purpose: Purpose, *, domain: str | None) -> str: ...

    @abstractmethod
    def token_endpoint(self, purpose: Purpose, *, domain: str | None) -> str: ...

    @abstractmethod
    def scopes(self, purpose: Purpose) -> list[str]: ...

    def extra_authorize_params(self, purpose: Purpose, *, domain: str | None) -> dict[str, str]:
        return {}

    def callback_token_params(self, callback_query: Mapping[str, str]) -> dict[str, str]:
        """Parameters of the provider's callback that its token request needs (default: none)."""
        return {}

    @abstractmethod
    def read_account(
        self, tokens: ProviderTokens, purpose: Purpose, *, domain: str | None
    ) -> ProviderAccount:
        """Read who authorized and the account, with the new tokens."""

    def _oauth(self, redirect_uri: str, purpose: Purpose) -> OAuth2Client:
        from authlib.integrations.httpx_client import OAuth2Client

        return OAuth2Client(
            client_id=self.app.client_id,
            client_secret=self.app.client_secret,
            token_endpoint_auth_method=self.token_auth_method,
            redirect_uri=redirect_uri,
            scope=" ".join(self.scopes(purpose)),
            code_challenge_method="S256" if self.supports_pkce else None,
            timeout=self.timeout,
            transport=self._transport,
        )

    def authorization_url(
        self,
        *,
        purpose: Purpose,
        state: str,
        redirect_uri: str,
        code_verifier: str | None,
        domain: str | None = None,
    ) -> str:
        """Where to send the administrator (state and PKCE challenge included)."""
        with self._oauth(redirect_uri, purpose) as client:
            url, _ = client.create_authorization_url(
                self.authorize_endpoint(purpose, domain=domain),
                state=state,
                code_verifier=code_verifier if self.supports_pkce else None,
                **self.extra_authorize_params(purpose, domain=domain),
            )
        return str(url)

    def exchange_code(
        self,
        *,
        purpose: Purpose,
        code: str,
        redirect_uri: str,
        code_verifier: str | None,
        domain: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> ProviderTokens:
        """Exchange the authorization code (retried on transient failures only).

        ``extra``: provider-specific token parameters taken from the callback."""
        url = self.token_endpoint(purpose, domain=domain)
        what = f"{self.label} code exchange"

        def check_answer(response: httpx.Response) -> httpx.Response:
            # Runs before Authlib parses the answer: a success must be a usable token response.
            if response.is_success:
                parse_answer(TokenAnswer, json_body(response, what=what), what=what)
            return response

        def fetch() -> dict[str, Any]:
            with self._oauth(redirect_uri, purpose) as client:
                client.register_compliance_hook("access_token_response", check_answer)
                kwargs: dict[str, Any] = {"code": code, "redirect_uri": redirect_uri, **(extra or {})}
                if self.supports_pkce and code_verifier:
                    kwargs["code_verifier"] = code_verifier
                try:
                    return dict(client.fetch_token(url, grant_type="authorization_code", **kwargs))
                except (ValueError, TypeError):  # Authlib's own parsing failed on what passed the check
                    raise ProviderAnswerMalformed(f"{what}: the answer is not a token response") from None

        token = with_retries(fetch, what=what)
        return parse_answer(TokenAnswer, token, what=what).tokens()

    def get_json(
        self, url: str, tokens: ProviderTokens, *, what: str, params: dict[str, str] | None = None
    ) -> Any:
        """GET a JSON resource with the access token in the Authorization header (never the URL).

        A success answer that is not JSON raises ProviderAnswerMalformed (not retried)."""
        import httpx

        def call() -> Any:
            with httpx.Client(timeout=self.timeout, transport=self._transport) as http:
                response = http.get(
                    url,
                    params=params,
                    headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"},
                )
                response.raise_for_status()
                return json_body(response, what=what)

        return with_retries(call, what=what)
