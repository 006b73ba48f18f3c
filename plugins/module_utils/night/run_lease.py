"""One backup run per account and region at a time: a lease in the destination, taken before anything changes.

Two runs of one account and region at once (cron and AWX, a slow night and the next) would boost the same
tables twice and put each other's capacity back. A run takes the lease first and gives it back last.

The lease lives at `<destination>/<account>/<region>/@hippolyte-lease/<generation>/lease.json` (`@` is not
in any table name, and the catalog reads only backup folders). Every lease is a new generation created
exclusively (S3: a conditional PUT, file://: an exclusive link), so of two runs asking at once exactly one wins:
- no generation, or the newest released (deleted) or expired: claim the next generation;
- the newest held by a live run: refused, naming the holder and until when (or waited for);
- held by a run whose controller ran on this machine and is gone (killed, crashed): taken over at once,
  since its process is known dead; elsewhere a lease is only taken over once it expires (or when the
  operator breaks it), because a controller on another machine cannot be seen.
A winner deletes the generations below its own, and releasing deletes one's own generation only.

A lease lives exactly as long as its run: it is taken for EXPIRY_MARGIN_S and renewed every RENEW_EVERY_S by a
keeper (`keep`, run in the background by the role) while the controller that took it lives, so it expires
EXPIRY_MARGIN_S after its run's last sign of life, however long the run lasts. A lease file is written whole or
not at all (an exclusive link of a complete temp file on file://, a conditional PUT on S3); one that is empty or
unreadable anyway (written by hand, or by an older version on a full disk) is broken: `break_lease` clears it, and
it expires EXPIRY_MARGIN_S after it was last written.

A run whose keeper could not renew for longer than the margin (the controller suspended, the store unreachable)
may find its lease taken over by the next run. `lost_to` says so and by whom: the local lanes start no table once
it does, and giving the lease back fails the night naming the holder, since tables the two runs both started may
have been backed up twice.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import (
    Process,
    controller_chain,
    is_alive,
    process_of,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.answer import Answer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import check_account_id, check_region
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, join
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines import local_lanes

TWICE = local_lanes.TWICE  # backup_lease says it too

LEASE_FOLDER = "@hippolyte-lease"
LEASE_FILE = "lease.json"
BOOT_ID = "/proc/sys/kernel/random/boot_id"
RENEW_EVERY_S = 60  # how often a live run's keeper renews its lease
# How long a lease holds after its last renewal (or a broken lease after it was written): ten missed renewals,
# so a slow store does not lose a live run its lease, and a dead run elsewhere blocks the next for minutes only.
EXPIRY_MARGIN_S = 600
KEEPER_STOP_WAIT_S = 10.0  # how long giving a lease back waits for its keeper to end


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
    renewed_at: str = ""  # the keeper's last renewal ("" until the first)
    keeper_pid: int | None = None  # the keeper renewing it, on `host`: stopped before the lease is given back
    keeper_start: str | None = None

    def to_bytes(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes, where: str) -> Lease:
        try:
            lease = cls(**json.loads(data))
            parse_instant(lease.expires_at, "expires_at")  # a lease whose expiry cannot be read is broken
            return lease
        except (ValueError, TypeError, InputError) as exc:
            raise HippolyteError(f"{where} is not a lease ({exc}); delete it if no run is going on") from exc

    def expired(self, now: datetime) -> bool:
        return parse_instant(self.expires_at, "expires_at") <= now

    def controller_gone(self) -> bool:
        """True only when the controller ran on this very machine (this boot) and is known to be gone."""
        if not self.on_this_machine() or self.controller_pid is None:
            return False
        return not is_alive(Process(self.controller_pid, self.controller_start or ""))

    def on_this_machine(self) -> bool:
        return self.host == socket.gethostname() and self.boot_id == _boot_id()

    def describe(self) -> str:
        renewed = f", renewed {self.renewed_at}" if self.renewed_at else ""
        return (f"run {self.run_id} of {self.holder} (on {self.host}) since {self.taken_at}{renewed}, "
                f"until {self.expires_at}")


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


def _key(folder: str, generation: int) -> str:
    return join(folder, f"{generation:08d}", LEASE_FILE)


def _read(store: BackupStore, key: str) -> Lease | None:
    """The lease at `key`; None when there is none, or it is empty or unreadable (broken)."""
    try:
        data = store.read_bytes(key) if store.exists(key) else b""
        return Lease.from_bytes(data, key) if data else None
    except (HippolyteError, OSError):
        return None


def newest(store: BackupStore, folder: str) -> tuple[int, Lease | None]:
    """The newest generation and its lease (None: there is none, or it is broken or being written this instant)."""
    generations = _generations(store, folder)
    if not generations:
        return 0, None
    return generations[-1], _read(store, _key(folder, generations[-1]))


def _written_at(store: BackupStore, folder: str, generation: int) -> datetime | None:
    """When anything of a generation was last written (its lease file, or a temp file of it); None: nothing."""
    return max((o.modified for o in store.list_objects(join(folder, f"{generation:08d}"))), default=None)


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
        how = _broken_lease(store, folder, generation, now, break_lease)
        current = _placeholder(generation)  # what the report can say of it
    elif current is not None:
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
    return Taken(lease, url_under(store.url, key), current if how != "free" else None, how)


def _broken_lease(store: BackupStore, folder: str, generation: int, now: datetime, break_lease: bool) -> str:
    """How a newest generation without a readable lease is taken over, or LeaseHeld while it may be another
    run's lease being written: it expires EXPIRY_MARGIN_S after it was last written."""
    written = _written_at(store, folder, generation)
    if break_lease:
        return "broken"
    if written is not None and now >= written + timedelta(seconds=EXPIRY_MARGIN_S):
        return "expired"
    url = url_under(store.url, _key(folder, generation))
    until = f"; it expires at {(written + timedelta(seconds=EXPIRY_MARGIN_S)).isoformat()}" if written else ""
    raise LeaseHeld(f"{url} is empty or unreadable (another run writing it this instant, or a broken lease"
                    f"{until}): this run stops here. If no run is going on, break it (break_lease=true; the "
                    "role's hippolyte_break_lease)", _placeholder(generation))


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


