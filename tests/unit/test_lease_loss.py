"""LeaseLoss: asked until it names who took the lease, then remembered; an unreadable store is not a loss."""

from __future__ import annotations

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.lease_loss import LeaseLoss


def test_asked_until_lost_then_remembered_without_asking_again() -> None:
    answers = iter([None, None, "lease lost to run b", "never asked"])
    asked = []

    def ask() -> str | None:
        asked.append(1)
        return next(answers)

    loss = LeaseLoss(ask)
    assert [loss.gone(), loss.gone(), loss.gone(), loss.gone()] == [None, None, "lease lost to run b",
                                                                    "lease lost to run b"]
    assert len(asked) == 3


def test_a_store_that_cannot_be_read_is_not_a_loss_and_no_question_means_never_lost() -> None:
    calls = iter([OSError("disk"), HippolyteError("S3 timeout"), "lease lost to run c"])

    def ask() -> str | None:
        answer = next(calls)
        if isinstance(answer, Exception):
            raise answer
        return answer

    loss = LeaseLoss(ask)
    assert [loss.gone(), loss.gone(), loss.gone()] == [None, None, "lease lost to run c"]
    assert LeaseLoss(None).gone() is None
