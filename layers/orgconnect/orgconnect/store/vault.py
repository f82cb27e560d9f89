"""Secrets Manager access: the deployment's pepper (and, later, provider credentials)."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_lambda_powertools.utilities import parameters

# The pepper never changes without a migration, so one read per cold start (cached for an hour)
# keeps it off the per-request path.
PEPPER_CACHE_SECONDS = 3600


def load_pepper(secret_id: str, *, client: Any = None) -> bytes:
    """The deployment's hashing pepper from Secrets Manager.

    The secret is either a plain string (as CloudFormation's GenerateSecretString makes it) or a
    JSON object with a ``pepper`` key; either way at least 32 bytes. ``client`` is an optional
    boto3 Secrets Manager client (the admin CLI passes one for the stack it targets).
    """
    if client is not None:
        raw = parameters.SecretsProvider(boto3_client=client).get(secret_id, max_age=PEPPER_CACHE_SECONDS)
    else:
        raw = parameters.get_secret(secret_id, max_age=PEPPER_CACHE_SECONDS)
    value = raw.decode() if isinstance(raw, bytes) else str(raw)
    if value.lstrip().startswith("{"):
        value = str(json.loads(value)["pepper"])
    pepper = value.encode()
    if len(pepper) < 32:
        # Base64 keys are allowed too; decode only when the plain form is too short.
        pepper = base64.b64decode(value)
    return pepper
