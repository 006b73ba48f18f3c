"""A loopback proxy that holds every request for a fixed time before forwarding it, and counts requests by
operation: the stand-ins answer in well under a millisecond, where a controller talking to AWS in its own
region waits several, so per-request costs only show through this proxy (`make bench-fleet`)."""

from __future__ import annotations

import threading
import time
from collections import Counter

from tests.support.forwarding_proxy import Answer, ForwardingProxy, Request


class DelayingProxy(ForwardingProxy):
    def __init__(self, upstream: str, delay_s: float) -> None:
        super().__init__(upstream)
        self.delay_s = delay_s
        self.operations: Counter[str] = Counter()
        self._lock = threading.Lock()

    def serve(self, request: Request, send: Answer) -> None:
        with self._lock:
            self.operations[request.operation] += 1
        time.sleep(self.delay_s)  # the round trip a real endpoint adds; each request waits on its own thread
        send(self.forward(request))
