"""AWS's documented evaluation of identity policies, for the actions and condition keys the collection uses.

moto evaluates neither IAM resources nor conditions, so the least-privilege test judges each recorded call
with this instead: an explicit Deny wins, else an Allow is needed; Action/NotAction and Resource/NotResource
with `*` and `?` wildcards (actions case-insensitive; an ARN compared segment by segment, the resource part
spanning `/` and `:`); the condition operators StringEquals, StringNotEquals, StringLike, StringNotLike,
ArnEquals, ArnLike, Bool and Null, each with IfExists, and the ForAnyValue / ForAllValues set prefixes.
Keys of one operator must all match (AND); the values of one key are alternatives (OR).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ContextValue = str | Sequence[str]


@dataclass(frozen=True)
class Request:
    action: str  # service:Action
    resource: str  # an ARN, or "*" for actions without a resource type
    context: Mapping[str, ContextValue] = field(default_factory=dict)


@lru_cache(maxsize=4096)
def _glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(f"^{body}$", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def like(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return bool(_glob(pattern, ignore_case).match(value))


def action_matches(pattern: str, action: str) -> bool:
    return like(pattern, action, ignore_case=True)


def arn_matches(pattern: str, arn: str) -> bool:
    """ARN patterns: `*` alone matches anything; else the six parts match each their own (the last spans `:`)."""
    if pattern == "*":
        return True
    want, have = pattern.split(":", 5), arn.split(":", 5)
    return len(want) == len(have) == 6 and all(like(w, h) for w, h in zip(want, have, strict=True))


def _listed(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _one(op: str, want: str, have: str) -> bool:
    if op in ("StringEquals", "StringNotEquals"):
        return want == have
    if op in ("StringLike", "StringNotLike"):
        return like(want, have)
    if op in ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike"):
        return arn_matches(want, have)
    if op == "Bool":
        return want.lower() == have.lower()
    raise ValueError(f"condition operator {op} is not one the evaluator knows")


NEGATED = {"StringNotEquals", "StringNotLike", "ArnNotEquals", "ArnNotLike"}


def condition_holds(operator: str, key: str, wants: Sequence[str], context: Mapping[str, ContextValue]) -> bool:
    found = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    prefix, _colon, op = operator.rpartition(":")
    if_exists = op.endswith("IfExists")
    op = op.removesuffix("IfExists")
    if op == "Null":  # "true": the key must be absent; "false": present
        return (found is None) == (wants[0].lower() == "true")
    if found is None:
        if prefix == "ForAllValues":
            return True
        return if_exists or (op in NEGATED and not prefix)
    negated = op in NEGATED
    haves = _listed(found)
    if prefix == "ForAllValues":
        hits = [any(_one(op, w, h) for w in wants) for h in haves]
        return all(not hit if negated else hit for hit in hits)
    any_hit = any(_one(op, w, h) for w in wants for h in haves)
    return not any_hit if negated else any_hit


def _statement_applies(statement: Mapping[str, Any], request: Request) -> bool:
    if "Action" in statement:
        if not any(action_matches(a, request.action) for a in _listed(statement["Action"])):
            return False
    elif any(action_matches(a, request.action) for a in _listed(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(arn_matches(r, request.resource) for r in _listed(statement["Resource"])):
            return False
    elif any(arn_matches(r, request.resource) for r in _listed(statement["NotResource"])):
        return False
    return all(condition_holds(op, key, _listed(wants), request.context)
               for op, keys in statement.get("Condition", {}).items() for key, wants in keys.items())


def statements(documents: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [s for doc in documents for s in _listed_statements(doc["Statement"])]


def _listed_statements(value: Any) -> list[Mapping[str, Any]]:
    return [value] if isinstance(value, Mapping) else list(value)


def decide(documents: Iterable[Mapping[str, Any]], request: Request) -> str:
    """"Deny" (an explicit deny applies), "Allow", or "ImplicitDeny" (no statement allows it)."""
    applying = [s for s in statements(documents) if _statement_applies(s, request)]
    if any(s["Effect"] == "Deny" for s in applying):
        return "Deny"
    return "Allow" if any(s["Effect"] == "Allow" for s in applying) else "ImplicitDeny"


def allowing(documents: Iterable[Mapping[str, Any]], request: Request) -> list[Mapping[str, Any]]:
    """The Allow statements that grant the request (for finding grants no call needs)."""
    return [s for s in statements(documents) if s["Effect"] == "Allow" and _statement_applies(s, request)]
