"""Backups neither lost nor mistaken: time, origin and retention through the modules, on dynalite and file://.

Times are the real clock's (the modules run as Ansible runs them, in their own processes); every date a test
names is computed from it, so the tests hold on any day. Backups of a given past time are taken in-process with
`backup_table(started=...)`, the engine's own clock injection.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_name, folder_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import MANIFEST_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.foreign_backups import write_emr_folder
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items

ACCOUNT = "123456789012"
NIGHT_ID = "origins-night"


def _connection(dynalite: Any) -> dict[str, Any]:
    return {"region": REGION, "endpoint_url": dynalite.url}


def _night_backup(ddb: Any, dest: Path, table: str, started: datetime) -> str:
    """A backup a night took at `started`; its folder relative to the destination."""
    settings = ScanSettings(workers=1, account_id=ACCOUNT, night_id=NIGHT_ID, run_id=f"run-{folder_name(started)}")
    return backup_table(ddb, open_store(f"file://{dest}"), table, REGION, settings, started=started).folder


def _write_dump(ddb: Any, root: Path, table: str, items: list[dict[str, Any]]) -> str:
    """A dynamodump dump of `table` holding `items` (schema.json as DescribeTable answers, one Scan page)."""
    described = ddb.describe_table(TableName=table)
    (root / table / "data").mkdir(parents=True)
    (root / table / "schema.json").write_text(json.dumps(described, default=str))
    (root / table / "data" / "0001.json").write_text(json.dumps({"Items": items, "Count": len(items)}))
    return f"file://{root}"


def _plan(names: list[str], opens: datetime) -> dict[str, Any]:
    """The local part of a plan as dynamodb_backup_plan returns it: its night, its window, one lane."""
    tables = [{"name": n, "size_bytes": 10_000, "rcu": 100, "boost_rcu": 100, "boosted": False,
               "read_percentage": 0.5, "read_units_per_second": None, "start_offset_s": i, "duration_s": 2}
              for i, n in enumerate(names)]
    return {"night": {"id": NIGHT_ID, "at": opens.isoformat()}, "window_s": 3600,
            "window": {"starts_at": opens.isoformat(), "opens_at": opens.isoformat()},
            "clusters": [{"id": "c01", "engine": "local", "tables": tables}]}


def _folder_of(url: str) -> str:
    return url.split("/backups/", 1)[1]


def test_a_dump_imported_today_does_not_stand_in_for_tonights_backup(dynalite_server: Any, unique_name: str,
                                                                     tmp_path: Path) -> None:
    """Import a dump with `at: <today>`, then rerun the night with resume: the live table is backed up."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=100)
    put_items(ddb, unique_name, simple_items(20))
    dump = _write_dump(ddb, tmp_path / "dump", unique_name, list(simple_items(5)))
    opens = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    today = datetime.now(UTC).date().isoformat()

    task = {"destination": f"file://{tmp_path}/backups", "table": unique_name, "dynamodump": dump, "at": today,
            "account_id": ACCOUNT, "target": f"{unique_name}-dump", **_connection(dynalite_server)}
    imported = run_module("backup_restore", task)
    assert not imported.failed, imported.output[-3000:]
    filed = folder_time(imported.result["backup_url"].rsplit("/", 1)[-1])
    assert filed is not None and filed <= datetime.now(UTC)  # today means now, not 23:59:59 tonight
    time.sleep(1.1)
    again = run_module("backup_restore", task)  # `today` is another second now: the import is known by its source
    assert not again.failed, again.output[-3000:]
    assert again.result["backup_url"] == imported.result["backup_url"]

    rerun = run_module("dynamodb_scan_backup", {"plan": _plan([unique_name], opens), "resume": True,
                                                "destination": f"file://{tmp_path}/backups", "account_id": ACCOUNT,
                                                "autoscaling": False, **_connection(dynalite_server)})

    assert not rerun.failed, rerun.output[-3000:]
    assert rerun.result["resumed"] == []
    (table,) = rerun.result["tables"]
    assert table["status"] == "ok" and table["items"] == 20 and table["resumed"] is False
    again = run_module("dynamodb_scan_backup", {"plan": _plan([unique_name], opens), "resume": True,
                                                "destination": f"file://{tmp_path}/backups", "account_id": ACCOUNT,
                                                "autoscaling": False, **_connection(dynalite_server)})
    assert not again.failed and again.result["resumed"] == [unique_name]  # its own night's backup is kept
    assert again.result["tables"][0]["manifest_url"] == table["manifest_url"]


