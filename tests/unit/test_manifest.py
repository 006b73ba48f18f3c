"""The manifest's own digest: written by dumps, verified by loads before anything uses the manifest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import (
    DIGEST_FIELD,
    FORMAT_VERSION,
    IMPORT,
    NIGHT,
    ORIGIN_FIELD,
    DataFile,
    build_manifest,
    dumps,
    loads,
    night_origin,
    origin_of,
)


def manifest() -> dict[str, Any]:
    schema = {"TableName": "orders", "TableArn": "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
              "GlobalSecondaryIndexes": [{"IndexName": "by-city"}], "Note": "grüße"}
    return build_manifest(schema=schema, account="123456789012", region="eu-west-1", engine="local",
                          data_format="dynamodb-json", consistency="fuzzy-scan",
                          started=datetime(2026, 11, 20, 1, tzinfo=UTC).isoformat(), finished="2026-11-20T01:05:00Z",
                          files=[DataFile("data/part-00000.json.gz", 3, 120, "ab" * 32)],
                          origin=night_origin("local", "20261120T010000Z", "hippolyte-prod-2026-11-20-01-00-00"))


def test_a_written_manifest_reads_back_with_its_digest() -> None:
    raw = dumps(manifest())
    doc = loads(raw, "here")
    assert doc["format_version"] == FORMAT_VERSION == 2
    assert len(doc[DIGEST_FIELD]) == 64
    assert dumps(doc) == raw  # writing a read manifest again gives the same bytes


@pytest.mark.parametrize("change", [
    lambda d: d["schema"]["GlobalSecondaryIndexes"][0].update(IndexName="by-citz"),
    lambda d: d.update(item_count=4),
    lambda d: d["files"][0].update(sha256="cd" * 32),
    lambda d: d.pop(DIGEST_FIELD),
])
def test_any_change_is_refused(change: Any) -> None:
    doc = json.loads(dumps(manifest()))
    change(doc)
    with pytest.raises(HippolyteError, match="does not match its own digest"):
        loads(json.dumps(doc).encode(), "s3://b/orders/hippolyte-manifest.json")


def test_format_1_manifests_of_earlier_versions_are_read_without_a_digest() -> None:
    doc = json.loads(dumps(manifest()))
    del doc[DIGEST_FIELD]
    doc["format_version"] = 1
    assert loads(json.dumps(doc).encode(), "here")["table"] == "orders"


def test_a_format_1_manifest_that_has_a_digest_must_match_it() -> None:
    doc = json.loads(dumps(manifest()))
    doc["format_version"] = 1  # a downgrade to skip the check is itself a change
    with pytest.raises(HippolyteError, match="digest"):
        loads(json.dumps(doc).encode(), "here")


def test_manifests_written_before_origins_still_read_with_the_origin_they_imply() -> None:
    """A night's manifest of an earlier version (no origin) is a night's backup of unknown night and run;
    one an earlier import or adoption wrote is an import of the source it names."""
    older = {k: v for k, v in manifest().items() if k != ORIGIN_FIELD}
    doc = loads(dumps(older), "s3://b/p/orders/2026-11-20-01-00-00/hippolyte-manifest.json")
    assert origin_of(doc) == {"kind": NIGHT, "engine": "local", "night": None, "run": None}
    adopted = loads(dumps(dict(older, engine="adopted-emr-connector", adopted_from="s3://legacy/orders")), "x")
    assert origin_of(adopted)["kind"] == IMPORT and origin_of(adopted)["source"] == "s3://legacy/orders"
    dumped = loads(dumps(dict(older, engine="dynodump", imported_from="file:///dumps/orders")), "x")
    assert origin_of(dumped)["kind"] == IMPORT and origin_of(dumped)["content_sha256"] is None
    assert origin_of(loads(dumps(manifest()), "x"))["night"] == "20261120T010000Z"
