# Copyright: Hippolyte for Ansible developers
# Apache License 2.0 (see LICENSE)
"""Filters that read a backup night's registered results (the logic is in module_utils/night/); each is documented
in the YAML file of its name beside this one."""

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_report import night_report
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_results import night_failures
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_summary import should_notify


class FilterModule:
    def filters(self):
        return {"night_failures": night_failures, "should_notify": should_notify, "night_report": night_report}
