"""The window's time zone: a wrong name and a machine without zone files are told apart."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.window import Window
from tests.support.ansible_run import ensure_collection_link


def test_an_unknown_zone_name_is_named() -> None:
    with pytest.raises(InputError, match="unknown time zone 'Mars/Olympus'") as raised:
        Window(timezone="Mars/Olympus").validate()
    assert raised.value.field == "window.timezone"


def test_a_machine_without_zone_files_is_told_to_install_tzdata(tmp_path: Path) -> None:
    # A minimal image: no system zone files (an empty search path) and no tzdata package for this Python.
    probe = (
        "import sys; sys.modules['tzdata'] = None\n"
        "from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.window import Window\n"
        "from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError\n"
        "try:\n    Window(timezone='UTC').validate()\nexcept InputError as error:\n    print(error)\n"
    )
    ran = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False, timeout=60,
                         env={"PYTHONPATH": str(ensure_collection_link()), "PYTHONTZPATH": str(tmp_path)})
    assert ran.returncode == 0, ran.stderr
    assert "no time zone database" in ran.stdout and "tzdata" in ran.stdout
    assert "unknown time zone" not in ran.stdout
