"""The API's request and response bodies as pydantic models, for the OpenAPI document only.

Routes refer to them by name (:func:`orgconnect.web.api.json_body`) and build their answers as
plain data, so no function imports pydantic (~50 ms of every cold start); the document builder
(``make openapi``) loads this module. Schemathesis checks the answers against the document.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from orgconnect.web.provisioning_policy import PROVISIONING_SCHEMA


class ErrorDetail(BaseModel):
    key: str = Field(examples=["errors.required"])
    description: str


class ErrorsResponse(BaseModel):
    """422: one or more parameters are invalid (Cronofy's format)."""

    errors: dict[str, list[ErrorDetail]]


class ErrorResponse(BaseModel):
    """Any other error: an OAuth-style code and a human description."""

    error: str = Field(examples=["unauthorized"])
    error_description: str


# POST /v1/organizational_unit_authorization_link_tokens


class LinkTokenRequest(BaseModel):
    """The request body."""

    service_account_id: str = Field(
        description="The service account (ser_…) the authorization must include.",
        pattern=r"^ser_[0-9a-f]{24}$",
        examples=["ser_5f2c8e1a9b3d4c6e7f8a9b0c"],
    )


class LinkToken(BaseModel):
    ou_link_token: str = Field(description="Single-use token for the ou_link_token parameter.")


class LinkTokenResponse(BaseModel):
    organizational_unit_authorization_link_token: LinkToken


# POST /oauth/token and /oauth/token/revoke


class TokenRequest(BaseModel):
    """Also accepted form-encoded; the client may authenticate with HTTP Basic instead."""

    grant_type: str = Field(
        examples=["authorization_code"], description="authorization_code or refresh_token"
    )
    client_id: str | None = Field(default=None, examples=["cli_5f2c8e1a9b3d4c6e7f8a9b0c"])
    client_secret: str | None = None
    code: str | None = Field(default=None, description="authorization_code: the code from the redirect")
    redirect_uri: str | None = Field(
        default=None, description="authorization_code: exactly the redirect_uri of the authorization request"
    )
    refresh_token: str | None = Field(default=None, description="refresh_token: the current refresh token")


class TokenOrganizationalUnit(BaseModel):
    sub: str = Field(examples=["ou_5f2c8e1a9b3d4c6e7f8a9b0c"])
    name: str


class TokenResponse(BaseModel):
    token_type: str = Field(examples=["bearer"])
    access_token: str
    expires_in: int = Field(examples=[3600])
    refresh_token: str
    scope: str = Field(examples=["organizational_unit_use_integrations"])
    sub: str = Field(description="ou_… for an Organizational Unit, ser_… for a service account")
    organizational_unit: TokenOrganizationalUnit | None = Field(default=None, description="OU tokens")
    service_account_id: str | None = Field(
        default=None, description="service-account tokens (expires_in 1800)"
    )


class RevocationRequest(BaseModel):
    """Also accepted form-encoded; ``token`` wins over ``sub``."""

    client_id: str | None = None
    client_secret: str | None = None
    token: str | None = Field(default=None, description="An access or refresh token of the grant to revoke")
    sub: str | None = Field(default=None, description="Revoke every grant of this application for this sub")


class OAuthErrorResponse(BaseModel):
    error: str = Field(examples=["invalid_grant"])
    error_description: str


# GET /v1/userinfo and /v1/organizational_unit


class OrganizationalUnitRef(BaseModel):
    sub: str = Field(examples=["ou_5f2c8e1a9b3d4c6e7f8a9b0c"])
    name: str = Field(examples=["example.com"])


class ServiceAccountOut(BaseModel):
    service_account_id: str = Field(examples=["ser_5f2c8e1a9b3d4c6e7f8a9b0c"])
    provider_name: str = Field(examples=["google_workspace"], description="google_workspace or microsoft_365")
    domain: str = Field(examples=["example.com"])


class UserinfoConnection(BaseModel):
    provider_name: str = Field(examples=["zoom_enterprise"])
    connection_id: str = Field(examples=["cnx_5f2c8e1a9b3d4c6e7f8a9b0c"])
    account_name: str
    status: str = Field(examples=["connected"], description="connected, needs_reauthorization or revoked")


class OrganizationalUnitData(BaseModel):
    organizational_unit: OrganizationalUnitRef
    service_accounts: list[ServiceAccountOut]
    conferencing_connections: list[UserinfoConnection]


class ServiceAccountRef(BaseModel):
    provider_name: str = Field(examples=["google_workspace"], description="google_workspace or microsoft_365")
    domain: str = Field(examples=["example.com"])


class ServiceAccountAuthorizationOut(BaseModel):
    scope: str = Field(examples=["service_account/accounts/manage service_account/resources/manage"])
    status: str = Field(examples=["active"])
    delegated_scope: str | None = Field(default=None, examples=["read_write"])


class ServiceAccountData(BaseModel):
    service_account: ServiceAccountRef
    authorization: ServiceAccountAuthorizationOut


class Userinfo(BaseModel):
    """An Organizational Unit token's, or a service-account token's (``cronofy.type``)."""

    model_config = ConfigDict(populate_by_name=True)

    sub: str
    cronofy_type: str = Field(
        alias="cronofy.type",
        examples=["organizational_unit"],
        description="organizational_unit or service_account",
    )
    cronofy_data: OrganizationalUnitData | ServiceAccountData = Field(alias="cronofy.data")
    email: str | None = Field(default=None, description="service accounts: the administrator who authorized")


class OrganizationalUnitConnection(BaseModel):
    connection_id: str = Field(examples=["cnx_5f2c8e1a9b3d4c6e7f8a9b0c"])
    provider_name: str = Field(examples=["zoom_enterprise"])
    account_name: str
    status: str = Field(examples=["connected"], description="connected, needs_reauthorization or revoked")
    relink_url: str | None = Field(
        default=None,
        description=(
            "needs_reauthorization or revoked: orgconnect's page that runs the authorization flow "
            "again for this connection's own provider account (docs/connections.md, Re-authorization)"
        ),
    )
    # The same object as GET …/provisioning answers; null for providers without provisioning.
    provisioning: Annotated[
        dict[str, Any] | None, WithJsonSchema({"anyOf": [PROVISIONING_SCHEMA, {"type": "null"}]})
    ]


class OrganizationalUnitOut(BaseModel):
    sub: str
    name: str
    service_accounts: list[ServiceAccountOut]
    conferencing_connections: list[OrganizationalUnitConnection]


class ConferencingDetails(BaseModel):
    provider_name: str = Field(
        examples=["zoom"], description="zoom, webex, ms_teams, google_meet_api or indeed"
    )
    profile_id: str = Field(examples=["pro_5f2c8e1a9b3d4c6e7f8a9b0c"])
    join_url: str = Field(examples=["https://zoom.us/j/85012345678?pwd=abc"])
    meeting_id: str = Field(examples=["85012345678"])
    password: str | None = Field(default=None, description="when the provider set one")


class ConferencingOut(BaseModel):
    """``POST /v1/conferencing``'s answer (SPEC 2.4)."""

    conferencing: ConferencingDetails
