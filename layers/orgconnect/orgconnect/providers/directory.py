"""Find a user in a calendar tenant's directory with the service account's admin credentials:
Google Directory ``users.get`` or Microsoft Graph ``GET /users/{email}``, through the provider API
clients (retries, refresh on 401). The admin tokens are refreshed when expired; rotated tokens
go back to the service account's secret before the lookup continues.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

from msgspec import Struct

from orgconnect.domain.accounts import CalendarTenant, DirectoryUser
from orgconnect.domain.model import CalendarProvider
from orgconnect.domain.provider_model import (
    AccessTokenRejected,
    ProviderAnswerMalformed,
    ProviderRefused,
    ProviderTokens,
    RefreshTokenRejected,
)
from orgconnect.domain.provisioning_policy import DirectoryAttribute
from orgconnect.providers.api import ProviderApi
from orgconnect.providers.registry import ProviderRegistry

PROVIDER_KEYS = {CalendarProvider.GOOGLE_WORKSPACE: "google", CalendarProvider.MICROSOFT_365: "microsoft"}
EXPIRY_MARGIN_SECONDS = 60
#: Graph's default user properties lack department, companyName, employeeId and accountEnabled.
GRAPH_USER_SELECT = (
    "id,mail,userPrincipalName,displayName,givenName,surname,businessPhones,mobilePhone,jobTitle,"
    "department,companyName,preferredLanguage,employeeId,accountEnabled"
)


class TenantUnusable(Exception):
    """The tenant's admin credentials are missing or refused (the administrator must consent again)."""


def _tokens(credentials: Mapping[str, Any]) -> ProviderTokens:
    return ProviderTokens(
        access_token=str(credentials.get("access_token") or ""),
        refresh_token=credentials.get("refresh_token"),
        expires_at=credentials.get("expires_at"),
        scope=credentials.get("scope"),
    )


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _put(attributes: dict[str, str | bool], key: DirectoryAttribute, value: Any) -> None:
    """Keep ``value`` when it is a non-empty text (never blank a Zoom field with an empty one)."""
    if isinstance(value, str) and value.strip():
        attributes[key] = value.strip()


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _of_type(items: list[dict[str, Any]], kind: str) -> Any:
    return next((item.get("value") for item in items if item.get("type") == kind), None)


def google_attributes(body: dict[str, Any]) -> dict[str, str | bool]:
    """The directory attributes of a Google ``users.get`` answer (absent or empty ones left out)."""
    found: dict[str, str | bool] = {}
    name: dict[str, Any] = body["name"] if isinstance(body.get("name"), dict) else {}
    _put(found, DirectoryAttribute.GIVEN_NAME, name.get("givenName"))
    _put(found, DirectoryAttribute.FAMILY_NAME, name.get("familyName"))
    _put(found, DirectoryAttribute.DISPLAY_NAME, name.get("fullName"))
    phones = _dicts(body.get("phones"))
    _put(found, DirectoryAttribute.PHONE, _of_type(phones, "work"))
    _put(found, DirectoryAttribute.MOBILE_PHONE, _of_type(phones, "mobile"))
    organizations = _dicts(body.get("organizations"))
    primary = next((o for o in organizations if o.get("primary") is True), None)
    organization: dict[str, Any] = primary or (organizations[0] if organizations else {})
    _put(found, DirectoryAttribute.JOB_TITLE, organization.get("title"))
    _put(found, DirectoryAttribute.DEPARTMENT, organization.get("department"))
    _put(found, DirectoryAttribute.ORGANIZATION, organization.get("name"))
    languages = _dicts(body.get("languages"))
    _put(found, DirectoryAttribute.LOCALE, languages[0].get("languageCode") if languages else None)
    _put(found, DirectoryAttribute.EMPLOYEE_ID, _of_type(_dicts(body.get("externalIds")), "organization"))
    if isinstance(body.get("suspended"), bool):
        found[DirectoryAttribute.ACTIVE] = not body["suspended"]
    return found


