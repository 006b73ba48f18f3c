"""Checks of the backup role's after-the-night variables (retention, notification, drill), before AWS is touched.

Each problem is one sentence naming the variable and the fix; the role's first assert prefixes the host.
"""

from __future__ import annotations

import difflib
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    is_sns_topic_arn,
    is_valid_table_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy

DRILL_KEYS = ("table",)


def _unknown_keys(variable: str, value: dict[str, Any], known: tuple[str, ...]) -> list[str]:
    problems = []
    for key in value:
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f"did you mean {close[0]}?" if close else f"known keys are {', '.join(known)}"
        problems.append(f"{variable} has an unknown key {key!r}: {hint}")
    return problems


def retention_problems(retention: dict[str, Any]) -> list[str]:
    """The role's argument spec has checked the keys and their types; these are the policy's own rules."""
    if not retention:
        return []
    try:
        Policy(**{k: v for k, v in retention.items() if v is not None}).validate()
    except InputError as exc:
        return [f"hippolyte_retention.{exc.field}: {exc.problem}" + (f"; {exc.fix}" if exc.fix else "")]
    return []


def notify_problems(notify: dict[str, Any]) -> list[str]:
    if not notify:
        return []
    problems = []
    topic = notify.get("sns_topic_arn") or ""
    if topic and not is_sns_topic_arn(topic):
        problems.append(f"hippolyte_notify.sns_topic_arn {topic!r} is not an SNS topic ARN: "
                        "use arn:aws:sns:<region>:<12-digit account>:<topic name>")
    webhook = notify.get("webhook_file") or ""
    if webhook and not str(webhook).startswith("/"):
        problems.append(f"hippolyte_notify.webhook_file {webhook!r} is not an absolute path: give the file's "
                        "full path on the controller")
    if not topic and not webhook:
        problems.append("hippolyte_notify sends nothing: set sns_topic_arn, webhook_file, or both")
    return problems


def drill_problems(drill: Any) -> list[str]:
    if isinstance(drill, bool) or drill is None:
        return []
    if not isinstance(drill, dict):
        return [f"hippolyte_drill must be true, false or a dict, got {drill!r}: e.g. true"]
    # hippolyte_drill is bool or dict, so the argument spec cannot check its keys: this does.
    problems = _unknown_keys("hippolyte_drill", {k: v for k, v in drill.items() if k not in DRILL_KEYS}, DRILL_KEYS)
    table = drill.get("table")
    if table is not None and not is_valid_table_name(table):
        problems.append(f"hippolyte_drill.table {table!r} is not a DynamoDB table name: 3 to 255 of a-z A-Z 0-9 _ - .")
    return problems


def night_ops_problems(retention: dict[str, Any], notify: dict[str, Any], drill: Any) -> list[str]:
    """Every problem of the three variables, in one list (the role reports them all at once)."""
    return retention_problems(retention) + notify_problems(notify) + drill_problems(drill)
