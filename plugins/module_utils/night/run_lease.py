"""One backup run per account and region at a time: a lease in the destination, taken before anything changes.

Two runs of one account and region at once (cron and AWX, a slow night and the next) would boost the same
tables twice and put each other's capacity back. A run takes the lease first and gives it back last.

The lease lives at `<destination>/<account>/<region>/@hippolyte-lease/<generation>/lease.json` (`@` is not
in any table name, and the catalog reads only backup folders). Every lease is a new generation created
exclusively (S3: a conditional PUT, file://: O_EXCL), so of two runs asking at once exactly one wins:
- no generation, or the newest released (deleted) or expired: claim the next generation;
- the newest held by a live run: refused, naming the holder and until when (or waited for);
- held by a run whose controller ran on this machine and is gone (killed, crashed): taken over at once,
  since its process is known dead; elsewhere a lease is only taken over once it expires (or when the
  operator breaks it), because a controller on another machine cannot be seen.
A winner deletes the generations below its own, and releasing deletes one's own generation only.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.controller_watch import (
    Process,
    controller_chain,
    is_alive,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.names import check_account_id, check_region
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.storage.backup_store import BackupStore, join

LEASE_FOLDER = "@hippolyte-lease"
LEASE_FILE = "lease.json"
BOOT_ID = "/proc/sys/kernel/random/boot_id"


class LeaseHeld(HippolyteError):
    """Another live run holds the lease."""

    def __init__(self, message: str, holder: Lease) -> None:
        super().__init__(message)
        self.holder = holder


@dataclass(frozen=True)
class Lease:
    run_id: str
    holder: str  # who asked: the inventory host, as the role passes it
    taken_at: str
    expires_at: str
    generation: int
    nonce: str  # tells this lease from any other, also one of the same run id
    host: str  # the machine of the controller that took it
    boot_id: str | None
    controller_pid: int | None
    controller_start: str | None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Lease:
        try:
            return cls(**json.loads(data))
        except (ValueError, TypeError) as exc:
            raise HippolyteError(f"{where} is not a lease ({exc}); delete it if no run is going on") from exc

    def expired(self, now: datetime) -> bool:
        return datetime.fromisoformat(self.expires_at) <= now

    def controller_gone(self) -> bool:
        """True only when the controller ran on this very machine (this boot) and is known to be gone."""
        if self.host != socket.gethostname() or self.boot_id != _boot_id() or self.controller_pid is None:
            return False
        return not is_alive(Process(self.controller_pid, self.controller_start or ""))

    def describe(self) -> str:
        return f"run {self.run_id} of {self.holder} (on {self.host}) since {self.taken_at}, until {self.expires_at}"


@dataclass(frozen=True)
class Taken:
    lease: Lease
    url: str
    taken_over: Lease | None  # the lease this one replaced (expired, dead controller, or broken)
    how: str  # free | expired | controller gone | broken


def _boot_id() -> str | None:
    try:
        with open(BOOT_ID, encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return None


def lease_folder(account: str, region: str) -> str:
    check_account_id("account_id", account)
    check_region("region", region)
    return join(account, region, LEASE_FOLDER)


def _generations(store: BackupStore, folder: str) -> list[int]:
    return sorted(int(name) for name in store.list_children(folder) if name.isdigit())


def newest(store: BackupStore, folder: str) -> tuple[int, Lease | None]:
    """The newest generation and its lease (None: there is none, or it is being written this instant)."""
    generations = _generations(store, folder)
    if not generations:
        return 0, None
    key = join(folder, f"{generations[-1]:08d}", LEASE_FILE)
    data = store.read_bytes(key) if store.exists(key) else b""
    return generations[-1], Lease.from_bytes(data, f"{store.url.rstrip('/')}/{key}") if data else None


def _placeholder(generation: int) -> Lease:
    """The holder of a lease not readable yet: unknown but for its generation."""
    return Lease(run_id="(unknown)", holder="(unknown)", taken_at="", expires_at="", generation=generation,
                 nonce="", host="", boot_id=None, controller_pid=None, controller_start=None)


def _me() -> tuple[int | None, str | None]:
    chain = controller_chain()
    return (chain[-1].pid, chain[-1].start_time) if chain else (None, None)


def take(store: BackupStore, account: str, region: str, run_id: str, holder: str, expires_at: datetime,
         now: datetime, break_lease: bool = False) -> Taken:
    """Take the lease of `account`/`region` until `expires_at`, or raise LeaseHeld naming its holder."""
    if not run_id.strip():
        raise InputError("run_id", "is empty", "pass the run's id")
    if expires_at <= now:
        raise InputError("expires_at", f"{expires_at.isoformat()} is not in the future", "give the window's end")
    folder = lease_folder(account, region)
    generation, current = newest(store, folder)
    how = "free"
    if generation and current is None:
        raise LeaseHeld(f"{account}/{region}: another run is taking the lease at this moment; this run stops "
                        f"here (if this lasts, delete {store.url.rstrip('/')}/{folder}/{generation:08d})",
                        _placeholder(generation))
    if current is not None:
        if current.expired(now):
            how = "expired"
        elif current.controller_gone():
            how = "controller gone"
        elif break_lease:
            how = "broken"
        else:
            raise LeaseHeld(f"{account}/{region} is being backed up by {current.describe()}: this run stops "
                            "here. Wait for it (wait_s), or, if that run is dead, break its lease "
                            "(break_lease=true; the role's hippolyte_break_lease)", current)
    pid, start = _me()
    lease = Lease(run_id=run_id, holder=holder, taken_at=now.isoformat(), expires_at=expires_at.isoformat(),
                  generation=generation + 1, nonce=uuid.uuid4().hex, host=socket.gethostname(),
                  boot_id=_boot_id(), controller_pid=pid, controller_start=start)
    key = join(folder, f"{lease.generation:08d}", LEASE_FILE)
    if not store.claim(key, lease.to_bytes()):
        winner = newest(store, folder)[1]
        raise LeaseHeld(f"{account}/{region}: another run took the lease at the same moment"
                        + (f" ({winner.describe()})" if winner else "") + "; this run stops here",
                        winner or _placeholder(lease.generation))
    for older in _generations(store, folder):
        if older < lease.generation:
            store.delete_tree(join(folder, f"{older:08d}"))
    return Taken(lease, f"{store.url.rstrip('/')}/{key}", current if how != "free" else None, how)


def take_waiting(take_once: Callable[[], Taken], wait_s: float, poll_s: float = 15.0,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> Taken:
    """`take_once` until it succeeds or `wait_s` has passed (then the last refusal is raised)."""
    ends = clock() + wait_s
    while True:
        try:
            return take_once()
        except LeaseHeld:
            if clock() >= ends:
                raise
        sleep(max(0.0, min(poll_s, ends - clock())))


def release(store: BackupStore, account: str, region: str, nonce: str) -> bool:
    """Give back this run's lease (found by its nonce); False when it is not held by it any more."""
    folder = lease_folder(account, region)
    for generation in _generations(store, folder):
        key = join(folder, f"{generation:08d}", LEASE_FILE)
        if store.exists(key) and Lease.from_bytes(store.read_bytes(key), key).nonce == nonce:
            store.delete_tree(join(folder, f"{generation:08d}"))
            return True
    return False
