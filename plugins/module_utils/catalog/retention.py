"""Retention: which backups a grandfather-father-son policy keeps, and why (a pure function of the catalog).

The policy counts, per table, only the intact backups nights took (manifest readable, its digest holding).
They are kept when among the `keep_last` newest, or the newest of one of the last `keep_daily` UTC days,
`keep_weekly` ISO weeks or `keep_monthly` months, counted back from now (a period without a backup keeps
nothing). `max_age_days` caps all of that, except that nothing of a table is removed unless `keep_last` (at
least 1) intact backups newer than it remain: the newest intact backup is never removed.

What the policy does not count it never removes: an import (removed only when named), a folder whose
manifest is damaged (kept for inspection), a folder dated after now (an anomaly: a clock ahead, a bad
import). An incomplete folder goes once neither its name's time nor its latest write is within
`incomplete_grace_hours`, so a folder a writer holds now is never touched.

`lock_until` is how long an S3 Object Lock may hold a backup without outlasting the policy: the earliest moment
`decide` could remove it, provided a table gets at most one backup per UTC day (what a nightly window that does
not span midnight UTC gives).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import CLOCK_SKEW, is_future

MIN_GRACE_HOURS = 1  # less could remove a folder between its claim and its first part


@dataclass(frozen=True)
class Policy:
    keep_last: int = 0
    keep_daily: int = 0
    keep_weekly: int = 0
    keep_monthly: int = 0
    max_age_days: int | None = None
    incomplete_grace_hours: int = 24

    def validate(self) -> None:
        counts = ("keep_last", "keep_daily", "keep_weekly", "keep_monthly")
        for name in counts:
            if getattr(self, name) < 0:
                raise InputError(name, f"must be 0 or more, got {getattr(self, name)}", "use 0 to turn the rule off")
        if not any(getattr(self, name) for name in counts):
            raise InputError("keep_last", "no retention rule is set, so only the newest backup of each table would "
                             "stay", "set at least one of keep_last, keep_daily, keep_weekly or keep_monthly")
        if self.max_age_days is not None and self.max_age_days < 1:
            raise InputError("max_age_days", f"must be at least 1, got {self.max_age_days}",
                             "leave it unset for no age limit")
        if self.incomplete_grace_hours < MIN_GRACE_HOURS:
            raise InputError("incomplete_grace_hours", f"must be at least {MIN_GRACE_HOURS}, got "
                             f"{self.incomplete_grace_hours}", "give running backups time to finish, e.g. 24")


@dataclass(frozen=True)
class Backup:
    table: Hashable  # what identifies one table's series, e.g. (account, region, table)
    folder: str
    taken_at: datetime  # UTC
    complete: bool  # its manifest is there
    last_write: datetime | None = None  # newest file in the folder; None: only the name's time is known
    intact: bool = True  # complete, and the manifest reads and holds its digest
    imported: bool = False  # brought in from elsewhere, not taken by a night


@dataclass(frozen=True)
class Decision:
    backup: Backup
    delete: bool
    reasons: tuple[str, ...]


def _days(now: datetime, count: int) -> list[Hashable]:
    return [(now - timedelta(days=n)).date() for n in range(count)]


def _weeks(now: datetime, count: int) -> list[Hashable]:
    return [(now - timedelta(weeks=n)).isocalendar()[:2] for n in range(count)]


def _months(now: datetime, count: int) -> list[Hashable]:
    total = now.year * 12 + now.month - 1
    return [divmod(total - n, 12) for n in range(count)]  # (year, month - 1)


# Generation rule -> (the period a backup falls in, the last N periods counted back from now).
_GENERATIONS: tuple[tuple[str, Callable[[datetime], Hashable], Callable[[datetime, int], list[Hashable]]], ...] = (
    ("keep_daily", lambda t: t.date(), _days),
    ("keep_weekly", lambda t: t.isocalendar()[:2], _weeks),
    ("keep_monthly", lambda t: divmod(t.year * 12 + t.month - 1, 12), _months),
)
_PERIOD_NAMES = {"keep_daily": "day", "keep_weekly": "ISO week", "keep_monthly": "month"}


def decide(backups: Sequence[Backup], policy: Policy, now: datetime) -> list[Decision]:
    """Keep or delete every backup, with the reasons; in the order given."""
    policy.validate()
    reasons: dict[int, list[str]] = {id(b): [] for b in backups}
    delete: set[int] = set()
    by_table: dict[Hashable, list[Backup]] = {}
    for backup in backups:
        if not backup.complete:
            _incomplete(backup, policy, now, reasons, delete)
        elif is_future(backup.taken_at, now):
            reasons[id(backup)].append(f"dated after now (beyond the {CLOCK_SKEW} clock skew): an anomaly, "
                                       "not counted, never removed by the policy")
        elif not backup.intact:
            reasons[id(backup)].append("damaged manifest: not counted as a backup, kept for inspection")
        elif backup.imported:
            reasons[id(backup)].append("imported, not taken by a night: not counted, removed only when named")
        else:
            by_table.setdefault(backup.table, []).append(backup)
    for series in by_table.values():
        series.sort(key=lambda b: b.taken_at, reverse=True)
        _complete(series, policy, now, reasons, delete)
    return [Decision(b, id(b) in delete, tuple(reasons[id(b)])) for b in backups]


def _incomplete(backup: Backup, policy: Policy, now: datetime, reasons: dict[int, list[str]],
                delete: set[int]) -> None:
    latest = max(backup.taken_at, backup.last_write or backup.taken_at)
    idle_hours = (now - latest).total_seconds() / 3600
    if idle_hours > policy.incomplete_grace_hours:
        delete.add(id(backup))
        reasons[id(backup)].append(f"incomplete, last written {idle_hours:.1f} h ago (grace "
                                   f"{policy.incomplete_grace_hours} h)")
    else:
        reasons[id(backup)].append(f"incomplete but written {idle_hours:.1f} h ago, within the "
                                   f"{policy.incomplete_grace_hours} h grace: it may still be in progress")


def _complete(series: list[Backup], policy: Policy, now: datetime, reasons: dict[int, list[str]],
              delete: set[int]) -> None:
    """`series`: one table's intact night backups, newest first."""
    for backup in series[: policy.keep_last]:
        reasons[id(backup)].append(f"keep_last: one of the {policy.keep_last} newest")
    for rule, period_of, last_periods in _GENERATIONS:
        wanted = set(last_periods(now, getattr(policy, rule)))
        seen: set[Hashable] = set()
        for backup in series:
            period = period_of(backup.taken_at)
            if period in wanted and period not in seen:
                seen.add(period)
                reasons[id(backup)].append(f"{rule}: newest of its {_PERIOD_NAMES[rule]}")
    guarded = max(1, policy.keep_last)  # never fewer intact backups newer than what is removed
    reasons[id(series[0])].insert(0, "newest intact backup of its table: always kept")
    for backup in series[guarded:]:
        kept_by = reasons[id(backup)]
        if policy.max_age_days is not None and now - backup.taken_at > timedelta(days=policy.max_age_days):
            kept_by[:] = [f"older than max_age_days ({policy.max_age_days})"]
            delete.add(id(backup))
        elif not kept_by:
            kept_by.append("kept by no rule")
            delete.add(id(backup))


def lock_until(policy: Policy, taken_at: datetime) -> datetime:
    """The latest retain-until date an object lock on a backup taken at `taken_at` (UTC) may have: no later than
    the earliest moment `decide` could delete that backup, whatever backups follow it, one per UTC day at most.

    `decide` removes a backup only when `max(1, keep_last)` newer intact ones exist (each on a later day: not
    before the start of the day that many days on), and then only past `max_age_days` or once no rule keeps it.
    As the only backup of its day it stays the newest of that day for the `keep_daily` days counted from it; the
    weekly and monthly rules are left out (a later day of the same week or month takes their place), so they,
    like `keep_last` with gaps between nights, may keep it longer than its lock: a lower bound.
    """
    day_start = datetime.combine(taken_at.date(), time(), taken_at.tzinfo)
    # The newest of those may be dated up to CLOCK_SKEW after now and still count.
    newer_exist = day_start + timedelta(days=max(1, policy.keep_last)) - CLOCK_SKEW
    if not policy.keep_daily:
        return newer_exist
    unkept = day_start + timedelta(days=policy.keep_daily)
    if policy.max_age_days is not None:
        unkept = min(unkept, taken_at + timedelta(days=policy.max_age_days))
    return max(newer_exist, unkept)