def renew(store: BackupStore, account: str, region: str, nonce: str, now: datetime,
          hold_s: float = EXPIRY_MARGIN_S) -> Lease | None:
    """Extend this run's lease (found by its nonce) to `now` plus `hold_s`, naming this process its keeper;
    None when it is not this run's any more (given back, expired and taken over, or broken)."""
    folder = lease_folder(account, region)
    generations = _generations(store, folder)
    current = _read(store, _key(folder, generations[-1])) if generations else None
    if current is None or current.nonce != nonce:
        return None
    me = process_of(os.getpid())
    renewed = replace(current, renewed_at=now.isoformat(), expires_at=(now + timedelta(seconds=hold_s)).isoformat(),
                      keeper_pid=me.pid if me else None, keeper_start=me.start_time if me else None)
    store.put_bytes(_key(folder, current.generation), renewed.to_bytes())  # replaced whole (rename, PUT)
    if _generations(store, folder)[-1] != current.generation:  # taken over while this renewal was written
        store.delete_tree(join(folder, f"{current.generation:08d}"))
        return None
    return renewed


def lost_to(store: BackupStore, account: str, region: str, nonce: str) -> str | None:
    """None while this run's lease (found by its nonce) is the newest generation; otherwise who took it over and
    when (`lease lost to ...`)."""
    folder = lease_folder(account, region)
    generations = _generations(store, folder)
    for generation in reversed(generations):
        lease = _read(store, _key(folder, generation))
        if lease is not None and lease.nonce == nonce:
            if generation == generations[-1]:
                return None
            break
    _generation, current = newest(store, folder)
    if current is None:
        return ("lease lost: taken over by another run" + (", which has given it back since" if not generations
                                                           else " (its lease is unreadable)"))
    return f"lease lost to {current.holder} (run {current.run_id} on {current.host}) at {current.taken_at}"


