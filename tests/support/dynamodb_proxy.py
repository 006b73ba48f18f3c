"""An HTTP proxy in front of a DynamoDB stand-in, for what the stand-ins cannot do themselves.

- It records, per response, when it came and the capacity it consumed, to measure what a backup really
  drew from a table independently of the limiter's own bookkeeping.
- It can report table sizes in DescribeTable (TableSizeBytes, ItemCount): dynalite and moto always say 0,
  where AWS reports the size the planner works from.
- It can play DynamoDB under throttling, which no emulator does: for the first `calls` BatchWriteItem
  requests it forwards only the first `keep` items of each and answers the rest as UnprocessedItems.
The response's CRC32 header is recomputed whenever the body changes.
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from typing import Any

from tests.support.forwarding_proxy import Answer, ForwardingProxy, Reply, Request


class DynamoDBProxy(ForwardingProxy):
    def __init__(self, upstream: str, sizes: dict[str, tuple[int, int]] | None = None,
                 unprocessed: tuple[int, int] | None = None) -> None:
        super().__init__(upstream)
        self.sizes = sizes or {}  # table name -> (TableSizeBytes, ItemCount) to report
        self.unprocessed_calls, self.keep = unprocessed or (0, 0)
        self.batch_calls = 0
        self.held_back = 0  # items answered as unprocessed
        self.samples: list[tuple[float, float]] = []  # (monotonic time, capacity units)
        self._lock = threading.Lock()

    def serve(self, request: Request, send: Answer) -> None:
        held: dict[str, list[Any]] = {}
        body: bytes | None = request.body
        if request.operation == "BatchWriteItem" and self._throttle_turn():
            body, held = self._hold_back(request.body)
        if body is None:  # nothing left to forward
            reply = Reply(200, [("Content-Type", "application/x-amz-json-1.0")], b"{}")
        else:
            request.body = body
            reply = self.forward(request)
        payload = reply.body
        if held and reply.status == 200:
            doc = json.loads(payload)
            doc.setdefault("UnprocessedItems", {}).update(held)
            payload = json.dumps(doc).encode()
        self._record(payload)
        if reply.status == 200 and request.operation == "DescribeTable":
            payload = self._with_size(payload)
        headers = [(k, v) for k, v in reply.headers if k.lower() != "x-amz-crc32"]
        send(Reply(reply.status, [*headers, ("x-amz-crc32", str(zlib.crc32(payload)))], payload))

    def _record(self, payload: bytes) -> None:
        try:
            doc = json.loads(payload)
        except ValueError:
            return
        consumed = doc.get("ConsumedCapacity") if isinstance(doc, dict) else None
        if isinstance(consumed, dict):
            with self._lock:
                self.samples.append((time.monotonic(), float(consumed.get("CapacityUnits", 0))))

    def _throttle_turn(self) -> bool:
        with self._lock:
            self.batch_calls += 1
            return self.batch_calls <= self.unprocessed_calls

    def _hold_back(self, body: bytes) -> tuple[bytes | None, dict[str, list[Any]]]:
        doc = json.loads(body)
        sent = {t: r[: self.keep] for t, r in doc["RequestItems"].items() if r[: self.keep]}
        held = {t: r[self.keep:] for t, r in doc["RequestItems"].items() if r[self.keep:]}
        with self._lock:
            self.held_back += sum(len(r) for r in held.values())
        return (json.dumps({**doc, "RequestItems": sent}).encode() if sent else None), held

    def _with_size(self, payload: bytes) -> bytes:
        doc = json.loads(payload)
        size = self.sizes.get(doc["Table"]["TableName"])
        if size is None:
            return payload
        doc["Table"]["TableSizeBytes"], doc["Table"]["ItemCount"] = size
        return json.dumps(doc).encode()

    def __enter__(self) -> DynamoDBProxy:
        super().__enter__()
        return self

    def worst_window(self, seconds: float) -> float:
        """The most capacity consumed in any `seconds`-long window (sliding over every sample)."""
        samples = sorted(self.samples)
        worst, total, start = 0.0, 0.0, 0
        for end_time, units in samples:
            total += units
            while samples[start][0] < end_time - seconds:
                total -= samples[start][1]
                start += 1
            worst = max(worst, total)
        return worst
