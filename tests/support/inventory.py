"""The inventory the playbook tests run with: one local host against an endpoint, a destination, a window."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.conftest import REGION
from tests.support.windows import open_window


def inventory(path: Path, endpoint: str, destination: str, **host_vars: Any) -> Path:
    host = {"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "hippolyte_region": REGION, "hippolyte_endpoint_url": endpoint, "hippolyte_autoscaling": False,
            "hippolyte_window": open_window(), **host_vars}
    doc = {"all": {"vars": {"hippolyte_destination": destination, "hippolyte_engine": "local",
                            "hippolyte_report_dir": str(path.parent / "reports")},
                   "hosts": {"night": host}}}
    path.write_text(json.dumps(doc))
    return path