def _night_then_import(dynalite: Any, unique_name: str, tmp_path: Path) -> tuple[Any, str, str]:
    """A night's backup of the live table (20 items), then a dump (5 items) imported with `at: <today>`:
    (client, the night's folder, the import's folder), the import the newer."""
    ddb = client("dynamodb", dynalite.url)
    create_table(ddb, unique_name, rcu=100)
    put_items(ddb, unique_name, simple_items(20))
    night = _night_backup(ddb, tmp_path / "backups", unique_name,
                          datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10))
    dump = _write_dump(ddb, tmp_path / "dump", unique_name, list(simple_items(5)))
    imported = run_module("backup_restore", {"destination": f"file://{tmp_path}/backups", "table": unique_name,
                                             "dynamodump": dump, "at": datetime.now(UTC).date().isoformat(),
                                             "account_id": ACCOUNT, "target": f"{unique_name}-dump",
                                             **_connection(dynalite)})
    assert not imported.failed, imported.output[-3000:]
    return ddb, night, _folder_of(imported.result["backup_url"])


def test_keep_last_1_keeps_the_real_backup_and_the_import(dynalite_server: Any, unique_name: str,
                                                          tmp_path: Path) -> None:
    _ddb, night, imported = _night_then_import(dynalite_server, unique_name, tmp_path)

    pruned = run_module("backup_prune", {"destination": f"file://{tmp_path}/backups", "keep_last": 1,
                                         **_connection(dynalite_server)})

    assert not pruned.failed, pruned.output[-3000:]
    assert pruned.result["deleted"] == []
    actions = {b["folder"]: (b["action"], b["reasons"][0]) for b in pruned.result["backups"]}
    assert actions[night][0] == "keep" and "newest intact" in actions[night][1]
    assert actions[imported][0] == "keep" and "imported" in actions[imported][1]
    listed = {b["folder"]: b for b in run_module("backup_info", {"destination": f"file://{tmp_path}/backups",
                                                                 **_connection(dynalite_server)}).result["backups"]}
    assert listed[night]["origin"]["kind"] == "night" and listed[night]["origin"]["night"] == NIGHT_ID
    assert listed[imported]["origin"]["kind"] == "import"
    assert listed[imported]["origin"]["source"].endswith(f"/dump/{unique_name}")


def test_restore_without_at_takes_the_nights_backup_not_a_later_import(dynalite_server: Any, unique_name: str,
                                                                       tmp_path: Path) -> None:
    ddb, night, imported = _night_then_import(dynalite_server, unique_name, tmp_path)
    args = {"destination": f"file://{tmp_path}/backups", "table": unique_name, **_connection(dynalite_server)}

    restored = run_module("backup_restore", {**args, "target": f"{unique_name}-latest"})

    assert not restored.failed, restored.output[-3000:]
    assert _folder_of(restored.result["backup_url"]) == night
    assert len(scan_all(ddb, f"{unique_name}-latest")) == 20
    asked = run_module("backup_restore", {**args, "imports": True}, check=True)  # imports asked for: the newest
    assert _folder_of(asked.result["backup_url"]) == imported
    named = run_module("backup_restore", {**args, "at": imported.rsplit("/", 1)[-1]}, check=True)  # named
    assert _folder_of(named.result["backup_url"]) == imported


