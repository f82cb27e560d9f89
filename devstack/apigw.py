"""A local API Gateway (REST API, Lambda proxy integration) driven by template.yaml.

Routes and handlers come from the template's ``Type: Api`` events. Each request becomes a real
REST proxy event (headers and multiValueHeaders, query and multi-value query parameters, path
parameters, requestContext with requestId, stage and identity.sourceIp, body and
isBase64Encoded) and the function's own ``lambda_handler`` is called in-process with a Lambda
context. Stage throttling (MethodSettings) is honoured with a token bucket and answered with
the template's THROTTLED gateway response, as API Gateway does.

The function table (:func:`devstack.template.functions`) is independent of the event source, so
SQS or Schedule sources are added beside ``Type: Api`` routes (``docs/devstack.md``).
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from devstack import iam
from devstack.aws import ACCOUNT_ID, REGION
from devstack.lambda_environments import ExecutionEnvironments, LambdaHandler
from devstack.powertools_isolation import isolate_requests_per_thread
from devstack.template import FunctionSpec, Resolver, functions, resources_of_type

STAGE = "live"
API_ID = "orgconnectlocal"

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/x-www-form-urlencoded",
    "application/xml",
    "application/javascript",
    "+json",
    "+xml",
)


class LambdaContext:
    """The attributes of the Lambda context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = f"orgconnect-local-{spec.logical_id}"
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"
        self.memory_limit_in_mb = spec.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = datetime.now(UTC).strftime("%Y/%m/%d/[$LATEST]") + uuid.uuid4().hex
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_function_module(spec: FunctionSpec, instance: int = 0) -> ModuleType:
    """Import the function's handler module under a unique name (every function has an ``app.py``);
    each ``instance`` is a separate copy, as separate Lambda execution environments are."""
    module_name = spec.handler.rpartition(".")[0]
    path = spec.code_dir / f"{module_name.replace('.', '/')}.py"
    unique = f"orgconnect_function_{spec.logical_id}_{module_name.replace('.', '_')}"
    if instance:
        unique += f"_env{instance}"
    module_spec = importlib.util.spec_from_file_location(unique, path)
    if module_spec is None or module_spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module: ModuleType = importlib.util.module_from_spec(module_spec)
    isolate_requests_per_thread()  # one process serves every function: see powertools_isolation
    # Registered before running it, as an import would, so postponed annotations resolve.
    sys.modules[unique] = module
    module_spec.loader.exec_module(module)
    return module


def load_handler(spec: FunctionSpec, instance: int = 0) -> LambdaHandler:
    """The function's ``lambda_handler`` (or whatever its Handler names)."""
    handler = getattr(load_function_module(spec, instance), spec.handler.rpartition(".")[2])
    if not callable(handler):
        raise TypeError(f"{spec.handler} of {spec.logical_id} is not callable")
    return handler  # type: ignore[no-any-return]


def function_environment(specs: list[FunctionSpec], resolver: Resolver) -> dict[str, str]:
    """The union of every function's resolved environment.

    Functions run in one process locally, so a variable must mean the same for every function
    that sets it; a conflict is a startup error rather than a silent surprise.
    """
    env: dict[str, str] = {}
    for spec in specs:
        for key, raw in spec.environment.items():
            value = str(resolver.resolve(raw))
            if key in env and env[key] != value:
                raise ValueError(
                    f"{key} differs between functions ({env[key]!r} vs {value!r}); "
                    "the local stack runs all functions in one process"
                )
            env[key] = value
    return env


