"""``orgconnect``: the operator CLI.

    orgconnect admin create-client --name N --redirect-uri URI [--redirect-uri URI ...]
                                   [--categories general,recruiting] [--admin-proof-policy P]
    orgconnect admin create-service-account --client-id cli_... --provider google_workspace
                                   --domain example.com [--admin-email admin@example.com]
    orgconnect admin set-notification-url --client-id cli_... (--url https://... | --clear)
    orgconnect admin rotate-notification-secret --client-id cli_... [--grace-hours 24]
    orgconnect admin set-zoom-plan --connection cnx_... --plan business|pro|default
                                   (orgconnect/cli_rate_plan.py, docs/providers.md)
    orgconnect sync --connection cnx_... [--dev [PATH] | --stack-name NAME [--region R]]
                                   (orgconnect/cli_sync.py, docs/sync.md)

Target (one of): ``--dev [PATH]`` (the local stack's .orgconnect/dev.json), ``--stack-name NAME
[--region R]`` (a deployed stack's outputs), or ``--table T --pepper-secret-id S
[--endpoint-url URL]`` (also read from ORGCONNECT_TABLE_NAME / ORGCONNECT_PEPPER_SECRET_ID).
Output is JSON on stdout; the client secret is printed once and stored only as a keyed hash; a
notification secret is printed once and stored sealed with the stack's keyring (docs/notifications.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from msgspec import Struct

from orgconnect.domain.clients import register_client
from orgconnect.domain.errors import InvalidRequest
from orgconnect.domain.model import AdminProofPolicy, CalendarProvider, ConferencingCategory
from orgconnect.domain.secrets import SecretHasher
from orgconnect.domain.service_accounts import register_service_account

DEFAULT_DEV_FILE = Path(".orgconnect/dev.json")


class CliError(Exception):
    """A problem the operator can fix; printed without a traceback."""


class Target(Struct, frozen=True):
    """Where the admin commands write: a table, the pepper secret, and an optional endpoint."""

    table_name: str
    pepper_secret_id: str
    endpoint_url: str | None = None
    region: str | None = None
    # Only for the local emulator (dev.json); deployed stacks use the normal AWS credential chain.
    access_key_id: str | None = None
    secret_access_key: str | None = None
    # The local stack's DynamoDB when it runs on DynamoDB Local (``--dynamodb local``).
    dynamodb_endpoint_url: str | None = None
    # The keyring that seals notification secrets; ``dev``: the local stack (loopback URLs allowed).
    encryption_keys_secret_id: str | None = None
    dev: bool = False


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    """``--dev [PATH]``, ``--stack-name`` and ``--region``: the stack a command works on."""
    parser.add_argument(
        "--dev",
        nargs="?",
        const=str(DEFAULT_DEV_FILE),
        default=None,
        help="use the local stack (default file: .orgconnect/dev.json)",
    )
    parser.add_argument("--stack-name", help="a deployed stack (reads its outputs)")
    parser.add_argument("--region", help="AWS region of the deployed stack")


def read_dev_file(path: str) -> dict[str, Any]:
    """The local stack's file (``make dev`` writes it); CliError when the stack is not running."""
    dev_file = Path(path)
    if not dev_file.exists():
        raise CliError(f"{dev_file} not found: is `make dev` running?")
    data: dict[str, Any] = json.loads(dev_file.read_text())
    return data


def resolve_target(args: argparse.Namespace) -> Target:
    """The target stack from the arguments (see the module docstring)."""
    if args.dev is not None:
        data = read_dev_file(args.dev)
        aws = data["aws"]
        return Target(
            aws["table_name"],
            aws["pepper_secret_id"],
            data["aws_endpoint_url"],
            aws.get("region"),
            aws.get("access_key_id"),
            aws.get("secret_access_key"),
            data.get("dynamodb_endpoint_url"),
            aws.get("encryption_keys_secret_id"),
            dev=True,
        )
    if args.stack_name:
        return _stack_target(args.stack_name, args.region)
    table = args.table or os.environ.get("ORGCONNECT_TABLE_NAME")
    secret = args.pepper_secret_id or os.environ.get("ORGCONNECT_PEPPER_SECRET_ID")
    if not table or not secret:
        raise CliError("choose a target: --dev, --stack-name NAME, or --table T --pepper-secret-id S")
    keyring = getattr(args, "encryption_keys_secret_id", None) or os.environ.get(
        "ORGCONNECT_ENCRYPTION_KEYS_SECRET_ID"
    )
    endpoint = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
    return Target(table, secret, endpoint, args.region, encryption_keys_secret_id=keyring)


