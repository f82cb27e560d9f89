"""FlowStateRepository: single use, step conditions and expiry, identical for the fake and DynamoDB."""

from __future__ import annotations

import pytest

from orgconnect.domain.authorization import STATE_TTL_SECONDS, ProviderState, Step
from orgconnect.domain.ports import LinkTokenUnavailable, StateUnavailable, StepConflict
from orgconnect.domain.secrets import new_id, new_secret
from tests.contract.conftest import Backend
from tests.contract.helpers import new_request, seed


def test_read_start_returns_the_client_the_live_link_token_and_the_resumable_request(
    backend: Backend,
) -> None:
    s = seed(backend)
    before = backend.flow_state.read_start(s.client.client_id, s.link_digest, None)
    assert before.client == s.client
    assert (
        before.link_token is not None and before.link_token.service_account_id == s.account.service_account_id
    )
    assert before.link_token_used is False and before.resumable is None
    request = new_request(s, backend)
    backend.flow_state.start_request(request)
    after = backend.flow_state.read_start(None, s.link_digest, request.request_id)
    assert after.client is None
    assert after.link_token_used is True
    assert after.resumable == request


def test_a_link_token_is_consumed_once(backend: Backend) -> None:
    s = seed(backend)
    backend.flow_state.start_request(new_request(s, backend))
    with pytest.raises(LinkTokenUnavailable):
        backend.flow_state.start_request(new_request(s, backend))


def test_an_expired_link_token_is_refused_before_ttl_deletion(backend: Backend) -> None:
    s = seed(backend, link_ttl=60)
    backend.clock.now += 60
    assert backend.flow_state.read_start(None, s.link_digest, None).link_token is None
    with pytest.raises(LinkTokenUnavailable):
        backend.flow_state.start_request(new_request(s, backend))


def test_a_link_token_of_another_client_is_refused(backend: Backend) -> None:
    s = seed(backend)
    with pytest.raises(LinkTokenUnavailable):
        backend.flow_state.start_request(new_request(s, backend, client_id=new_id("cli")))
    backend.flow_state.start_request(new_request(s, backend))  # not consumed by the failed attempt


def test_requests_expire_at_expires_at(backend: Backend) -> None:
    s = seed(backend)
    request = new_request(s, backend)
    backend.flow_state.start_request(request)
    assert backend.flow_state.get_request(request.request_id) == request
    backend.clock.now = request.expires_at
    assert backend.flow_state.get_request(request.request_id) is None
    assert backend.flow_state.read_start(None, s.link_digest, request.request_id).resumable is None
    with pytest.raises(StepConflict):
        backend.flow_state.save_request(request.advanced(admin_proved=True), expected_step=Step.CHOOSE)


def test_save_request_needs_the_expected_step(backend: Backend) -> None:
    s = seed(backend)
    request = new_request(s, backend)
    backend.flow_state.start_request(request)
    moved = request.advanced(step=Step.CONSENT)
    backend.flow_state.save_request(moved, expected_step=Step.CHOOSE)
    with pytest.raises(StepConflict):
        backend.flow_state.save_request(moved, expected_step=Step.CHOOSE)
    assert backend.flow_state.get_request(request.request_id) == moved


def test_end_request_ends_once_and_drops_pending_credentials(backend: Backend) -> None:
    from tests.contract.helpers import at_consent

    s = seed(backend)
    request = at_consent(s, backend)
    backend.flow_state.end_request(request, outcome="denied")
    ended = backend.flow_state.get_request(request.request_id)
    assert ended is not None
    assert (ended.step, ended.outcome, ended.pending) == (Step.DONE, "denied", None)
    with pytest.raises(StepConflict):
        backend.flow_state.end_request(request, outcome="failed")


def _state(request_id: str, expires_at: int) -> ProviderState:
    return ProviderState(
        request_id, "zoom", "conferencing", "zoom_enterprise", "v1.k1.sealed", "b" * 64, expires_at
    )


def test_a_provider_state_is_consumed_once(backend: Backend) -> None:
    digest = new_secret()
    held = _state(new_id("arq"), backend.clock() + STATE_TTL_SECONDS)
    backend.flow_state.put_state(digest, held)
    assert backend.flow_state.consume_state(digest) == held
    with pytest.raises(StateUnavailable):
        backend.flow_state.consume_state(digest)


def test_an_expired_provider_state_is_refused(backend: Backend) -> None:
    digest = new_secret()
    backend.flow_state.put_state(digest, _state(new_id("arq"), backend.clock() + STATE_TTL_SECONDS))
    backend.clock.now += STATE_TTL_SECONDS
    with pytest.raises(StateUnavailable):
        backend.flow_state.consume_state(digest)
    with pytest.raises(StateUnavailable):
        backend.flow_state.consume_state(new_secret())
