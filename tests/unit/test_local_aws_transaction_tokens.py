"""The dev stack's moto honours TransactWriteItems' ClientRequestToken as DynamoDB does."""

from __future__ import annotations

import io
import json
from typing import Any

from devstack.aws import with_transaction_tokens


def _call(app: Any, body: dict[str, Any], target: str = "DynamoDB_20120810.TransactWriteItems") -> bytes:
    raw = json.dumps(body).encode()
    environ = {"HTTP_X_AMZ_TARGET": target, "CONTENT_LENGTH": str(len(raw)), "wsgi.input": io.BytesIO(raw)}
    statuses: list[str] = []
    content = b"".join(app(environ, lambda status, headers, *_: statuses.append(status)))
    assert statuses == ["200 OK"]
    return content


def test_a_repeated_token_gets_the_first_answer_without_running_again() -> None:
    runs: list[bytes] = []

    def moto(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        runs.append(environ["wsgi.input"].read())
        start_response("200 OK", [("Content-Type", "application/x-amz-json-1.0")])
        return [f'{{"run": {len(runs)}}}'.encode()]

    app = with_transaction_tokens(moto)
    first = _call(app, {"ClientRequestToken": "t1", "TransactItems": []})
    assert _call(app, {"ClientRequestToken": "t1", "TransactItems": []}) == first == b'{"run": 1}'
    assert _call(app, {"ClientRequestToken": "t2", "TransactItems": []}) == b'{"run": 2}'
    # Other operations, and transactions without a token, always run.
    assert _call(app, {"TransactItems": []}) == b'{"run": 3}'
    assert _call(app, {"Key": {}}, target="DynamoDB_20120810.PutItem") == b'{"run": 4}'
    assert len(runs) == 4 and json.loads(runs[0])["ClientRequestToken"] == "t1"
