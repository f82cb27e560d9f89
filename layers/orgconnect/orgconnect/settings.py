"""Deployment settings, read from the environment once per cold start and validated."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from orgconnect.domain.codes import MAX_CODE_TTL_SECONDS
from orgconnect.domain.link_tokens import DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS

DATA_CENTERS = ("us", "uk", "de", "ca", "au", "sg")


class Settings(BaseModel):
    """What every function needs. Field aliases are the environment variable names (template.yaml)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    table_name: Annotated[str, Field(alias="ORGCONNECT_TABLE_NAME", min_length=3)]
    pepper_secret_id: Annotated[str, Field(alias="ORGCONNECT_PEPPER_SECRET_ID", min_length=1)]
    data_center: Annotated[str, Field(alias="ORGCONNECT_DATA_CENTER", pattern="^(us|uk|de|ca|au|sg)$")] = "us"
    link_token_ttl_seconds: Annotated[
        int, Field(alias="ORGCONNECT_LINK_TOKEN_TTL_SECONDS", ge=MIN_TTL_SECONDS, le=MAX_TTL_SECONDS)
    ] = DEFAULT_TTL_SECONDS
    authorization_code_ttl_seconds: Annotated[
        int, Field(alias="ORGCONNECT_AUTHORIZATION_CODE_TTL_SECONDS", ge=1, le=MAX_CODE_TTL_SECONDS)
    ] = MAX_CODE_TTL_SECONDS
    # Public base URL of the pages; empty: derived from the request (see orgconnect.web.pages).
    app_url: Annotated[str, Field(alias="ORGCONNECT_APP_URL")] = ""
    # {"zoom": "http://127.0.0.1:4020", ...}: one base URL per provider (the simulators).
    provider_url_overrides: Annotated[dict[str, str], Field(alias="ORGCONNECT_PROVIDER_URL_OVERRIDES")] = {}
    provider_apps_secret_id: Annotated[str, Field(alias="ORGCONNECT_PROVIDER_APPS_SECRET_ID")] = ""
    encryption_keys_secret_id: Annotated[str, Field(alias="ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID")] = ""
    # Name prefix of the per-connection secrets (a name, not a secret).
    connection_secret_prefix: Annotated[str, Field(alias="ORGCONNECT_CONNECTION_SECRET_PREFIX")] = (
        "orgconnect/connections/"  # noqa: S105
    )
    provider_timeout_seconds: Annotated[
        float, Field(alias="ORGCONNECT_PROVIDER_TIMEOUT_SECONDS", gt=0, le=20)
    ] = 5.0

    @field_validator("provider_url_overrides", mode="before")
    @classmethod
    def _json_object(cls, value: object) -> object:
        """The environment holds JSON text; empty means no overrides."""
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value


class SettingsError(RuntimeError):
    """The function's environment is misconfigured (a deployment error, not a client error)."""


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The validated settings of this process (cached: read once per cold start)."""
    wanted = {f.alias for f in Settings.model_fields.values() if f.alias}
    try:
        return Settings.model_validate({k: v for k, v in os.environ.items() if k in wanted})
    except ValidationError as error:
        names = ", ".join(str(e["loc"][0]) for e in error.errors())
        raise SettingsError(f"invalid or missing environment variables: {names}") from None
