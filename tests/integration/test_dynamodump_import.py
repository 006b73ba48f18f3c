"""Users of dynamodump move over: a dump written by the real dynamodump tool (from PyPI) is restored by
backup_restore through Ansible, item for item."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.items import every_type_item
from tests.support.tables import canonical, create_table, put_items, scan_all


def test_a_real_dynamodump_dump_restores(dynalite_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb = client("dynamodb", dynalite_server.url)
    create_table(ddb, unique_name, rcu=30)
    put_items(ddb, unique_name, [every_type_item(f"k{n}") for n in range(120)])
    dump = tmp_path / "dump"
    subprocess.run([str(Path(sys.executable).parent / "dynamodump"), "-m", "backup", "-r", REGION,
                    "--host", "127.0.0.1", "--port", dynalite_server.url.rsplit(":", 1)[1],
                    "--accessKey", "testing", "--secretKey", "stand-in-secret-key", "-s", unique_name,
                    "--dumpPath", str(dump), "--log", "ERROR"], check=True, env=os.environ, timeout=120)
    assert (dump / unique_name / "schema.json").exists()
    args = {"destination": f"file://{tmp_path}/backups", "table": unique_name, "dynamodump": f"file://{dump}",
            "at": "2026-11-01T00:00:00Z", "target": f"{unique_name}-moved", "region": REGION,
            "endpoint_url": dynalite_server.url}

    run = run_module("backup_restore", args)

    assert not run.failed, run.output[-3000:]
    assert run.result["counted_items"] == 120
    assert canonical(scan_all(ddb, f"{unique_name}-moved")) == canonical(scan_all(ddb, unique_name))
    assert list((tmp_path / "backups").rglob("hippolyte-manifest.json"))  # the dump is now an ordinary backup
    again = run_module("backup_restore", args)
    assert not again.failed and not again.result["changed"]
