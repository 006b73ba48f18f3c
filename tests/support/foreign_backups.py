"""Backups made elsewhere, written as their tools lay them out: a native export's `AWSDynamoDB/<ExportId>/`
tree in S3, and the original Hippolyte's Data Pipeline folders."""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from pathlib import Path
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model import emr_connector_codec as emr
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import encode_line, to_json_item

ACCOUNT = "123456789012"
EXPORT_ID = "01763773200000-0a1b2c3d"


def mixed_case(value: dict[str, Any], upper: bool) -> dict[str, Any]:
    """Type keys upper-cased on alternate levels, as readers must accept any casing."""
    (key, inner), = value.items()
    if key.lower() == "m":
        inner = {n: mixed_case(v, not upper) for n, v in inner.items()}
    elif key.lower() == "l":
        inner = [mixed_case(v, not upper) for v in inner]
    return {key.upper() if upper else key: inner}


def emr_connector_line(item: dict[str, Any], legacy: bool, number: int) -> str:
    json_item = to_json_item(item)
    if legacy:
        return emr.encode_legacy_line(json_item)
    return json.dumps({n: mixed_case(v, upper=number % 2 == 1) for n, v in emr.to_emr_item(json_item).items()})


def write_emr_folder(folder: Path, items: list[dict[str, Any]], legacy: bool, markers: bool,
                     lines: list[str] | None = None) -> None:
    """A Data Pipeline (DynamoDBExport) output folder: two data files named by UUID, optional markers."""
    folder.mkdir(parents=True)
    texts = lines if lines is not None else [emr_connector_line(i, legacy, n) for n, i in enumerate(items)]
    names = [str(uuid.UUID(int=n + 1)) for n in range(2)]
    half = len(texts) // 2
    for name, chunk in zip(names, (texts[:half], texts[half:]), strict=True):
        (folder / name).write_text("".join(t + "\n" for t in chunk), encoding="utf-8")
    if markers:
        entries = [{"url": f"s3://legacy-bucket/orders/2019-03-01/{name}", "mandatory": True} for name in names]
        (folder / "manifest").write_text(json.dumps({"name": "DynamoDB-export", "version": 3, "entries": entries}))
        (folder / "_SUCCESS").write_text("")


def write_native_export(s3: Any, bucket: str, prefix: str, table_arn: str, items: list[dict[str, Any]]) -> str:
    """A native export tree as ExportTableToPointInTime writes it; returns its AWSDynamoDB/<id> prefix."""
    root = f"{prefix}/AWSDynamoDB/{EXPORT_ID}"
    entries = []
    for number, chunk in enumerate((items[0::2], items[1::2])):
        key = f"{root}/data/part{number}xyz.json.gz"
        body = gzip.compress("".join(encode_line(i) + "\n" for i in chunk).encode(), mtime=0)
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        entries.append({"itemCount": len(chunk), "md5Checksum": base64.b64encode(hashlib.md5(body).digest()).decode(),
                        "etag": "x", "dataFileS3Key": key})
    summary = {"version": "2020-06-30", "exportArn": f"{table_arn}/export/{EXPORT_ID}",
               "startTime": "2026-11-22T01:00:00.000Z", "endTime": "2026-11-22T01:05:00.000Z",
               "tableArn": table_arn, "exportTime": "2026-11-22T01:00:00.000Z", "s3Bucket": bucket,
               "s3Prefix": prefix, "itemCount": len(items), "outputFormat": "DYNAMODB_JSON",
               "manifestFilesS3Key": f"{root}/manifest-files.json"}
    s3.put_object(Bucket=bucket, Key=f"{root}/manifest-summary.json", Body=json.dumps(summary).encode())
    s3.put_object(Bucket=bucket, Key=f"{root}/manifest-files.json",
                  Body="".join(json.dumps(e) + "\n" for e in entries).encode())
    s3.put_object(Bucket=bucket, Key=f"{root}/_started", Body=b"")
    return root