class TokenBucket:
    """API Gateway's stage throttling: ``rate`` requests per second with bursts of ``burst``."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._tokens = float(burst)
        self._last = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
            self._last = now
            if self._tokens >= 1:
                self._tokens -= 1
                return True
            return False


@dataclass(frozen=True)
class _Target:
    spec: FunctionSpec
    resource: str
    environments: ExecutionEnvironments


def _rule_path(resource: str) -> str:
    """``/a/{b}/{proxy+}`` -> ``/a/<b>/<path:proxy>`` (werkzeug syntax)."""
    parts = []
    for segment in resource.split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            parts.append(f"<path:{segment[1:-2]}>")
        elif segment.startswith("{") and segment.endswith("}"):
            parts.append(f"<{segment[1:-1]}>")
        else:
            parts.append(segment)
    return "/".join(parts) or "/"


def build_event(request: Request, resource: str, path_params: Mapping[str, str]) -> dict[str, Any]:
    """The API Gateway REST (v1) Lambda proxy event for ``request``."""
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        multi_headers.setdefault(name, []).append(value)
    multi_query: dict[str, list[str]] = {k: request.args.getlist(k) for k in request.args}
    raw = request.get_data(cache=True)
    content_type = request.headers.get("Content-Type", "")
    is_text = not raw or any(t in content_type for t in _TEXT_TYPES) or not content_type
    body: str | None
    if not raw:
        body, is_b64 = None, False
    elif is_text:
        try:
            body, is_b64 = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            body, is_b64 = base64.b64encode(raw).decode(), True
    else:
        body, is_b64 = base64.b64encode(raw).decode(), True
    now = datetime.now(UTC)
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": {k: v[-1] for k, v in multi_headers.items()} or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_params) or None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, resource).hex[:6],
            "resourcePath": resource,
            "httpMethod": request.method,
            "extendedRequestId": base64.b32encode(uuid.uuid4().bytes).decode()[:16],
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "path": f"/{STAGE}{request.path}",
            "accountId": ACCOUNT_ID,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "stage": STAGE,
            "domainPrefix": API_ID,
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "requestId": request_id,
            "identity": {
                "sourceIp": request.remote_addr or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent"),
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoIdentityId": None,
                "user": None,
                "userArn": None,
            },
            "domainName": request.host,
            "apiId": API_ID,
        },
        "body": body,
        "isBase64Encoded": is_b64,
    }


def to_response(result: Any) -> Response:
    """Map a proxy integration result to an HTTP response (502 if malformed, as API Gateway does)."""
    if not isinstance(result, dict) or "statusCode" not in result:
        return Response(
            json.dumps({"message": "Internal server error"}), 502, content_type="application/json"
        )
    body = result.get("body") or ""
    data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    response = Response(data, status=int(result["statusCode"]))
    response.headers.pop("Content-Type", None)
    for name, value in (result.get("headers") or {}).items():
        response.headers[name] = str(value)
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if name.lower() not in {k.lower() for k in (result.get("headers") or {})}:
            for value in values:
                response.headers.add(name, str(value))
    return response


class LocalApiGateway:
    """The template's REST API as a WSGI app that calls the functions in-process."""

    def __init__(
        self,
        template: Mapping[str, Any],
        resolver: Resolver,
        extra_routes: Mapping[str, Callable[[Request], Response]] | None = None,
    ) -> None:
        self.specs = functions(template)
        self._targets: dict[str, _Target] = {}
        rules = []
        for spec in self.specs:
            if not spec.routes:
                continue
            environments = ExecutionEnvironments(spec, load_handler)
            for route in spec.routes:
                endpoint = f"{spec.logical_id}:{route.method}:{route.path}"
                self._targets[endpoint] = _Target(spec, route.path, environments)
                methods = None if route.method == "ANY" else [route.method]
                rules.append(Rule(_rule_path(route.path), endpoint=endpoint, methods=methods))
        self._extra = dict(extra_routes or {})
        for path in self._extra:
            rules.append(Rule(path, endpoint=f"extra:{path}"))
        self._map = Map(rules, strict_slashes=False, merge_slashes=False)
        self._bucket, self._throttled_body = _throttling(template, resolver)
        self._policies = iam.policies(template, resolver)
        iam.install()

    @property
    def routes(self) -> list[tuple[str, str, str]]:
        """(method, path, function) for every route, for the startup summary."""
        return sorted((t.split(":")[1], t.split(":")[2], t.split(":")[0]) for t in self._targets)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        return self.dispatch(request)(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, params = adapter.match()
        except (NotFound, MethodNotAllowed):
            # API Gateway's answer for a route that does not exist.
            return Response(
                json.dumps({"message": "Missing Authentication Token"}), 403, content_type="application/json"
            )
        except HTTPException as error:
            return Response(
                json.dumps({"message": error.description}), error.code or 400, content_type="application/json"
            )
        if str(endpoint).startswith("extra:"):
            return self._extra[str(endpoint)[6:]](request)
        if self._bucket is not None and not self._bucket.take():
            return Response(self._throttled_body, 429, content_type="application/json")
        target = self._targets[str(endpoint)]
        event = build_event(request, target.resource, params)
        try:
            with (
                target.environments.invocation() as handler,
                iam.acting_as(self._policies[target.spec.logical_id]),
            ):
                result = handler(event, LambdaContext(target.spec))
        except Exception:  # an unhandled function error is a 502, as on AWS
            logging.getLogger("devstack").exception("function %s raised", target.spec.logical_id)
            return Response(
                json.dumps({"message": "Internal server error"}), 502, content_type="application/json"
            )
        return to_response(result)


def _throttling(template: Mapping[str, Any], resolver: Resolver) -> tuple[TokenBucket | None, str]:
    apis = resources_of_type(template, "AWS::Serverless::Api")
    body = json.dumps({"message": "Too Many Requests"})
    for api in apis.values():
        props = api.get("Properties", {})
        throttled = props.get("GatewayResponses", {}).get("THROTTLED", {})
        templates = throttled.get("ResponseTemplates", {})
        if "application/json" in templates:
            body = str(templates["application/json"])
        for setting in props.get("MethodSettings", []):
            if "ThrottlingRateLimit" in setting:
                rate = float(resolver.resolve(setting["ThrottlingRateLimit"]))
                burst = int(resolver.resolve(setting.get("ThrottlingBurstLimit", rate)))
                return TokenBucket(rate, burst), body
    return None, body
