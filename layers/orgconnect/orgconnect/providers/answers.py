"""Reading what providers answer: the JSON body, checked against a pydantic model of the fields we
use. A body that is not JSON, or JSON of the wrong shape, becomes ProviderAnswerMalformed whose
description names the provider, the call and the fields that were wrong, never a value (an answer
may hold tokens or personal data)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from orgconnect.domain.provider_model import ProviderAnswerMalformed, ProviderTokens

if TYPE_CHECKING:
    import httpx

#: Answers carry many fields we ignore; models are built on first use (cold start).
ANSWER_CONFIG = ConfigDict(extra="ignore", frozen=True, defer_build=True)
MAX_PROBLEMS_NAMED = 4

NonEmptyStr = Annotated[str, Field(min_length=1)]


def _lifetime(value: Any) -> int | None:
    """A stated lifetime in seconds; anything else reads as not stated (an odd extra field must
    not cost the tokens of an answer whose refresh token may already have rotated)."""
    try:
        seconds = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return seconds if seconds >= 0 and not isinstance(value, bool) else None


class TokenAnswer(BaseModel):
    """A token endpoint's success answer (RFC 6749 section 5.1), as far as we use it."""

    model_config = ANSWER_CONFIG

    access_token: NonEmptyStr
    refresh_token: NonEmptyStr | None = None
    expires_in: int | None = None
    expires_at: int | None = None  # Authlib adds it, computed from expires_in
    scope: str | None = None
    #: Webex states its refresh token's lifetime (90 days); Zoom, Microsoft and Google do not.
    refresh_token_expires_in: Annotated[int | None, BeforeValidator(_lifetime)] = None

    def tokens(
        self,
        *,
        keep_refresh_token: str | None = None,
        held: ProviderTokens | None = None,
        now: float | None = None,
    ) -> ProviderTokens:
        """The tokens; a provider that does not rotate (Google) omits the refresh token, so the
        one the refresh was made with stays current. The refresh token's expiry is the one stated,
        else, while the refresh token stays the same, the one ``held`` (the tokens refreshed).
        Expiries count from ``now`` (the caller's clock; the wall clock by default)."""
        received = int(time.time() if now is None else now)
        expires_at = self.expires_at
        if expires_at is None and self.expires_in is not None:
            expires_at = received + self.expires_in
        refresh_token = self.refresh_token or keep_refresh_token
        if self.refresh_token_expires_in is not None:
            refresh_expires_at: int | None = received + self.refresh_token_expires_in
        elif held is not None and refresh_token is not None and refresh_token == held.refresh_token:
            refresh_expires_at = held.refresh_expires_at
        else:
            refresh_expires_at = None
        return ProviderTokens(
            access_token=self.access_token,
            refresh_token=refresh_token,
            expires_at=expires_at,
            scope=self.scope,
            refresh_expires_at=refresh_expires_at,
        )


def json_body(response: httpx.Response, *, what: str) -> Any:
    """The decoded JSON body of a success answer, or ProviderAnswerMalformed."""
    try:
        return response.json()
    except ValueError:  # JSONDecodeError and UnicodeDecodeError both are
        kind = response.headers.get("content-type", "no content type").partition(";")[0]
        raise ProviderAnswerMalformed(
            f"{what}: the answer is not JSON ({kind}, {len(response.content)} bytes)"
        ) from None


def parse_answer[M: BaseModel](model: type[M], data: Any, *, what: str) -> M:
    """``data`` validated as ``model``, or ProviderAnswerMalformed naming the wrong fields."""
    if not isinstance(data, dict):
        raise ProviderAnswerMalformed(f"{what}: the answer is not a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ProviderAnswerMalformed(f"{what}: unexpected answer ({describe(error)})") from None


def describe(error: ValidationError) -> str:
    """Where the answer was wrong and how, without the values (``email: missing``)."""
    problems = []
    for detail in error.errors(include_input=False, include_url=False, include_context=False):
        where = ".".join(str(part) for part in detail["loc"]) or "body"
        problems.append(f"{where}: {detail['type']}")
    more = len(problems) - MAX_PROBLEMS_NAMED
    named = "; ".join(problems[:MAX_PROBLEMS_NAMED])
    return f"{named}; {more} more" if more > 0 else named
