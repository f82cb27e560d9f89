"""The Organizational Unit OAuth authorization flow over HTTP (SPEC 3): its entry points.

The application layer of the authorize and provider-callback functions, split along its seams:
``flow_start`` (start, resume, choose, to the provider), ``flow_callback`` (the provider's
answer), ``flow_consent`` (consent and approval), ``flow_session`` (this browser's request and
how the flow ends). Each entry point takes the :class:`~orgconnect.domain.ports.FlowDependencies`
that ``orgconnect.runtime`` builds. Every way the flow can end reaches the integrator as an
RFC 6749 error with its state, except when the client or redirect_uri cannot be trusted (then a
page, never a redirect), and every ending clears the flow cookie.
"""

from __future__ import annotations

from orgconnect.web import flow_callback, flow_consent, flow_relink, flow_start
from orgconnect.web.flow_session import ending, page_for, response_for

start = ending(flow_start.start)
resume = ending(flow_start.resume)
choose = ending(flow_start.choose)
callback = ending(flow_callback.callback)
decide = ending(flow_consent.decide)
relink = ending(flow_relink.relink)

__all__ = ["callback", "choose", "decide", "page_for", "relink", "response_for", "resume", "start"]
