"""A loopback proxy in front of moto server or dynalite that injects the faults of a real network and of
a busy AWS, at a seeded random rate or aimed at the Nth call of one operation.

Kinds:
- throttle: DynamoDB ThrottlingException / ProvisionedThroughputExceededException (400, JSON), S3 503 SlowDown
  (XML);
- error500: an internal error (500);
- drop_before: the connection closes before the request reaches the server;
- drop_after: the server acts, then the connection closes without an answer (the answer is lost);
- truncate: the headers announce the full Content-Length, the body stops halfway;
- corrupt: one byte of the body flipped, the server's checksum header (x-amz-crc32, x-amz-checksum-*) kept,
  so a client that checks can tell.
Randomly, truncate and corrupt are aimed only at answers they can apply to (a body; for corrupt, a
checksum header: over TLS an unchecked flip cannot happen); elsewhere the answer is lost instead (drop_after).
"""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from dataclasses import dataclass

from tests.support.forwarding_proxy import Answer, ForwardingProxy, Reply, Request

KINDS = ("throttle", "error500", "drop_before", "drop_after", "truncate", "corrupt")
_DDB_JSON = [("Content-Type", "application/x-amz-json-1.0")]
_S3_XML = [("Content-Type", "application/xml")]


@dataclass
class Aim:
    kind: str
    operation: re.Pattern[str]  # searched in Request.operation: "CreateTable", "GET /bucket/key?..."
    nth: int  # the Nth matching call gets the fault ...
    times: int  # ... and so do the next times-1 ones


class FaultProxy(ForwardingProxy):
    def __init__(self, upstream: str, rate: float = 0.0, seed: int = 0, kinds: tuple[str, ...] = KINDS) -> None:
        super().__init__(upstream)
        unknown = set(kinds) - set(KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}")
        self.rate, self.kinds = rate, kinds
        self.injected: Counter[str] = Counter()  # kind -> faults injected
        self.calls = 0
        self._random = random.Random(seed)
        self._aims: list[Aim] = []
        self._seen: Counter[int] = Counter()  # aim index -> matching calls so far
        self._lock = threading.Lock()

    def aim(self, kind: str, operation: str, nth: int = 1, times: int = 1) -> FaultProxy:
        """Inject `kind` on the Nth call from now (and `times`-1 after it) whose operation matches the regex."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}")
        self._aims.append(Aim(kind, re.compile(operation), nth, times))
        return self

    def _choose(self, request: Request) -> str | None:
        with self._lock:
            self.calls += 1
            firing = None
            for index, aim in enumerate(self._aims):  # every aim counts its calls, the first firing one wins
                if aim.operation.search(request.operation):
                    self._seen[index] += 1
                    if firing is None and aim.nth <= self._seen[index] < aim.nth + aim.times:
                        firing = aim.kind
            if firing is not None:
                return firing
            if self.rate and self._random.random() < self.rate:
                return self._random.choice(self.kinds)
            return None

    def _count(self, kind: str) -> None:
        with self._lock:
            self.injected[kind] += 1

    def serve(self, request: Request, send: Answer) -> None:
        kind = self._choose(request)
        dynamodb = "X-Amz-Target" in request.headers
        if kind == "throttle":
            send(_throttle(dynamodb, self._random.random() < 0.5))
        elif kind == "error500":
            send(_internal_error(dynamodb))
        elif kind == "drop_before":
            send.drop()
        if kind in ("throttle", "error500", "drop_before"):
            self._count(kind)
            return
        reply = self.forward(request)
        checked = any(k.lower() == "x-amz-crc32" or k.lower().startswith("x-amz-checksum-")
                      for k, _value in reply.headers)
        if kind in ("truncate", "corrupt") and (len(reply.body) < 2 or (kind == "corrupt" and not checked)):
            kind = "drop_after"
        if kind is None:
            send(reply)
            return
        self._count(kind)
        if kind == "drop_after":
            send.drop()
        elif kind == "truncate":
            send(reply, cut=len(reply.body) // 2)
        else:
            at = self._random.randrange(len(reply.body))
            body = bytearray(reply.body)
            body[at] ^= 0x01
            send(Reply(reply.status, reply.headers, bytes(body)))

    def __enter__(self) -> FaultProxy:
        super().__enter__()
        return self


def _throttle(dynamodb: bool, provisioned: bool) -> Reply:
    if not dynamodb:
        return Reply(503, _S3_XML, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code>"
                                   b"<Message>Please reduce your request rate.</Message></Error>")
    code = "ProvisionedThroughputExceededException" if provisioned else "ThrottlingException"
    return Reply(400, _DDB_JSON, (f'{{"__type":"com.amazonaws.dynamodb.v20120810#{code}",'
                                  '"message":"Rate of requests exceeds the allowed throughput."}').encode())


def _internal_error(dynamodb: bool) -> Reply:
    if dynamodb:
        return Reply(500, _DDB_JSON, b'{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError",'
                                     b'"message":"Internal server error"}')
    return Reply(500, _S3_XML, b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>InternalError</Code>"
                               b"<Message>We encountered an internal error. Please try again.</Message></Error>")
