"""EMR steps that end: moto runs RunJobFlow and ListSteps but never a step (its first step stays RUNNING and the
others PENDING for ever), so `SimulatedSteps` wraps the real moto EMR client and rewrites only the State (and
timeline) of the steps ListSteps returns; every other call goes to moto."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


class SimulatedSteps:
    """The real moto EMR client, except that ListSteps reports `outcomes` from poll `after` on.

    `outcomes` maps a table to the state of each attempt, oldest first; the last one repeats."""

    def __init__(self, real: Any, outcomes: dict[str, list[str]], after: int = 2) -> None:
        self.real, self.outcomes, self.after, self.polls = real, outcomes, after, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def get_paginator(self, name: str) -> Any:
        paginator = self.real.get_paginator(name)
        if name != "list_steps":
            return paginator
        outer = self

        class Rewriting:
            def paginate(self, **kwargs: Any) -> Any:
                outer.polls += 1
                for page in paginator.paginate(**kwargs):
                    if outer.polls >= outer.after:
                        steps = page.get("Steps", [])
                        tables = [step["Config"]["Args"][1] for step in steps]
                        for n, step in enumerate(steps):  # newest first: attempt = older steps of the table
                            table = tables[n]
                            attempt = tables[n + 1:].count(table)
                            states = outer.outcomes.get(table)
                            state = states[min(attempt, len(states) - 1)] if states else None
                            if state:
                                step["Status"]["State"] = state
                                step["Status"]["Timeline"]["EndDateTime"] = datetime.now(UTC)
                                if state == "FAILED":
                                    step["Status"]["FailureDetails"] = {"Message": "simulated: step failed"}
                    yield page

        return Rewriting()