def keep(renew_once: Callable[[], Lease | None], controller_alive: Callable[[], bool],
         every_s: float = RENEW_EVERY_S, check_s: float = 1.0,
         sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> str:
    """Renew the lease every `every_s` while its controller lives (looked at every `check_s`); why it stopped:
    `controller gone` (the lease then expires by itself) or `lease lost` (given back, taken over, broken)."""
    while True:
        if not controller_alive():
            return "controller gone"
        try:
            if renew_once() is None:  # at once first: the lease names its keeper from the start
                return "lease lost"
        except Exception:  # a store that fails now (throttled, a network blip) is tried again next time
            pass  # the margin allows several missed renewals
        due = clock() + every_s
        while clock() < due:
            sleep(max(0.0, min(check_s, due - clock())))
            if not controller_alive():
                return "controller gone"


def release(store: BackupStore, account: str, region: str, nonce: str) -> bool:
    """Give back this run's lease (found by its nonce), its keeper stopped first so that no renewal writes it
    again; False when it is not held by this run any more."""
    folder = lease_folder(account, region)
    for generation in _generations(store, folder):
        lease = _read(store, _key(folder, generation))
        if lease is not None and lease.nonce == nonce:
            _stop_keeper(lease)
            store.delete_tree(join(folder, f"{generation:08d}"))
            return True
    return False


def _stop_keeper(lease: Lease, sleep: Callable[[float], None] = time.sleep) -> None:
    if lease.keeper_pid is None or not lease.on_this_machine():
        return
    keeper = Process(lease.keeper_pid, lease.keeper_start or "")
    if not is_alive(keeper):
        return
    os.kill(keeper.pid, signal.SIGTERM)
    ends = time.monotonic() + KEEPER_STOP_WAIT_S
    while is_alive(keeper) and time.monotonic() < ends:
        sleep(0.1)


@dataclass(frozen=True)
class LeaseRequest:
    """backup_lease's options: take (held), keep in the background (kept) or give back (released) a run's lease."""

    state: str  # held, kept, released
    run_id: str
    region: str
    holder: str | None = None  # unset: this machine's name
    account_id: str | None = None  # unset: the account of the credentials
    expires_at: str | None = None  # held: an ISO instant; unset: now + hold_s
    hold_s: int | None = None  # unset: EXPIRY_MARGIN_S
    renew_every_s: int = RENEW_EVERY_S
    wait_s: int = 0
    poll_interval: int = 15
    break_lease: bool = False
    nonce: str | None = None  # kept, released: the lease's, as held returned it

    def hold(self) -> int:
        """How long a lease holds after it is taken or renewed; checks renew_every_s too."""
        if self.hold_s is not None and self.hold_s < 1:
            raise InputError("hold_s", f"must be at least 1 second, got {self.hold_s}",
                             f"leave it unset ({EXPIRY_MARGIN_S})")
        if self.renew_every_s < 1:
            raise InputError("renew_every_s", f"must be at least 1 second, got {self.renew_every_s}",
                             f"leave it unset ({RENEW_EVERY_S})")
        return EXPIRY_MARGIN_S if self.hold_s is None else self.hold_s


def lease_expiry(request: LeaseRequest, now: datetime) -> datetime:
    """Until when a lease taken now holds: expires_at, else now plus the hold."""
    if request.expires_at is not None:
        return parse_instant(request.expires_at, "expires_at")
    return now + timedelta(seconds=request.hold())


def _as_facts(lease: Lease | None) -> dict[str, Any] | None:
    return asdict(lease) if lease else None


def lease_task(request: LeaseRequest, open_store: Callable[[], BackupStore], own_account: Callable[[], str],
               check_mode: bool = False, clock: Callable[[], datetime] = utc_now) -> Answer:
    """Bring the run's lease to `request.state`. `open_store` and `own_account` are called only once the request is
    known good (for held; kept checks its hold first too); `clock` gives the wall time leases are written with."""
    expires = lease_expiry(request, clock()) if request.state == "held" else None
    hold_s = request.hold() if request.state == "kept" else EXPIRY_MARGIN_S
    account = request.account_id or own_account()
    store = open_store()
    region = request.region
    folder = lease_folder(account, region)  # checks account_id and region before anything is read
    if request.state == "kept":
        return _kept(request, store, account, hold_s, check_mode, clock)
    if check_mode:
        current = newest(store, folder)[1]
        verb = "take" if request.state == "held" else "give back"
        return Answer({"changed": True, "account_id": account, "lease": _as_facts(current),
                       "msg": f"would {verb} the lease (check mode)"})
    if request.state == "released":
        if not release(store, account, region, _nonce(request)):  # taken over under this run: say by whom
            lost = lost_to(store, account, region, _nonce(request))
            return Answer({"msg": f"{lost}: {TWICE}", "field": "lease", "account_id": account, "lease": None,
                           "lost_to": lost}, failed=True)
        return Answer({"changed": True, "account_id": account, "lease": None, "lost_to": None,
                       "msg": "lease given back"})
    if expires is None:
        raise InputError("state", f"is {request.state!r}", "choose held, kept or released")
    holder = request.holder or socket.gethostname()
    try:
        taken = take_waiting(lambda: take(store, account, region, request.run_id, holder, expires, clock(),
                                          request.break_lease), request.wait_s, request.poll_interval)
    except LeaseHeld as exc:  # the answer, not an error of this module
        return Answer({"msg": str(exc), "field": "lease", "account_id": account,
                       "lease": _as_facts(exc.holder)}, failed=True)
    replacing = f", replacing {taken.taken_over.describe()}" if taken.taken_over else ""
    return Answer({"changed": True, "account_id": account, "lease": _as_facts(taken.lease), "url": taken.url,
                   "how": taken.how, "taken_over": _as_facts(taken.taken_over),
                   "msg": f"lease taken ({taken.how}){replacing}"})


def _nonce(request: LeaseRequest) -> str:
    if not request.nonce:
        raise InputError("nonce", f"state={request.state} needs the lease's nonce", "pass the nonce held returned")
    return request.nonce


def _kept(request: LeaseRequest, store: BackupStore, account: str, hold_s: int, check_mode: bool,
          clock: Callable[[], datetime]) -> Answer:
    """Renew this run's lease while its controller lives; answers why it stopped."""
    nonce, region = _nonce(request), request.region
    current = newest(store, lease_folder(account, region))[1]
    if current is None or current.nonce != nonce:
        lost = lost_to(store, account, region, nonce)
        return Answer({"changed": False, "account_id": account, "lease": None, "stopped": "lease lost",
                       "lost_to": lost, "msg": f"this run's lease is not held any more ({lost}): nothing to keep"})
    if check_mode:
        return Answer({"changed": True, "account_id": account, "lease": _as_facts(current),
                       "msg": "would keep the lease (check mode)"})
    stopped = keep(lambda: renew(store, account, region, nonce, clock(), hold_s),
                   lambda: not current.controller_gone(), request.renew_every_s)
    lost = lost_to(store, account, region, nonce)
    return Answer({"changed": True, "account_id": account, "lease": _as_facts(current), "stopped": stopped,
                   "lost_to": lost, "msg": f"stopped keeping the lease: {lost or stopped}"})
