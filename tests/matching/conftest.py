"""A dev stack of its own (the delegated-access one: real SQS event source, a callback receiver),
so linking Zoom to the demo OU here does not change what the delegated-access tests see."""

from tests.delegated.conftest import delegated_stack, receiver

__all__ = ["delegated_stack", "receiver"]
