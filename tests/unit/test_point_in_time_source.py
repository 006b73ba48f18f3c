"""restoring/point_in_time: which source a restore to a given second uses (the table's recovery window, read from
moto, or a backup) and why; a point-in-time restore never writes into a table that exists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.point_in_time import (
    BACKUP,
    PITR,
    PointInTimeChoice,
    choose_source,
    restore_point_in_time,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import RestoreSettings
from tests.conftest import client
from tests.support.tables import create_table, table_names


@pytest.fixture
def ddb(moto_url: str) -> Any:
    return client("dynamodb", moto_url)


def with_recovery(ddb: Any, table: str) -> tuple[Any, Any]:
    """`table` with point-in-time recovery on; its window (earliest, latest) as DynamoDB reports it."""
    ddb.update_continuous_backups(TableName=table,
                                  PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    pitr = ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"][
        "PointInTimeRecoveryDescription"]
    return pitr["EarliestRestorableDateTime"], pitr["LatestRestorableDateTime"]


def test_a_second_inside_the_window_uses_recovery_and_its_opening_second_counts(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name)
    earliest, latest = with_recovery(ddb, unique_name)
    for moment in (latest, earliest.replace(microsecond=0)):
        choice = choose_source(ddb, unique_name, moment)
        assert choice.source == PITR, choice.reason
        assert "inside" in choice.reason


def test_a_second_before_the_window_uses_a_backup(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name)
    earliest, _unused = with_recovery(ddb, unique_name)
    choice = choose_source(ddb, unique_name, earliest.replace(microsecond=0) - timedelta(seconds=1))
    assert (choice.source, "outside" in choice.reason) == (BACKUP, True)


def test_recovery_off_or_another_place_use_a_backup(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name)
    moment = utc_now()
    assert choose_source(ddb, unique_name, moment).reason == f"point-in-time recovery is off on {unique_name}"
    with_recovery(ddb, unique_name)
    elsewhere = choose_source(ddb, unique_name, moment, same_place=False)
    assert (elsewhere.source, "another account or region" in elsewhere.reason) == (BACKUP, True)


def test_the_choice_reads_back_as_the_result_shows_it() -> None:
    moment = utc_now().replace(microsecond=0)
    assert PointInTimeChoice(moment, PITR, "why").as_dict() == {"moment": moment.isoformat(), "source": PITR,
                                                                "reason": "why"}


def test_an_existing_target_is_refused_before_anything_is_restored(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name)
    create_table(ddb, f"{unique_name}-new")
    choice = PointInTimeChoice(utc_now(), PITR, "inside")
    with pytest.raises(InputError) as refused:
        restore_point_in_time(ddb, unique_name, f"{unique_name}-new", choice, RestoreSettings())
    assert refused.value.field == "target"


def test_check_mode_says_what_it_would_restore_and_creates_nothing(ddb: Any, unique_name: str) -> None:
    create_table(ddb, unique_name)
    choice = PointInTimeChoice(utc_now(), PITR, "inside the window")
    result = restore_point_in_time(ddb, unique_name, f"{unique_name}-new", choice, RestoreSettings(), check_mode=True)
    assert result.msg.endswith(f"into {unique_name}-new: inside the window")
    assert f"{unique_name}-new" not in table_names(ddb)
