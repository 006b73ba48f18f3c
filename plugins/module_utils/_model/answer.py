# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""What a module's task answers: the facts of its result, whether the task failed, and warnings to show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Answer:
    facts: dict[str, Any]  # for exit_json, or for fail_json when `failed` (then holding `msg`)
    failed: bool = False
    warnings: tuple[str, ...] = ()  # for module.warn, in order
