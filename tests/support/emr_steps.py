"""EMR steps that end: moto runs RunJobFlow and ListSteps but never a step (its first step stays RUNNING and the
others PENDING for ever), so `SimulatedSteps` wraps the real moto EMR client and rewrites only the State (and
timeline) of the steps ListSteps returns; every other call goes to moto. `export_output` writes what a finished step
would have left in S3."""

from __future__ import annotations

import gzip
import json
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


def export_output(s3: Any, output: str, lines_per_file: list[list[str]], compress: bool = False,
                  with_manifest: bool = True) -> dict[str, bytes]:
    """Write what DynamoDBExport writes into `output` (an s3:// folder URL); returns file name -> bytes."""
    bucket_name, prefix = output[len("s3://"):].split("/", 1)
    files: dict[str, bytes] = {}
    for n, lines in enumerate(lines_per_file):
        raw = "".join(line + "\n" for line in lines).encode()
        files[f"5f1c0a{n:02d}-part-{n:05d}"] = gzip.compress(raw) if compress else raw
    for name, body in files.items():
        s3.put_object(Bucket=bucket_name, Key=prefix + name, Body=body)
    if with_manifest:
        doc = {"name": "DynamoDB-export", "version": 3,
               "entries": [{"url": output + name, "mandatory": True} for name in files]}
        s3.put_object(Bucket=bucket_name, Key=prefix + "manifest", Body=json.dumps(doc).encode())
    s3.put_object(Bucket=bucket_name, Key=prefix + "_SUCCESS", Body=b"")
    return files
