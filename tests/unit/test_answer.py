"""_model/answer: a task's answer is a value: it succeeds with no warnings unless told, and cannot be changed
after the task made it (the module reads it once to end)."""

from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.answer import Answer


def test_an_answer_succeeds_with_no_warnings_unless_told() -> None:
    answer = Answer({"changed": False})
    assert (answer.failed, answer.warnings) == (False, ())
    failed = Answer({"msg": "no"}, failed=True, warnings=("first", "second"))
    assert failed.failed and failed.warnings == ("first", "second")


def test_an_answer_cannot_be_changed_once_made() -> None:
    answer = Answer({"changed": True})
    with pytest.raises(dataclasses.FrozenInstanceError):
        answer.failed = True  # type: ignore[misc]
    assert answer == Answer({"changed": True}) and answer != Answer({"changed": True}, failed=True)
