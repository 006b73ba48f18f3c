"""Parallel BatchWriteItem that never drops an item.

Producers put batches of up to 25 PutRequests and 16 MB (UTF-8 JSON, see raw_batch_write.py) on a bounded queue,
so memory stays flat; writer threads send them and put back whatever DynamoDB leaves unprocessed, with
exponential backoff and jitter, until it is written. Only when no item at all could be written for
`stall_timeout_s` does it give up, and then it says exactly how many items are missing.
"""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import raise_if_stopped
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, is_error

BATCH_SIZE = 25  # BatchWriteItem's limit of items per request
# BatchWriteItem's limit of 16 MB per request, less room for the envelope around the requests (table name,
# brackets, commas). Items in DynamoDB JSON can be 4 times their 400 KB billed size (numbers in lists), so 25
# legal items can make a request of 30 MB: a batch is also cut where its JSON would pass this.
BATCH_BYTES = 16 * 1024 * 1024 - 64 * 1024
THROTTLE_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                  "InternalServerError", "ServiceUnavailable")

# send(table, put requests) -> the put requests DynamoDB left unprocessed
Send = Callable[[str, list[bytes]], list[bytes]]


@dataclass
class WriteStats:
    written: int = 0
    retried_items: int = 0
    throttled_calls: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, written: int, retried: int, throttled: int = 0) -> None:
        with self.lock:
            self.written += written
            self.retried_items += retried
            self.throttled_calls += throttled


class StalledError(HippolyteError):
    pass


class ItemRefused(HippolyteError):
    """DynamoDB refused one item on its own (ValidationException); the rest of its batch was still written."""


class BatchWriter:
    def __init__(self, send: Send, table: str, workers: int = 8, stall_timeout_s: float = 300.0,
                 base_delay_s: float = 0.05, max_delay_s: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep, stop: threading.Event | None = None,
                 batch_bytes: int = BATCH_BYTES) -> None:
        self.send, self.table, self.workers, self.batch_bytes = send, table, workers, batch_bytes
        self.stop = stop  # set: producers and writers stop at their next batch, raising Cancelled
        self.stall_timeout_s, self.base_delay_s, self.max_delay_s = stall_timeout_s, base_delay_s, max_delay_s
        self._sleep = sleep
        self.stats = WriteStats()
        self._queue: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=workers * 4)
        self._failure: list[BaseException] = []
        self._threads = [threading.Thread(target=self._run, name=f"write-{table}-{n}", daemon=True)
                         for n in range(workers)]

    def __enter__(self) -> BatchWriter:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def put_requests(self, requests: Iterable[bytes]) -> None:
        """Queue PutRequests (blocks while writers are behind); call from any number of producer threads.
        A batch holds at most BATCH_SIZE requests and BATCH_BYTES of JSON (a single larger one goes alone)."""
        batch: list[bytes] = []
        size = 0
        for request in requests:
            if batch and size + len(request) + 1 > self.batch_bytes:
                self._put(batch)
                batch, size = [], 0
            batch.append(request)
            size += len(request) + 1  # and its comma
            if len(batch) == BATCH_SIZE:
                self._put(batch)
                batch, size = [], 0
        if batch:
            self._put(batch)

    def _put(self, batch: list[bytes]) -> None:
        while not self._failure:
            raise_if_stopped(self.stop)
            try:
                self._queue.put(batch, timeout=0.5)
                return
            except queue.Full:
                continue
        raise self._failure[0]

    def close(self) -> None:
        """Wait for every queued item to be written; raises if any writer failed."""
        for _writer in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        if self._failure:
            raise self._failure[0]

    def _run(self) -> None:
        while True:
            batch = self._queue.get()
            if batch is None:
                return
            if self._failure:
                continue  # drain so producers are never blocked; the failure is already reported
            try:
                self._write(batch)
            except BaseException as exc:
                self._failure.append(exc)

    def _write(self, requests: list[bytes]) -> None:
        attempt = 0
        last_progress = time.monotonic()
        while requests:
            raise_if_stopped(self.stop)
            try:
                left = self.send(self.table, requests)
                throttled = 0
            except Exception as exc:
                if is_error(exc, "ValidationException"):
                    self._write_apart(requests, exc)
                    return
                if not is_error(exc, *THROTTLE_CODES):
                    raise
                left, throttled = requests, 1
            done = len(requests) - len(left)
            self.stats.add(done, len(left), throttled)
            if not left:
                return
            now = time.monotonic()
            if done:
                attempt, last_progress = 0, now
            elif now - last_progress > self.stall_timeout_s:
                raise StalledError(f"DynamoDB accepted none of {len(left)} items for {self.stall_timeout_s:.0f} s")
            requests = left
            attempt += 1
            # Full jitter keeps many writers from retrying in lockstep against the same partition.
            self._sleep(random.uniform(0, min(self.max_delay_s, self.base_delay_s * 2**attempt)))

    def _write_apart(self, requests: list[bytes], refusal: Exception) -> None:
        """DynamoDB refuses a whole batch for one of its items: two puts of one key (a backup made by another
        tool can hold both) or an item it cannot take. The halves are written one after the other, so the later
        put of a key still wins; an item refused on its own is named, after the rest of its batch is written."""
        if len(requests) == 1:
            text = requests[0].decode("utf-8", "replace")
            shown = text if len(text) <= 300 else text[:300] + "..."
            raise ItemRefused(f"DynamoDB refused an item of the backup: {refusal}; the item: {shown}") from refusal
        half = len(requests) // 2
        refused: list[ItemRefused] = []
        for part in (requests[:half], requests[half:]):
            try:
                self._write(part)
            except ItemRefused as exc:
                refused.append(exc)
        if refused:
            raise refused[0]
