"""The retention policy as a pure function: properties over generated catalogs, and its input checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import is_future
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Backup, Policy, decide

NOW = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)

backups = st.lists(
    st.builds(lambda table, hours, complete: Backup(table, f"{table}/{hours}", NOW - timedelta(hours=hours), complete,
                                                    NOW - timedelta(hours=hours)),
              st.sampled_from(["orders", "users", "events"]), st.integers(0, 24 * 500), st.booleans()),
    max_size=60, unique_by=lambda b: b.folder)
policies = st.builds(Policy, keep_last=st.integers(0, 5), keep_daily=st.integers(0, 10),
                     keep_weekly=st.integers(0, 6), keep_monthly=st.integers(1, 12),
                     max_age_days=st.none() | st.integers(1, 400), incomplete_grace_hours=st.integers(1, 72))


@settings(max_examples=300, deadline=None)
@given(backups, policies)
def test_never_deletes_a_tables_newest_complete_backup(catalog: list[Backup], policy: Policy) -> None:
    decisions = decide(catalog, policy, NOW)
    for table in {b.table for b in catalog if b.complete}:
        newest = max((b for b in catalog if b.complete and b.table == table), key=lambda b: b.taken_at)
        (decision,) = [d for d in decisions if d.backup is newest]
        assert not decision.delete and "always kept" in decision.reasons[0]


@settings(max_examples=300, deadline=None)
@given(backups, policies)
def test_keep_last_keeps_the_n_newest_complete_backups_of_each_table(catalog: list[Backup], policy: Policy) -> None:
    policy = Policy(keep_last=policy.keep_last or 1, keep_monthly=policy.keep_monthly,
                    incomplete_grace_hours=policy.incomplete_grace_hours)  # no age cap: keep_last is honoured whole
    deleted = {d.backup.folder for d in decide(catalog, policy, NOW) if d.delete}
    for table in {b.table for b in catalog}:
        newest = sorted((b for b in catalog if b.complete and b.table == table), key=lambda b: b.taken_at,
                        reverse=True)[: policy.keep_last]
        assert not deleted & {b.folder for b in newest}


@settings(max_examples=200, deadline=None)
@given(backups, policies)
def test_every_decision_has_a_reason_and_incomplete_ones_follow_the_grace(catalog: list[Backup],
                                                                          policy: Policy) -> None:
    for decision in decide(catalog, policy, NOW):
        assert decision.reasons
        if not decision.backup.complete:
            idle = NOW - decision.backup.taken_at
            assert decision.delete == (idle > timedelta(hours=policy.incomplete_grace_hours))


def test_generations_keep_the_newest_of_each_period() -> None:
    """Nightly backups for 70 days: 2 last + 3 days + 2 ISO weeks + 2 months."""
    catalog = [Backup("t", f"d{n}", NOW - timedelta(days=n, hours=11), True) for n in range(70)]
    kept = {d.backup.folder for d in decide(catalog, Policy(keep_last=2, keep_daily=3, keep_weekly=2,
                                                            keep_monthly=2), NOW) if not d.delete}
    # 20 Nov 2026 is a Friday: this week's newest is d0, last week's (ends Sun 15 Nov) is d5;
    # this month's newest is d0, October's newest is d20 (31 Oct).
    assert kept == {"d0", "d1", "d2", "d5", "d20"}


def test_max_age_caps_the_generations_but_not_the_newest() -> None:
    catalog = [Backup("t", f"d{n}", NOW - timedelta(days=n), True) for n in (40, 50, 60)]
    decisions = decide(catalog, Policy(keep_monthly=12, max_age_days=45), NOW)
    assert [d.delete for d in decisions] == [False, True, True]
    assert "older than max_age_days" in decisions[1].reasons[0]


def test_a_freshly_written_old_incomplete_folder_is_kept() -> None:
    """A folder named three days ago whose writer wrote a part an hour ago is still being written."""
    busy = Backup("t", "busy", NOW - timedelta(days=3), False, NOW - timedelta(hours=1))
    (decision,) = decide([busy], Policy(keep_last=1, incomplete_grace_hours=24), NOW)
    assert not decision.delete and "grace" in decision.reasons[0]


@pytest.mark.parametrize(("policy", "field"), [
    (Policy(), "keep_last"),
    (Policy(keep_last=-1, keep_daily=1), "keep_last"),
    (Policy(keep_daily=1, max_age_days=0), "max_age_days"),
    (Policy(keep_daily=1, incomplete_grace_hours=0), "incomplete_grace_hours"),
])
def test_bad_policies_are_refused(policy: Policy, field: str) -> None:
    with pytest.raises(InputError) as err:
        decide([], policy, NOW)
    assert err.value.field == field


# Every kind of folder a destination can hold, dated around `now` so that clock skew is exercised too.
KINDS = ("intact", "damaged", "incomplete", "in-progress", "imported")


def _folder(table: str, minutes: int, kind: str) -> Backup:
    taken = NOW + timedelta(minutes=minutes)  # minutes > 0: dated after now (a clock ahead, a bad import)
    written = NOW - timedelta(minutes=5) if kind == "in-progress" else taken
    return Backup(table, f"{table}/{minutes}/{kind}", taken, complete=kind not in ("incomplete", "in-progress"),
                  last_write=written, intact=kind in ("intact", "imported"), imported=kind == "imported")


mixed_catalogs = st.lists(
    st.builds(_folder, st.sampled_from(["orders", "users"]),
              st.integers(-60 * 24 * 400, 60 * 24 * 3) | st.integers(-15, 15),  # days back, or minutes of skew
              st.sampled_from(KINDS)),
    max_size=40, unique_by=lambda b: b.folder)


def _counted(backup: Backup, now: datetime) -> bool:
    """What the policy counts: intact night backups not dated after now beyond the clock skew."""
    return backup.complete and backup.intact and not backup.imported and not is_future(backup.taken_at, now)


@settings(max_examples=500, deadline=None)
@given(mixed_catalogs, policies, st.integers(-10, 10))
def test_after_any_prune_the_newest_intact_backup_survives_and_nothing_outside_the_policy_goes(
        catalog: list[Backup], policy: Policy, skew_minutes: int) -> None:
    now = NOW + timedelta(minutes=skew_minutes)  # this controller's clock, off from the writers' by the skew
    decisions = decide(catalog, policy, now)
    deleted = {d.backup.folder for d in decisions if d.delete}
    for table in {b.table for b in catalog}:
        series = [b for b in catalog if b.table == table]
        intact = [b for b in series if b.complete and b.intact]
        if intact:  # of every kind, the newest intact folder of the table survives
            assert max(intact, key=lambda b: b.taken_at).folder not in deleted
        for backup in series:
            if backup.folder not in deleted:
                continue
            if not backup.complete:  # an incomplete folder goes only after its grace
                idle = now - max(backup.taken_at, backup.last_write or backup.taken_at)
                assert idle > timedelta(hours=policy.incomplete_grace_hours)
                continue
            # Only counted backups go, and only with keep_last (at least 1) counted ones newer that stay.
            assert _counted(backup, now)
            newer_kept = [b for b in series if _counted(b, now) and b.taken_at > backup.taken_at
                          and b.folder not in deleted]
            assert len(newer_kept) >= max(1, policy.keep_last)


def test_a_damaged_newer_manifest_does_not_make_the_intact_older_one_expendable() -> None:
    """The reported case: two nights, the newer manifest truncated, keep_last 1."""
    older = Backup("orders", "orders/older", NOW - timedelta(days=1), True, intact=True)
    damaged = Backup("orders", "orders/newer", NOW - timedelta(hours=1), True, intact=False)
    decisions = {d.backup.folder: d for d in decide([older, damaged], Policy(keep_last=1), NOW)}
    assert not decisions["orders/older"].delete
    assert "always kept" in decisions["orders/older"].reasons[0]
    assert not decisions["orders/newer"].delete and "damaged" in decisions["orders/newer"].reasons[0]


def test_an_import_dated_in_the_future_is_neither_the_newest_nor_removed() -> None:
    """The reported case: a dynamodump import filed at 23:59:59 today, keep_last 1, the night's real backup."""
    night = Backup("orders", "orders/night", NOW - timedelta(hours=10), True)
    earlier = Backup("orders", "orders/earlier", NOW - timedelta(days=1, hours=10), True)
    imported = Backup("orders", "orders/import", NOW + timedelta(hours=11), True, imported=True)
    decisions = {d.backup.folder: d for d in decide([earlier, night, imported], Policy(keep_last=1), NOW)}
    assert [f for f, d in decisions.items() if d.delete] == ["orders/earlier"]
    assert "always kept" in decisions["orders/night"].reasons[0]
    assert "after now" in decisions["orders/import"].reasons[0]
    present = Backup("orders", "orders/import", NOW - timedelta(hours=1), True, imported=True)
    decisions = {d.backup.folder: d for d in decide([earlier, night, present], Policy(keep_last=1), NOW)}
    assert not decisions["orders/import"].delete and "imported" in decisions["orders/import"].reasons[0]
    assert "always kept" in decisions["orders/night"].reasons[0]
