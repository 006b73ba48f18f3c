"""Data Pipeline runs that end: moto creates, defines, activates and deletes pipelines but never runs one (and answers
QueryObjects with a bare HTTP 500), so `SimulatedInstances` wraps the real moto client and answers only QueryObjects
(sphere INSTANCE) and DescribeObjects with the run instances AWS would return; every other call goes to moto."""

from __future__ import annotations

from typing import Any


def instance(activity: str, status: str, start: str = "2026-11-22T01:00:00",
             error: str | None = None) -> dict[str, Any]:
    """One run instance of an activity, as DescribeObjects returns it."""
    fields = [{"key": "@componentParent", "refValue": activity}, {"key": "@status", "stringValue": status},
              {"key": "@scheduledStartTime", "stringValue": start}]
    if error:
        fields.append({"key": "errorMessage", "stringValue": error})
    return {"id": f"@{activity}_{start}", "name": f"@{activity}_{start}", "fields": fields}


class SimulatedInstances:
    """The real moto Data Pipeline client, except for the run instances: `polls` gives each poll's instances
    (the last one repeats)."""

    def __init__(self, real: Any, polls: list[list[dict[str, Any]]]) -> None:
        self.real, self.polls, self.answered = real, list(polls), 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def current(self) -> list[dict[str, Any]]:
        """The instances of the poll being answered."""
        return self.polls[min(self.answered, len(self.polls)) - 1]

    def get_paginator(self, name: str) -> Any:
        if name != "query_objects":
            return self.real.get_paginator(name)
        outer = self

        class Instances:
            def paginate(self, **_kwargs: Any) -> Any:
                outer.answered += 1
                yield {"ids": [i["id"] for i in outer.current()]}

        return Instances()

    def describe_objects(self, objectIds: list[str], **_kwargs: Any) -> dict[str, Any]:
        known = {i["id"]: i for i in self.current()}
        return {"pipelineObjects": [known[i] for i in objectIds if i in known], "hasMoreResults": False}