def graph_attributes(body: dict[str, Any]) -> dict[str, str | bool]:
    """The directory attributes of a Graph user (``GRAPH_USER_SELECT``; absent or empty ones left out)."""
    found: dict[str, str | bool] = {}
    _put(found, DirectoryAttribute.USER_PRINCIPAL_NAME, body.get("userPrincipalName"))
    _put(found, DirectoryAttribute.GIVEN_NAME, body.get("givenName"))
    _put(found, DirectoryAttribute.FAMILY_NAME, body.get("surname"))
    _put(found, DirectoryAttribute.DISPLAY_NAME, body.get("displayName"))
    phones = body.get("businessPhones")
    _put(found, DirectoryAttribute.PHONE, phones[0] if isinstance(phones, list) and phones else None)
    _put(found, DirectoryAttribute.MOBILE_PHONE, body.get("mobilePhone"))
    _put(found, DirectoryAttribute.JOB_TITLE, body.get("jobTitle"))
    _put(found, DirectoryAttribute.DEPARTMENT, body.get("department"))
    _put(found, DirectoryAttribute.ORGANIZATION, body.get("companyName"))
    _put(found, DirectoryAttribute.LOCALE, body.get("preferredLanguage"))
    _put(found, DirectoryAttribute.EMPLOYEE_ID, body.get("employeeId"))
    if isinstance(body.get("accountEnabled"), bool):
        found[DirectoryAttribute.ACTIVE] = body["accountEnabled"]
    return found


def _google_user(body: Any) -> DirectoryUser:
    if not isinstance(body, dict) or not _text(body.get("id")) or not _text(body.get("primaryEmail")):
        raise ProviderAnswerMalformed("Google users.get: unexpected answer (id, primaryEmail)")
    name = body.get("name")
    full_name = _text(name.get("fullName")) if isinstance(name, dict) else None
    return DirectoryUser(
        str(body["id"]), str(body["primaryEmail"]).lower(), full_name, google_attributes(body)
    )


def _graph_user(body: Any, email: str) -> DirectoryUser:
    if not isinstance(body, dict) or not _text(body.get("id")):
        raise ProviderAnswerMalformed("Graph users: unexpected answer (id)")
    address = _text(body.get("mail")) or _text(body.get("userPrincipalName")) or email
    return DirectoryUser(
        str(body["id"]), address.lower(), _text(body.get("displayName")), graph_attributes(body)
    )


class TenantUser(Struct, frozen=True):
    """A user of a calendar tenant's directory as a listing gives it (provisioning's reconcile)."""

    user_id: str
    email: str
    active: bool  # Google: not suspended; Graph: accountEnabled


def _tenant_user(provider: CalendarProvider, item: Any) -> TenantUser | None:
    if not isinstance(item, dict) or not _text(item.get("id")):
        return None
    if provider is CalendarProvider.GOOGLE_WORKSPACE:
        address, active = _text(item.get("primaryEmail")), item.get("suspended") is not True
    else:
        address = _text(item.get("mail")) or _text(item.get("userPrincipalName"))
        active = item.get("accountEnabled") is not False
    return TenantUser(str(item["id"]), (address or "").lower(), active)


