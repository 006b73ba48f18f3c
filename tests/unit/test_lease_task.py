"""night/run_lease's lease_expiry and lease_task (what backup_lease does), on a file:// destination with a fixed
clock. The lease rules themselves (take-over, keeper, races) are tested in tests/integration/test_run_lease.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.run_lease import (
    EXPIRY_MARGIN_S,
    LeaseRequest,
    lease_expiry,
    lease_folder,
    lease_task,
    newest,
)

ACCOUNT = "111111111111"
REGION = "eu-west-1"
NOW = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)  # the injected clock: every lease is written and judged by it


class Destination:
    def __init__(self, store: BackupStore) -> None:
        self.store, self.opened = store, 0

    def open(self) -> BackupStore:
        self.opened += 1
        return self.store

    def task(self, check_mode: bool = False, **kw: Any) -> Any:
        request = LeaseRequest(**{"state": "held", "run_id": "night-1", "region": REGION, "account_id": ACCOUNT,
                                  "holder": "host-a", **kw})
        return lease_task(request, self.open, _no_account, check_mode, clock=lambda: NOW)

    def current(self) -> Any:
        return newest(self.store, lease_folder(ACCOUNT, REGION))[1]


def _no_account() -> str:
    raise AssertionError("account_id is given: the credentials' account is not asked")


@pytest.fixture
def destination(tmp_path: Path) -> Destination:
    return Destination(open_store(f"file://{tmp_path}/backups"))


def test_expiry_is_expires_at_or_now_plus_the_hold() -> None:
    assert lease_expiry(LeaseRequest("held", "r", REGION, expires_at="2026-01-01T05:00:00Z"), NOW) == datetime(
        2026, 1, 1, 5, tzinfo=UTC)
    assert lease_expiry(LeaseRequest("held", "r", REGION, hold_s=90), NOW) == NOW + timedelta(seconds=90)
    assert lease_expiry(LeaseRequest("held", "r", REGION), NOW) == NOW + timedelta(seconds=EXPIRY_MARGIN_S)


def test_held_takes_the_lease_with_the_clock_s_time_and_a_second_run_is_refused(destination: Destination) -> None:
    taken = destination.task(hold_s=300)
    assert not taken.failed and taken.facts["changed"] is True and taken.facts["how"] == "free"
    lease = taken.facts["lease"]
    assert (lease["holder"], lease["taken_at"]) == ("host-a", NOW.isoformat())
    assert lease["expires_at"] == (NOW + timedelta(seconds=300)).isoformat()
    assert taken.facts["msg"] == "lease taken (free)" and taken.facts["taken_over"] is None

    refused = destination.task(run_id="night-2", holder="host-b")
    assert refused.failed and refused.facts["field"] == "lease"
    assert refused.facts["lease"]["nonce"] == lease["nonce"] and "night-1" in refused.facts["msg"]


def test_released_gives_back_only_this_run_s_lease(destination: Destination) -> None:
    nonce = destination.task().facts["lease"]["nonce"]
    other = destination.task(state="released", nonce="not-this-run")
    assert other.failed and other.facts["field"] == "lease" and destination.current() is not None
    given = destination.task(state="released", nonce=nonce)
    assert not given.failed and given.facts == {"changed": True, "account_id": ACCOUNT, "lease": None,
                                                "lost_to": None, "msg": "lease given back"}
    assert destination.current() is None


def test_check_mode_takes_and_gives_back_nothing(destination: Destination) -> None:
    assert destination.task(check_mode=True).facts["msg"] == "would take the lease (check mode)"
    assert destination.current() is None
    nonce = destination.task().facts["lease"]["nonce"]
    dry = destination.task(check_mode=True, state="released", nonce=nonce)
    assert dry.facts["msg"] == "would give back the lease (check mode)" and dry.facts["lease"]["nonce"] == nonce
    assert destination.current() is not None


def test_kept_of_a_lease_this_run_no_longer_holds_stops_at_once(destination: Destination) -> None:
    destination.task()
    kept = destination.task(state="kept", nonce="not-this-run")
    assert not kept.failed and kept.facts["changed"] is False and kept.facts["stopped"] == "lease lost"
    lost = destination.task(state="kept", nonce="not-this-run", check_mode=True).facts["lost_to"]
    assert lost is not None and "run night-1" in lost


@pytest.mark.parametrize(("kw", "field"), [
    ({"hold_s": 0}, "hold_s"),
    ({"renew_every_s": 0}, "renew_every_s"),
    ({"expires_at": "soon"}, "expires_at"),
    ({"state": "kept", "nonce": "n", "hold_s": -1}, "hold_s"),
])
def test_bad_input_fails_before_the_destination_is_opened(destination: Destination, kw: dict[str, Any],
                                                          field: str) -> None:
    with pytest.raises(InputError) as raised:
        destination.task(**kw)
    assert raised.value.field == field and destination.opened == 0


def test_an_expiry_not_in_the_future_is_refused(destination: Destination) -> None:
    with pytest.raises(InputError) as raised:
        destination.task(expires_at=(NOW - timedelta(minutes=1)).isoformat())
    assert raised.value.field == "expires_at" and destination.current() is None
