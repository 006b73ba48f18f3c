# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)
"""Filters that read a backup night's registered results (the logic is in module_utils/night/)."""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_report import night_report
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import (
    night_failures,
    night_tables,
    role_view,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_summary import night_summary, should_notify


class FilterModule:
    def filters(self):
        return {"night_tables": night_tables, "night_failures": night_failures,
                "role_view": role_view, "night_summary": night_summary, "should_notify": should_notify,
                "night_report": night_report}
