# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Whether a run's lease is lost, asked before each piece of work starts and remembered once it is known."""

from __future__ import annotations

from collections.abc import Callable

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError


class LeaseLoss:
    """Asks `lease_lost` (who took the run's lease, or None while it is the run's own) until it names someone;
    from then on nothing may start. A store that cannot be read now is not a loss: the lease keeper's margin allows
    it, and giving the lease back at the end tells."""

    def __init__(self, lease_lost: Callable[[], str | None] | None) -> None:
        self._ask = lease_lost
        self.lost: str | None = None

    def gone(self) -> str | None:
        if self.lost is None and self._ask is not None:
            try:
                self.lost = self._ask()
            except (HippolyteError, OSError):
                return None
        return self.lost
