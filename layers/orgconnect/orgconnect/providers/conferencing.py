"""One interface for the five conferencing providers: the connection's user directory (listed in
the fewest calls the provider's paging allows, yielded lazily), a one-call lookup by email for a
matching miss, and meeting creation for a matched user with the connection's admin credentials.

Each provider's adapter (``<provider>_conferencing.py``) wraps its ProviderApi, so the retry policy
(429 with Retry-After, 5xx, network errors) and the typed errors of orgconnect.providers.api apply
unchanged; ``calls`` counts the API calls the adapter made, by operation, for a caller that reports
calls per sync. A refusal the organization can fix is MeetingRefused (a ProviderRefused).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from orgconnect.domain.conferencing import (
    DirectoryUser,
    Meeting,
    MeetingRefused,
    MeetingRequest,
    RefusalReason,
    UserStatus,
)
from orgconnect.domain.provider_model import ProviderAnswerMalformed, ProviderRefused

if TYPE_CHECKING:
    from orgconnect.providers.api import ProviderApi

#: Operations counted in ``calls``.
LIST, LOOKUP, CREATE, TOKEN = "list", "lookup", "create_meeting", "token"


class ConferencingAdapter(ABC):
    """A conferencing provider's directory and meetings for one connection."""

    #: Cronofy's profile provider name (``zoom``, ``webex``, ``ms_teams``, ``google_meet_api``, ``indeed``).
    profile_name: ClassVar[str]
    label: ClassVar[str]
    #: False when the provider offers no listing (Indeed): matching looks each email up instead.
    lists_directory: ClassVar[bool] = True

    def __init__(self, api: ProviderApi) -> None:
        self.api = api
        #: API calls made, by operation (``list`` counts pages). Retries of one call count once.
        self.calls: Counter[str] = Counter()

    # -- the interface ---------------------------------------------------------------------------

    @abstractmethod
    def list_users(self) -> Iterator[DirectoryUser]:
        """Every user of the connection's directory, page by page as consumed."""

    @abstractmethod
    def lookup_user(self, email: str) -> DirectoryUser | None:
        """One user by email, in one call (None: the provider does not know the email)."""

    def create_meeting(self, host: DirectoryUser, request: MeetingRequest) -> Meeting:
        """A meeting hosted by ``host`` (a matched user). A host who cannot host is refused
        before any call; the provider's refusals become MeetingRefused."""
        if host.status is not UserStatus.ACTIVE:
            reason = (
                RefusalReason.HOST_UNLICENSED
                if host.status is UserStatus.UNLICENSED
                else RefusalReason.HOST_NOT_ACTIVE
            )
            raise self.refused(reason)
        try:
            return self._create_meeting(host, request)
        except MeetingRefused:
            raise
        except ProviderRefused as refused:
            if refused.status == 401:
                raise  # AccessTokenRejected: the caller refreshes and calls again
            raise self.refused(self.refusal_reason(refused), refused) from None

    @abstractmethod
    def _create_meeting(self, host: DirectoryUser, request: MeetingRequest) -> Meeting:
        """The provider's create call (its refusals are mapped by ``refusal_reason``)."""

    def refusal_reason(self, refused: ProviderRefused) -> RefusalReason:
        """The reason of a provider's refusal of the create call."""
        return RefusalReason.REFUSED

    # -- helpers for the adapters ----------------------------------------------------------------

    def refused(self, reason: RefusalReason, cause: ProviderRefused | None = None) -> MeetingRefused:
        """A MeetingRefused naming this provider and, when it answered, its code and status."""
        return MeetingRefused(
            self.profile_name,
            self.label,
            reason,
            error=cause.error if cause else None,
            status=cause.status if cause else None,
        )

    def pages(
        self, path: str, params: Mapping[str, str], items_key: str | None = None
    ) -> Iterator[list[Any]]:
        """The items of each page of a list, counting one ``list`` call per page."""
        pages = self.api.pages(path, params=params, items_key=items_key)
        while True:
            self.calls[LIST] += 1
            page = next(pages, None)
            if page is None:
                self.calls[LIST] -= 1  # the generator ended without a request
                return
            yield page.items

    def get(self, path: str, *, params: Mapping[str, str] | None = None, host: str | None = None) -> Any:
        """A lookup GET, counted."""
        self.calls[LOOKUP] += 1
        return self.api.get(path, params=params, host=host)

    def post(self, path: str, body: Mapping[str, Any], *, host: str | None = None) -> Any:
        """The create POST, counted (never replayed after a lost answer: see retry.py)."""
        self.calls[CREATE] += 1
        return self.api.post(path, dict(body), host=host)

    def malformed(self, what: str, problem: str) -> ProviderAnswerMalformed:
        """An answer without the fields this interface needs."""
        return ProviderAnswerMalformed(f"{self.label} {what}: {problem}")


def text(item: Mapping[str, Any], *names: str) -> str:
    """The first non-empty string among ``names`` of ``item`` ('' when none)."""
    for name in names:
        value = item.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def utc_iso(moment: Any) -> str:
    """``2026-11-29T17:00:00Z`` (seconds, UTC) of an aware datetime."""
    from datetime import UTC

    return str(moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