def _stack_target(stack_name: str, region: str | None) -> Target:
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    try:
        return Target(
            outputs["TableName"],
            outputs["PepperSecretArn"],
            None,
            region,
            encryption_keys_secret_id=outputs.get("EncryptionKeysSecretArn"),
        )
    except KeyError as missing:
        raise CliError(f"stack {stack_name} has no output {missing}; is it an orgconnect stack?") from None


def _clients(target: Target) -> tuple[Any, Any]:
    """The target's DynamoDB store and Secrets Manager client."""
    import boto3

    from orgconnect.store.dynamodb import DynamoStore

    session = boto3.session.Session(
        region_name=target.region,
        aws_access_key_id=target.access_key_id,
        aws_secret_access_key=target.secret_access_key,
    )
    dynamodb = session.client("dynamodb", endpoint_url=target.dynamodb_endpoint_url or target.endpoint_url)
    secrets = session.client("secretsmanager", endpoint_url=target.endpoint_url)
    return DynamoStore(target.table_name, dynamodb, clock=lambda: int(time.time())), secrets


def _stores(target: Target) -> tuple[Any, SecretHasher]:
    from orgconnect.store.vault import load_pepper

    store, secrets = _clients(target)
    return store, SecretHasher(load_pepper(target.pepper_secret_id, client=secrets))


def create_client(args: argparse.Namespace) -> dict[str, Any]:
    from orgconnect.store.clients import DynamoClients

    store, hasher = _stores(resolve_target(args))
    categories = [ConferencingCategory(c.strip()) for c in args.categories.split(",") if c.strip()]
    created = register_client(
        name=args.name,
        redirect_uris=args.redirect_uri,
        categories=categories,
        admin_proof_policy=AdminProofPolicy(args.admin_proof_policy),
        store=DynamoClients(store),
        hasher=hasher,
        now=int(time.time()),
    )
    return {
        "client_id": created.client.client_id,
        "client_secret": created.client_secret,
        "name": created.client.name,
        "redirect_uris": list(created.client.redirect_uris),
        "categories": [str(c) for c in created.client.categories],
    }


def create_service_account(args: argparse.Namespace) -> dict[str, Any]:
    from orgconnect.store.clients import DynamoClients
    from orgconnect.store.service_accounts import DynamoServiceAccounts

    store, _ = _stores(resolve_target(args))
    account = register_service_account(
        client_id=args.client_id,
        provider=CalendarProvider(args.provider),
        domain=args.domain,
        admin_email=args.admin_email,
        clients=DynamoClients(store),
        store=DynamoServiceAccounts(store),
        now=int(time.time()),
    )
    return {
        "service_account_id": account.service_account_id,
        "client_id": account.client_id,
        "provider": str(account.provider),
        "domain": account.domain,
    }


def _destinations(target: Target) -> Any:
    """The clients' notification destinations, sealing with the target's keyring."""
    from orgconnect.store.notifications import DynamoNotificationDestinations
    from orgconnect.store.vault import load_sealer

    if not target.encryption_keys_secret_id:
        raise CliError(
            "the target names no keyring: pass --encryption-keys-secret-id (or use --dev/--stack-name)"
        )
    store, secrets = _clients(target)
    keyring = target.encryption_keys_secret_id
    return DynamoNotificationDestinations(store, lambda: load_sealer(keyring, client=secrets))


