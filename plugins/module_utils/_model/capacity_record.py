# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""The capacity record: what a boost changed, kept in a tag on the table until put back, and its dimensions."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError, InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_instant

DEFAULT_TAG_KEY = "hippolyte:capacity-original"
# Version 2 records keep what the boost set beside the originals; version 1 records (originals only) are still read.
RECORD_VERSION = 2
READABLE_VERSIONS = (1, 2)
# How long a record is held for its run when the boost names no deadline, and how long a record
# written before records had an expiry counts as held from its `at`: longer than any night's run, shorter
# than the day between two nights, so the next night's reconcile repairs a crashed run's boosts.
DEFAULT_HOLD = timedelta(hours=12)
# A record still on its table this long after its hold is stale: the next night's reconcile (a day later, or two
# when a night was skipped) is well within it. A stale record whose boosted values no longer all match the table
# is dropped, never applied: weeks later, the capacity is its owners'.
STALE_AFTER_HOLD = timedelta(days=3)
# DynamoDB tag rules: values up to 256 characters from letters, digits, spaces and + - = . _ : /
# JSON braces and quotes are not allowed, so the JSON is stored base64-encoded (that alphabet is),
# split over numbered tags when long.
TAG_VALUE_MAX = 256
TAG_KEY_MAX = 128
_TAG_KEY_CHARS = re.compile(r"^[\w\s+\-=.:/]+$")
_CHUNK_SUFFIX_ROOM = 3  # ":NN"
DIMENSIONS = ("read", "write")
# None is the table itself, a string names a GSI. The collection needs Python 3.11 (tests/config.yml), but
# ansible-test's pylint checks module_utils as if for Python 3.8, where `str | None` fails at run time.
ResourceKey = str | None  # pylint: disable=unsupported-binary-operation


def in_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Dimension:
    """One dimension's capacity units and, when autoscaled, its scalable target's (min, max)."""

    units: int
    scaling: tuple[int, int] | None = None

    @property
    def setting(self) -> int | tuple[int, int]:
        """What a boost sets: the scalable target's (min, max) when autoscaled (its units are autoscaling's), else
        the provisioned units."""
        return self.scaling if self.scaling else self.units

    def to_result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"units": self.units}
        if self.scaling:
            out["autoscaling"] = {"min": self.scaling[0], "max": self.scaling[1]}
        return out


def index_order(key: ResourceKey) -> str:
    return "" if key is None else f"~{key}"


