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
import urllib.request
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class DynamoDBProxy:
    def __init__(self, upstream: str, sizes: dict[str, tuple[int, int]] | None = None,
                 unprocessed: tuple[int, int] | None = None) -> None:
        self.upstream = upstream
        self.sizes = sizes or {}  # table name -> (TableSizeBytes, ItemCount) to report
        self.unprocessed_calls, self.keep = unprocessed or (0, 0)
        self.batch_calls = 0
        self.held_back = 0  # items answered as unprocessed
        self.samples: list[tuple[float, float]] = []  # (monotonic time, capacity units)
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body: bytes | None = self.rfile.read(int(self.headers["Content-Length"]))
                held: dict[str, list[Any]] = {}
                if self.headers.get("X-Amz-Target", "").endswith(".BatchWriteItem") and proxy._throttle_turn():
                    body, held = proxy._hold_back(body)
                if body is None:  # nothing left to forward
                    status, headers, payload = 200, {"Content-Type": "application/x-amz-json-1.0"}, b"{}"
                else:
                    skip = ("Host", "Content-Length")
                    request = urllib.request.Request(proxy.upstream + self.path, data=body, method="POST",
                                                     headers={k: v for k, v in self.headers.items() if k not in skip})
                    try:
                        with urllib.request.urlopen(request, timeout=30) as response:
                            status, headers, payload = response.status, response.headers, response.read()
                    except urllib.error.HTTPError as err:
                        status, headers, payload = err.code, err.headers, err.read()
                if held and status == 200:
                    doc = json.loads(payload)
                    doc.setdefault("UnprocessedItems", {}).update(held)
                    payload = json.dumps(doc).encode()
                proxy._record(payload)
                if status == 200 and self.headers.get("X-Amz-Target", "").endswith(".DescribeTable"):
                    payload = proxy._with_size(payload)
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in ("transfer-encoding", "connection", "content-length", "x-amz-crc32"):
                        self.send_header(key, value)
                self.send_header("x-amz-crc32", str(zlib.crc32(payload)))
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

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
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

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
