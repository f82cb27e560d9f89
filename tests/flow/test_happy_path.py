"""SPEC 3 end to end: link token -> admin proof -> Zoom -> consent -> code -> OU tokens -> userinfo."""

from __future__ import annotations

import json

from tests.flow.harness import Browser, Client, FlowStack


def redeem(flow: FlowStack, client: Client, code: str) -> dict[str, object]:
    response = flow.api.post(
        f"{flow.info['api_url']}/oauth/token",
        json={
            "grant_type": "authorization_code",
            "client_id": client.client_id,
            "client_secret": client.client_secret,
            "code": code,
            "redirect_uri": client.redirect_uri,
        },
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_admin_connects_zoom_and_the_integrator_gets_ou_tokens(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    outcome = browser.run(
        flow.authorize_url(client, state="opaque state/with spaces&symbols"), ou_name="Acme Ltd"
    )

    assert outcome.kind == "code", outcome.text
    assert outcome.params["state"] == "opaque state/with spaces&symbols"  # S3: echoed exactly
    assert len(outcome.params["code"]) == 32
    hosts = [str(r.url) for r in browser.visited]
    assert any("/o/oauth2/v2/auth" in h for h in hosts), "the unlinked service account needed admin proof"
    assert any("/oauth/authorize" in h for h in hosts)

    tokens = redeem(flow, client, outcome.params["code"])
    assert tokens["scope"] == "organizational_unit_use_integrations"
    assert tokens["organizational_unit"] == {"sub": tokens["sub"], "name": "Acme Ltd"}
    info = flow.api.get(
        f"{flow.info['api_url']}/v1/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    ).json()
    data = info["cronofy.data"]
    assert info["sub"] == tokens["sub"]
    assert [c["provider_name"] for c in data["conferencing_connections"]] == ["zoom_enterprise"]
    assert data["conferencing_connections"][0]["status"] == "connected"
    assert [s["service_account_id"] for s in data["service_accounts"]] == [client.service_account_id]

    # The Zoom tokens are in Secrets Manager, one secret per connection, never in DynamoDB.
    (connection,) = [c for c in flow.table_items("CONNECTION#") if c["ou_id"] == tokens["sub"]]
    secret = json.loads(
        flow.aws("secretsmanager").get_secret_value(SecretId=connection["secret_arn"])["SecretString"]
    )
    assert secret["access_token"] and secret["refresh_token"]
    assert secret["access_token"] not in json.dumps(flow.table_items(""), default=str)


def test_relinking_the_same_zoom_account_refreshes_its_tokens_in_place(flow: FlowStack) -> None:
    client = flow.new_client()
    first = Browser(flow).run(flow.authorize_url(client))
    assert first.kind == "code"
    before = [c for c in flow.table_items("CONNECTION#") if c["client_id"] == client.client_id]
    sm = flow.aws("secretsmanager")
    old = sm.get_secret_value(SecretId=before[0]["secret_arn"])

    second = Browser(flow).run(flow.authorize_url(client))
    assert second.kind == "code"
    after = [c for c in flow.table_items("CONNECTION#") if c["client_id"] == client.client_id]
    assert [c["connection_id"] for c in after] == [c["connection_id"] for c in before]
    assert after[0]["secret_arn"] == before[0]["secret_arn"]
    assert after[0]["created_at"] == before[0]["created_at"]
    new = sm.get_secret_value(SecretId=after[0]["secret_arn"])
    assert new["VersionId"] != old["VersionId"]
    assert json.loads(new["SecretString"])["access_token"] != json.loads(old["SecretString"])["access_token"]


def test_second_flow_offers_the_existing_ou_and_skips_admin_proof(flow: FlowStack) -> None:
    client = flow.new_client()
    assert Browser(flow).run(flow.authorize_url(client), ou_name="First").kind == "code"
    (ou,) = [o for o in flow.table_items("OU#") if o["client_id"] == client.client_id]
    browser = Browser(flow)
    consent = browser.run(flow.authorize_url(client), stop_at_consent=True)
    assert f"data-testid='ou-existing-{ou['ou_id']}' checked" in consent.response.text
    assert "data-testid=ou-new" not in consent.response.text  # the service account is linked already
    assert not any("/o/oauth2/v2/auth" in str(r.url) for r in browser.visited)  # when_unlinked: no proof


def test_reload_in_the_same_browser_resumes(flow: FlowStack, browser: Browser) -> None:
    client = flow.new_client()
    url = flow.authorize_url(client)
    first = browser.get(url)
    assert first.status_code == 302
    again = browser.get(url)  # the link token is used, but this browser holds the request
    assert again.status_code == 302
    assert again.headers["location"].endswith("/organizational_unit_oauth/continue")
    assert browser.drive(again).kind == "code"