class ProviderDirectory:
    """``find(tenant, email)``: the directory user, or None when the tenant has no such user."""

    def __init__(
        self,
        registry: ProviderRegistry,
        *,
        read_secret: Callable[[str], dict[str, Any] | None],
        write_secret: Callable[[str, dict[str, Any]], None],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._read = read_secret
        self._write = write_secret
        self._clock = clock

    def find(self, tenant: CalendarTenant, email: str) -> DirectoryUser | None:
        """TenantUnusable when the credentials are missing or refused; ProviderUnavailable passes."""
        api, secret_arn, credentials = self._tenant_api(tenant)
        provider = tenant.service_account.provider
        try:
            return self._once_more_after_refresh(
                api, secret_arn, credentials, lambda: self._lookup(api, provider, tenant, email)
            )
        except AccessTokenRejected as again:
            raise TenantUnusable(_without_address(provider, again)) from None

    def list_users(self, tenant: CalendarTenant) -> list[TenantUser]:
        """Every user of the tenant's directory, paged (Google ``users.list`` 500 a page, Graph
        ``/users`` 999 a page). TenantUnusable as :meth:`find`; ProviderError passes."""
        api, secret_arn, credentials = self._tenant_api(tenant)
        provider = tenant.service_account.provider
        return self._once_more_after_refresh(
            api, secret_arn, credentials, lambda: self._listing(api, provider)
        )

    def _tenant_api(self, tenant: CalendarTenant) -> tuple[ProviderApi, str, dict[str, Any]]:
        """The tenant's API client, secret and admin credentials, refreshed first when about to expire."""
        if not tenant.secret_arn:
            raise TenantUnusable("the service account holds no admin credentials")
        credentials = self._read(tenant.secret_arn)
        if not credentials or not credentials.get("access_token"):
            raise TenantUnusable("the service account's admin credentials are gone")
        api = self._registry.api_client(
            PROVIDER_KEYS[tenant.service_account.provider],
            _tokens(credentials),
            tenant=_text(credentials.get("tenant_id")),
        )
        expires_at = credentials.get("expires_at")
        if isinstance(expires_at, int) and expires_at <= self._clock() + EXPIRY_MARGIN_SECONDS:
            self._refresh(api, tenant.secret_arn, credentials)
        return api, tenant.secret_arn, credentials

    def _once_more_after_refresh[T](
        self, api: ProviderApi, secret_arn: str, credentials: dict[str, Any], call: Callable[[], T]
    ) -> T:
        """``call()``; on a rejected access token, refresh and call once more (a second rejection passes)."""
        try:
            return call()
        except AccessTokenRejected:
            self._refresh(api, secret_arn, credentials)
            return call()

    @staticmethod
    def _listing(api: ProviderApi, provider: CalendarProvider) -> list[TenantUser]:
        if provider is CalendarProvider.GOOGLE_WORKSPACE:
            params = {"customer": "my_customer", "maxResults": "500"}
            pages = api.pages("/admin/directory/v1/users", params=params, items_key="users")
        else:
            select = {"$select": "id,mail,userPrincipalName,accountEnabled", "$top": "999"}
            pages = api.pages("/v1.0/users", params=select, items_key="value")
        found = (_tenant_user(provider, item) for page in pages for item in page.items)
        return [user for user in found if user is not None]

    def _refresh(self, api: ProviderApi, secret_arn: str, credentials: dict[str, Any]) -> None:
        try:
            tokens = api.refresh()
        except RefreshTokenRejected as refused:
            raise TenantUnusable(refused.description) from None  # the token URL: no address
        # Persist first: Microsoft rotates the refresh token, the old one stops working.
        credentials.update(tokens.to_dict())
        self._write(secret_arn, credentials)

    @staticmethod
    def _lookup(
        api: ProviderApi, provider: CalendarProvider, tenant: CalendarTenant, email: str
    ) -> DirectoryUser | None:
        path_email = quote(email, safe="@")
        try:
            if provider is CalendarProvider.GOOGLE_WORKSPACE:
                return _google_user(api.get(f"/admin/directory/v1/users/{path_email}"))
            found = api.get(f"/v1.0/users/{path_email}", params={"$select": GRAPH_USER_SELECT})
            return _graph_user(found, email)
        except AccessTokenRejected:
            raise
        except ProviderRefused as refused:
            if refused.status == 404:
                return None
            # Google answers 403 for an address of a domain the customer does not own.
            other_domain = email.rpartition("@")[2] != tenant.service_account.domain
            if refused.status == 403 and other_domain:
                return None
            raise TenantUnusable(_without_address(provider, refused)) from None


def _without_address(provider: CalendarProvider, refused: ProviderRefused) -> str:
    """A description for logs: the provider's descriptions name the URL, which holds the email."""
    return f"{provider} directory answered {refused.status} ({refused.error})"
