"""How long an object lock may hold a backup (retention.lock_until): never past the earliest moment the retention
policy could delete it, for any policy, backup time and later history of at most one backup per UTC day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import (
    Backup,
    Policy,
    decide,
    lock_until,
)

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
DAY_S = 86400

policies = st.builds(Policy, keep_last=st.integers(0, 6), keep_daily=st.integers(0, 10),
                     keep_weekly=st.integers(0, 6), keep_monthly=st.integers(0, 12),
                     max_age_days=st.none() | st.integers(1, 60)).filter(
    lambda p: p.keep_last or p.keep_daily or p.keep_weekly or p.keep_monthly)


@st.composite
def histories(draw: st.DrawFn) -> tuple[Policy, Backup, list[Backup], datetime]:
    """A policy, a backup, the table's other backups (one per UTC day at most, never on the backup's own day) and a
    `now` after the backup, often within a day of the lock's end, where a bound too late would show."""
    policy = draw(policies)
    day = draw(st.integers(0, 700))
    taken = EPOCH + timedelta(days=day, seconds=draw(st.integers(0, DAY_S - 1)))
    gaps = draw(st.sets(st.integers(-40, 120)))  # the days without a backup: most nights back up
    others = [Backup("orders", f"other-{o}", EPOCH + timedelta(days=day + o, seconds=draw(st.integers(0, DAY_S - 1))),
                     True) for o in range(-40, 121) if o and o not in gaps]
    near_lock = lock_until(policy, taken) + timedelta(seconds=draw(st.integers(-DAY_S, DAY_S)))
    now = max(taken, draw(st.sampled_from([near_lock, taken + timedelta(seconds=draw(st.integers(0, 130 * DAY_S)))])))
    return policy, Backup("orders", "this", taken, True), others, now


@settings(max_examples=600, deadline=None)
@given(histories())
def test_the_lock_ends_before_the_policy_could_delete_the_backup(
        history: tuple[Policy, Backup, list[Backup], datetime]) -> None:
    policy, backup, others, now = history
    (decision,) = [d for d in decide([backup, *others], policy, now) if d.backup is backup]
    if decision.delete:
        assert now >= lock_until(policy, backup.taken_at), decision.reasons


@settings(max_examples=300, deadline=None)
@given(policies, st.integers(0, 700 * DAY_S))
def test_the_lock_lasts_at_least_the_days_the_policy_keeps_a_nightly_backup_for_sure(policy: Policy,
                                                                                     seconds: int) -> None:
    taken = EPOCH + timedelta(seconds=seconds)
    held = lock_until(policy, taken) - taken
    daily = min(policy.keep_daily - 1, policy.max_age_days or policy.keep_daily) if policy.keep_daily else 0
    assert held > timedelta(days=max(policy.keep_last - 1, daily, 0)) - timedelta(minutes=5)


def test_a_week_of_dailies_locks_each_backup_until_it_leaves_the_seventh_day() -> None:
    taken = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)

    assert lock_until(Policy(keep_daily=7, keep_monthly=12), taken) == datetime(2026, 11, 27, tzinfo=UTC)
    assert lock_until(Policy(keep_daily=7, max_age_days=3), taken) == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    # keep_last counts backups, not days: the lock holds until that many later days could each have brought one.
    assert lock_until(Policy(keep_last=3), taken) == datetime(2026, 11, 22, 23, 55, tzinfo=UTC)


def test_a_newer_backup_dated_within_the_clock_skew_already_counts() -> None:
    taken = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)
    next_night = Backup("orders", "next", datetime(2026, 11, 21, tzinfo=UTC), True)
    now = datetime(2026, 11, 20, 23, 56, tzinfo=UTC)  # the next backup is dated 4 minutes ahead of this clock

    decisions = decide([Backup("orders", "this", taken, True), next_night], Policy(keep_last=1), now)

    assert decisions[0].delete
    assert lock_until(Policy(keep_last=1), taken) <= now
