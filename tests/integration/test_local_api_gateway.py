"""The local API Gateway over the real handlers: routing, throttling, responses."""

from __future__ import annotations

import json

from werkzeug.test import Client

from devstack.apigw import LocalApiGateway
from devstack.template import Resolver, load_template, parameter_defaults
from tests.conftest import Seeded

PATH = "/v1/organizational_unit_authorization_link_tokens"


def gateway(resolver: Resolver, rate: float, burst: int) -> Client:
    template = load_template()
    params = parameter_defaults(template, {"ApiThrottlingRateLimit": rate, "ApiThrottlingBurstLimit": burst})
    return Client(LocalApiGateway(template, Resolver(refs={**resolver.refs, **params}, attrs=resolver.attrs)))


def test_routes_come_from_the_template(seeded: Seeded, aws_resolver: Resolver) -> None:
    client = gateway(aws_resolver, 100, 100)
    response = client.post(
        PATH,
        headers={"Authorization": f"Bearer {seeded.client_secret}"},
        json={"service_account_id": seeded.service_account_id},
    )
    assert response.status_code == 200
    assert len(response.get_json()["organizational_unit_authorization_link_token"]["ou_link_token"]) >= 43
    assert client.get(PATH).status_code == 403  # method not routed: API Gateway's answer
    assert client.get("/nope").get_json() == {"message": "Missing Authentication Token"}


def test_stage_throttling_answers_429_with_the_templates_body(seeded: Seeded, aws_resolver: Resolver) -> None:
    # One token per 1000 s: the refill cannot matter, however slow the machine.
    client = gateway(aws_resolver, rate=0.001, burst=2)
    statuses = [
        client.post(PATH, headers={"Authorization": "Bearer wrong"}, json={}).status_code for _ in range(5)
    ]
    assert statuses == [401, 401, 429, 429, 429]
    throttled = client.post(PATH, headers={"Authorization": "Bearer wrong"}, json={})
    assert throttled.status_code == 429
    assert json.loads(throttled.data)["error"] == "too_many_requests"