def set_notification_url(args: argparse.Namespace) -> dict[str, Any]:
    from orgconnect.domain.notifications import new_notification_secret, validate_notification_url

    target = resolve_target(args)
    destinations = _destinations(target)
    if args.clear:
        destinations.clear(args.client_id)
        return {"client_id": args.client_id, "notification_url": None}
    if not args.url:
        raise CliError("give --url URL, or --clear")
    url = validate_notification_url(args.url, allow_loopback=target.dev)
    secret = new_notification_secret()
    result: dict[str, Any] = {"client_id": args.client_id, "notification_url": url}
    if destinations.set_url(args.client_id, url, secret):
        result["notification_secret"] = secret  # shown once; stored only sealed
    else:
        result["note"] = (
            "the client's notification secret is unchanged (rotate-notification-secret makes a new one)"
        )
    return result


def rotate_notification_secret(args: argparse.Namespace) -> dict[str, Any]:
    from orgconnect.domain.notifications import new_notification_secret

    if args.grace_hours < 0:
        raise CliError("--grace-hours cannot be negative")
    secret = new_notification_secret()
    until = int(time.time()) + int(args.grace_hours * 3600)
    _destinations(resolve_target(args)).rotate(args.client_id, secret, previous_until=until)
    return {"client_id": args.client_id, "notification_secret": secret, "previous_secret_signs_until": until}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orgconnect", description="orgconnect operator commands")
    groups = parser.add_subparsers(dest="group", required=True)
    admin = groups.add_parser("admin", help="manage clients and service accounts")
    commands = admin.add_subparsers(dest="command", required=True)

    def with_target(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        add_stack_arguments(p)
        p.add_argument("--table", help="DynamoDB table name")
        p.add_argument("--pepper-secret-id", help="Secrets Manager id of the pepper")
        p.add_argument("--endpoint-url", help="AWS endpoint (for an emulator)")
        p.add_argument("--encryption-keys-secret-id", help="Secrets Manager id of the keyring")
        return p

    c = with_target(commands.add_parser("create-client", help="register an integrator application"))
    c.add_argument("--name", required=True)
    c.add_argument("--redirect-uri", action="append", required=True, help="repeat for several")
    c.add_argument("--categories", default="general", help="comma-separated: general,recruiting")
    c.add_argument(
        "--admin-proof-policy", default="when_unlinked", choices=[p.value for p in AdminProofPolicy]
    )
    c.set_defaults(run=create_client)

    s = with_target(commands.add_parser("create-service-account", help="record a calendar service account"))
    s.add_argument("--client-id", required=True)
    s.add_argument("--provider", required=True, choices=[p.value for p in CalendarProvider])
    s.add_argument("--domain", required=True)
    s.add_argument("--admin-email")
    s.set_defaults(run=create_service_account)

    n = with_target(commands.add_parser("set-notification-url", help="where a client's notifications go"))
    n.add_argument("--client-id", required=True)
    n.add_argument("--url", help="https URL (loopback http only with --dev)")
    n.add_argument("--clear", action="store_true", help="remove the URL and the secret")
    n.set_defaults(run=set_notification_url)

    r = with_target(commands.add_parser("rotate-notification-secret", help="a new notification secret"))
    r.add_argument("--client-id", required=True)
    r.add_argument("--grace-hours", type=float, default=24.0, help="the old secret also signs until then")
    r.set_defaults(run=rotate_notification_secret)
    from orgconnect.cli_rate_plan import add_rate_plan_command  # set-zoom-plan --connection cnx_...

    add_rate_plan_command(commands, with_target)
    from orgconnect.cli_sync import add_sync_command  # orgconnect sync --connection cnx_...

    add_sync_command(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
    from botocore.exceptions import BotoCoreError, ClientError

    args = build_parser().parse_args(argv)
    try:
        result = args.run(args)
    except (CliError, InvalidRequest, ValueError) as error:
        print(f"orgconnect: {error}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError, GetParameterError) as error:
        print(f"orgconnect: cannot use the target stack: {error}", file=sys.stderr)
        return 3
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