@dataclass(frozen=True)
class CapacityRecord:
    """What a boost changed, kept as a tag on the table until put back: every dimension's original and what the
    boost set it to (`boosted`). A dimension missing from `boosted` (records of version 1) is one whose boosted
    value is unknown: it is never lowered."""

    billing_mode: str
    at: str
    run_id: str | None
    originals: dict[ResourceKey, dict[str, Dimension]]
    hold_until: str | None = None  # UTC ISO; until then the record belongs to its live run
    boosted: dict[ResourceKey, dict[str, Dimension]] = field(default_factory=dict)

    def held_until(self) -> datetime:
        """When the run that wrote the record is over at the latest (records without expiry: `at` + DEFAULT_HOLD)."""
        if self.hold_until:
            return parse_instant(self.hold_until, "record.hold_until")
        return parse_instant(self.at, "record.at") + DEFAULT_HOLD

    def held_for_other_run(self, run_id: str | None, now: datetime) -> bool:
        """True when another run, still live, owns this record: its boost must be neither redone nor taken back."""
        return not same_run(self.run_id, run_id) and self.held_until() > in_utc(now)

    def stale(self, now: datetime) -> bool:
        return in_utc(now) > self.held_until() + STALE_AFTER_HOLD

    def boosted_value(self, key: ResourceKey, name: str) -> Dimension | None:
        return self.boosted.get(key, {}).get(name)

    def to_json(self) -> str:
        def dims(key: ResourceKey) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for name, dim in self.originals[key].items():
                out[name[0]] = dim.units
                if dim.scaling:
                    out[name[0] + "s"] = list(dim.scaling)
                done = self.boosted_value(key, name)
                if done is not None:
                    out[name[0] + "b"] = done.units
                    if done.scaling:
                        out[name[0] + "bs"] = list(done.scaling)
            return out

        doc: dict[str, Any] = {"v": RECORD_VERSION, "run": self.run_id, "at": self.at, "bm": self.billing_mode}
        if self.hold_until:
            doc["u"] = self.hold_until
        if None in self.originals:
            doc["t"] = dims(None)
        indexes = {k: dims(k) for k in sorted(self.originals, key=index_order) if k is not None}
        if indexes:
            doc["g"] = indexes
        return json.dumps(doc, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CapacityRecord:
        doc = json.loads(text)
        if not isinstance(doc, dict) or doc.get("v") not in READABLE_VERSIONS:
            raise ValueError(f"unknown record version {doc.get('v') if isinstance(doc, dict) else doc!r}")

        def dimension(d: dict[str, Any], prefix: str) -> Dimension:
            scaling = d.get(prefix + "s")
            return Dimension(int(d[prefix]), (int(scaling[0]), int(scaling[1])) if scaling else None)

        originals: dict[ResourceKey, dict[str, Dimension]] = {}
        boosted: dict[ResourceKey, dict[str, Dimension]] = {}
        resources = ([(None, doc["t"])] if "t" in doc else []) + list(doc.get("g", {}).items())
        for key, d in resources:
            for name in DIMENSIONS:
                if name[0] in d:
                    originals.setdefault(key, {})[name] = dimension(d, name[0])
                if name[0] + "b" in d:
                    boosted.setdefault(key, {})[name] = dimension(d, name[0] + "b")
        record = cls(billing_mode=str(doc["bm"]), at=str(doc["at"]), run_id=doc.get("run"), originals=originals,
                     hold_until=str(doc["u"]) if doc.get("u") else None, boosted=boosted)
        record.held_until()  # a record whose times cannot be read is unreadable, not held forever
        return record

    def to_result(self) -> dict[str, Any]:
        def one(key: ResourceKey) -> dict[str, Any]:
            out = {}
            for name, dim in self.originals[key].items():
                done = self.boosted_value(key, name)
                out[name] = {**dim.to_result(), "boosted": done.to_result() if done else None}
            return out

        return {"billing_mode": self.billing_mode, "at": self.at, "run_id": self.run_id,
                "hold_until": iso(self.held_until()),
                "table": one(None) if None in self.originals else None,
                "indexes": {k: one(k) for k in sorted(self.originals, key=index_order) if k is not None}}

    def merged_with(self, other: CapacityRecord) -> CapacityRecord:
        """This record plus a later boost `other` of the same table: what `other` set is now what was boosted.

        An original already recorded is kept while the later boost started from what this record's boost set
        (our own boost, raised further); when it started from anything else, someone changed that value in
        between, so the value before the later boost is the original to go back to."""
        originals = {k: dict(v) for k, v in self.originals.items()}
        boosted = {k: dict(v) for k, v in self.boosted.items()}
        for key, dims in other.originals.items():
            for name, before in dims.items():
                earlier = self.boosted_value(key, name)
                if name not in originals.get(key, {}) or earlier is None or earlier.setting != before.setting:
                    originals.setdefault(key, {})[name] = before
                done = other.boosted_value(key, name)
                if done is not None:
                    boosted.setdefault(key, {})[name] = done
        return replace(self, originals=originals, boosted=boosted)

    def renewed(self, run_id: str | None, hold_until: datetime) -> CapacityRecord:
        """The record held by `run_id` until `hold_until` (or later, when it already was): the same run
        boosting again pushes its expiry, and a run boosting a dead run's table takes its record over."""
        return replace(self, run_id=run_id, hold_until=iso(max(hold_until, self.held_until())))


def same_run(a: str | None, b: str | None) -> bool:
    """Records without a run id belong to whoever calls without one (the module used on its own)."""
    return a == b


def original_read_units(tags: list[dict[str, str]], except_run: str | None = None,
                        tag_key: str = DEFAULT_TAG_KEY) -> int | None:
    """The table's own read capacity when a boost of another run than `except_run` is on it (the recorded
    original), else None (the live figure is the table's own). A plan or a backup must never take a
    boost it does not own for the table's capacity: that run takes it back when it ends."""
    record = parse_record(tags, tag_key)
    if record is None or (except_run is not None and same_run(record.run_id, except_run)):
        return None
    read = record.originals.get(None, {}).get("read")
    return read.units if read is not None else None


def read_boost(tags: list[dict[str, str]], run_id: str | None,
               tag_key: str = DEFAULT_TAG_KEY) -> tuple[int | None, int | None]:
    """(the table's own read capacity, the read capacity the boost of `run_id` set) from the record on the table.

    (None, None) without a record of the table's read. Another run's boost gives its original and no boosted
    value: that boost is not the reader's to read on. Without a run id, any record is taken for the caller's
    (the modules used on their own). An autoscaled boost sets the minimum: the capacity it brings at least."""
    record = parse_record(tags, tag_key)
    read = record.originals.get(None, {}).get("read") if record else None
    if record is None or read is None:
        return None, None
    if run_id is not None and not same_run(record.run_id, run_id):
        return read.units, None
    done = record.boosted_value(None, "read")
    return read.units, (done.scaling[0] if done and done.scaling else done.units if done else None)


def validate_tag_key(tag_key: str) -> None:
    if not tag_key or len(tag_key) > TAG_KEY_MAX - _CHUNK_SUFFIX_ROOM or not _TAG_KEY_CHARS.match(tag_key):
        raise InputError("tag_key", f"{tag_key!r} is not a usable DynamoDB tag key",
                         f"use 1 to {TAG_KEY_MAX - _CHUNK_SUFFIX_ROOM} letters, digits, spaces or + - = . _ : /")
    if tag_key.lower().startswith("aws:"):
        raise InputError("tag_key", "keys starting with 'aws:' are reserved by AWS", "choose another prefix")


def chunk_key(tag_key: str, index: int) -> str:
    return tag_key if index == 0 else f"{tag_key}:{index + 1}"


def record_tags(record: CapacityRecord, tag_key: str) -> list[dict[str, str]]:
    encoded = base64.b64encode(record.to_json().encode()).decode()
    chunks = [encoded[i:i + TAG_VALUE_MAX] for i in range(0, len(encoded), TAG_VALUE_MAX)]
    return [{"Key": chunk_key(tag_key, i), "Value": chunk} for i, chunk in enumerate(chunks)]


def record_tag_keys(tags: list[dict[str, str]], tag_key: str) -> list[str]:
    """Every key of ours present among `tags` (the record and all its chunks)."""
    pattern = re.compile(re.escape(tag_key) + r"(:\d+)?$")
    return [t["Key"] for t in tags if pattern.match(t["Key"])]


def parse_record(tags: list[dict[str, str]], tag_key: str) -> CapacityRecord | None:
    """The record kept in `tags`, None when there is none; HippolyteError when it is there but unreadable."""
    values = {t["Key"]: t["Value"] for t in tags}
    if tag_key not in values:
        return None
    encoded, i = "", 0
    while chunk_key(tag_key, i) in values:
        encoded += values[chunk_key(tag_key, i)]
        i += 1
    try:
        return CapacityRecord.from_json(base64.b64decode(encoded, validate=True).decode())
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error, UnicodeDecodeError, InputError) as exc:
        raise HippolyteError(
            f"the capacity record in tag {tag_key!r} cannot be read ({exc}); capacity was left as it is. "
            f"Put the capacity back by hand, then remove the tag{'s' if i > 1 else ''} "
            f"{', '.join(chunk_key(tag_key, n) for n in range(max(i, 1)))}") from exc


def iso(moment: datetime) -> str:
    return in_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")