def test_every_spelling_of_one_day_restores_the_same_backup(dynalite_server: Any, unique_name: str,
                                                            tmp_path: Path) -> None:
    """Backups the evening before, early and late that day, early the next: a date is its whole day."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=100)
    put_items(ddb, unique_name, simple_items(3))
    day = (datetime.now(UTC) - timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    folders = {hours: _night_backup(ddb, tmp_path / "backups", unique_name, day + timedelta(hours=hours))
               for hours in (-1, 1, 22, 25)}
    args = {"destination": f"file://{tmp_path}/backups", "table": unique_name, **_connection(dynalite_server)}
    year, week, weekday = day.isocalendar()
    spellings = [day.strftime("%Y-%m-%d"), day.strftime("%Y%m%d"), f"{year}-W{week:02d}-{weekday}",
                 f"{day.year}-{day.timetuple().tm_yday:03d}"]

    chosen = {text: run_module("backup_restore", {**args, "at": text}, check=True) for text in spellings}

    for text, run in chosen.items():
        assert not run.failed, (text, run.output[-2000:])
        assert _folder_of(run.result["backup_url"]) == folders[22], text  # the newest of that day, whatever spelt
    since = run_module("backup_info", {"destination": f"file://{tmp_path}/backups", "since": spellings[2],
                                       "until": spellings[1], **_connection(dynalite_server)})
    assert [b["folder"] for b in since.result["backups"]] == [folders[1], folders[22]]
    late = run_module("backup_restore", {**args, "at": (datetime.now(UTC) + timedelta(days=1)).strftime("%Y%m%d")},
                      check=True)
    assert late.failed and "after now" in late.result["msg"]
    odd = run_module("backup_restore", {**args, "at": "20/11/2026"}, check=True)
    assert odd.failed and odd.result["msg"].startswith("at:") and "2026-W47-5" in odd.result["msg"]


def test_prune_keeps_the_intact_backup_when_the_newer_manifest_is_truncated(dynalite_server: Any, unique_name: str,
                                                                            tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=100)
    put_items(ddb, unique_name, simple_items(7))
    now = datetime.now(UTC).replace(microsecond=0)
    older = _night_backup(ddb, tmp_path / "backups", unique_name, now - timedelta(days=2))
    newer = _night_backup(ddb, tmp_path / "backups", unique_name, now - timedelta(days=1))
    manifest = tmp_path / "backups" / newer / MANIFEST_NAME
    manifest.write_bytes(manifest.read_bytes()[:200])  # a disk that filled up while it was written
    args = {"destination": f"file://{tmp_path}/backups", **_connection(dynalite_server)}

    pruned = run_module("backup_prune", {**args, "keep_last": 1})

    assert not pruned.failed, pruned.output[-3000:]
    assert pruned.result["deleted"] == []
    assert (tmp_path / "backups" / older / MANIFEST_NAME).exists()
    by_folder = {b["folder"]: b for b in pruned.result["backups"]}
    assert by_folder[newer]["intact"] is False and "manifest_error" in by_folder[newer]
    assert "damaged manifest" in by_folder[newer]["reasons"][0]
    restored = run_module("backup_restore", {**args, "table": unique_name, "target": f"{unique_name}-r"})
    assert not restored.failed, restored.output[-3000:]
    assert _folder_of(restored.result["backup_url"]) == older  # the damaged one is never "the newest"
    assert restored.result["counted_items"] == 7


def test_a_second_source_at_the_same_time_is_filed_beside_the_first_and_restored(
        dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    """Issue 24: adoptions known by source and digest; an `at` a nightly backup holds restores the adoption."""
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=100)
    put_items(ddb, unique_name, simple_items(4))
    at = (datetime.now(UTC) - timedelta(days=3)).replace(microsecond=0)
    night = _night_backup(ddb, tmp_path / "backups", unique_name, at)  # the nightly backup holds `at`
    first, second = list(simple_items(6)), list(simple_items(9))[6:]
    write_emr_folder(tmp_path / "source-a", first, legacy=False, markers=True)
    write_emr_folder(tmp_path / "source-b", second, legacy=False, markers=True)
    args = {"destination": f"file://{tmp_path}/backups", "table": unique_name, "schema_from": unique_name,
            "account_id": ACCOUNT, "at": at.isoformat(), **_connection(dynalite_server)}

    def adopt(source: str, target: str) -> Any:
        return run_module("backup_restore", {**args, "adopt_from": f"file://{tmp_path}/{source}",
                                             "target": f"{unique_name}-{target}"})

    a, b, a_again = adopt("source-a", "a"), adopt("source-b", "b"), adopt("source-a", "a")

    for run in (a, b, a_again):
        assert not run.failed, run.output[-3000:]
    folders = [_folder_of(r.result["backup_url"]) for r in (a, b, a_again)]
    assert folders[0] == night[:-len(folder_name(at))] + folder_name(at + timedelta(seconds=1))
    assert folders[1] == night[:-len(folder_name(at))] + folder_name(at + timedelta(seconds=2))
    assert folders[2] == folders[0] and not a_again.result["changed"]  # the same source is reused
    assert canonical(scan_all(ddb, f"{unique_name}-a")) == canonical(first)  # not the nightly backup's 4 items
    assert canonical(scan_all(ddb, f"{unique_name}-b")) == canonical(second)  # not A's items
    shutil.rmtree(tmp_path / "source-a")  # same place, other content: another import
    write_emr_folder(tmp_path / "source-a", list(simple_items(2)), legacy=False, markers=True)
    changed = adopt("source-a", "a2")
    assert not changed.failed, changed.output[-3000:]
    assert _folder_of(changed.result["backup_url"]).endswith(folder_name(at + timedelta(seconds=3)))
