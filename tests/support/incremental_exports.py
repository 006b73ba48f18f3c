"""DynamoDB's incremental exports, played over a moto DynamoDB client, because moto does not run them.

moto 5 answers ExportTableToPointInTime with a full export whatever ExportType says, and keeps
LatestRestorableDateTime at the second point-in-time recovery was turned on. `IncrementalExporter` wraps the moto
client: every call goes to moto except an incremental export request (answered here, its files written into
moto's S3 in AWS's documented layout: `AWSDynamoDB/<ExportId>/manifest-summary.json`, `manifest-files.json`
with each file's itemCount and base64 md5, `data/<name>.json.gz` of
`{"Metadata": {"WriteTimestampMicros": ...}, "Keys": ..., "OldImage": ..., "NewImage": ...}` lines), DescribeExport
and ListExports of such exports, and DescribeContinuousBackups' LatestRestorableDateTime (five minutes before the
test's clock, as AWS keeps it). Items are written to moto through `write`, which also records when (on the test's
clock), so that an export's changes are what DynamoDB would have recorded in its window.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.item_codec import to_json_item

LAG = timedelta(minutes=5)  # how far behind now AWS keeps a table's latest restorable time


@dataclass
class _Export:
    description: dict[str, Any]
    token: str
    written: bool = False
    describes: int = 0


@dataclass
class _Write:
    table: str
    at: datetime
    key: dict[str, Any]
    item: dict[str, Any] | None  # None: deleted


@dataclass
class IncrementalExporter:
    ddb: Any  # moto's client
    s3: Any
    clock: Callable[[], datetime]
    hold: bool = False  # exports stay IN_PROGRESS (and write nothing) until release()
    writes: list[_Write] = field(default_factory=list)
    exports: dict[str, _Export] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)  # the incremental export requests, as sent

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ddb, name)

    # ---------------------------------------------------------------- the table's writes, with their times
    def write(self, table: str, at: datetime, key: dict[str, Any], item: dict[str, Any] | None) -> None:
        """Put `item` (or delete `key` when None) in moto, recorded as written at `at` on the test's clock."""
        if item is None:
            self.ddb.delete_item(TableName=table, Key=key)
        else:
            self.ddb.put_item(TableName=table, Item=item)
        self.writes.append(_Write(table, at, key, item))

    def state_at(self, table: str, moment: datetime) -> dict[str, dict[str, Any]]:
        """The items (by canonical key) the recorded writes leave before `moment`."""
        items: dict[str, dict[str, Any]] = {}
        for w in sorted((w for w in self.writes if w.table == table and w.at < moment), key=lambda w: w.at):
            if w.item is None:
                items.pop(_key(w.key), None)
            else:
                items[_key(w.key)] = w.item
        return items

    # ---------------------------------------------------------------- DynamoDB's side
    def describe_continuous_backups(self, **kwargs: Any) -> dict[str, Any]:
        answer = self.ddb.describe_continuous_backups(**kwargs)
        answer["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]["LatestRestorableDateTime"] = (
            self.clock() - LAG)
        return answer

    def export_table_to_point_in_time(self, **request: Any) -> dict[str, Any]:
        if request.get("ExportType") != "INCREMENTAL_EXPORT":
            return self.ddb.export_table_to_point_in_time(**request)
        self.requests.append(request)
        spec = request["IncrementalExportSpecification"]
        start, end = spec["ExportFromTime"], spec["ExportToTime"]
        for held in self.exports.values():
            if held.token == request["ClientToken"]:
                return {"ExportDescription": dict(held.description)}
        if not timedelta(minutes=15) <= end - start <= timedelta(hours=24) or end > self.clock() - LAG:
            raise ClientError({"Error": {"Code": "ValidationException",
                                         "Message": "export window outside 15 minutes to 24 hours, or not restorable"}},
                              "ExportTableToPointInTime")
        now = self.clock()
        arn = f"{request['TableArn']}/export/{int(now.timestamp() * 1000):013d}-{uuid.uuid4().hex[:8]}"
        description = {"ExportArn": arn, "ExportStatus": "IN_PROGRESS", "TableArn": request["TableArn"],
                       "S3Bucket": request["S3Bucket"], "S3Prefix": request["S3Prefix"], "StartTime": now,
                       "ExportType": "INCREMENTAL_EXPORT", "ExportFormat": request["ExportFormat"],
                       "IncrementalExportSpecification": spec, "ClientToken": request["ClientToken"]}
        self.exports[arn] = _Export(description, request["ClientToken"])
        return {"ExportDescription": dict(description)}

    def describe_export(self, ExportArn: str) -> dict[str, Any]:
        export = self.exports.get(ExportArn)
        if export is None:
            return self.ddb.describe_export(ExportArn=ExportArn)
        export.describes += 1
        if not self.hold and not export.written:
            self._finish(export)
        return {"ExportDescription": dict(export.description)}

    def list_exports(self, **kwargs: Any) -> dict[str, Any]:
        answer = self.ddb.list_exports(**kwargs)
        if not kwargs.get("NextToken"):
            answer["ExportSummaries"] = answer.get("ExportSummaries", []) + [
                {"ExportArn": arn, "ExportStatus": e.description["ExportStatus"], "ExportType": "INCREMENTAL_EXPORT"}
                for arn, e in self.exports.items() if e.description["TableArn"] == kwargs.get("TableArn")]
        return answer

    def release(self) -> None:
        """DynamoDB finishes every held export."""
        self.hold = False
        for export in self.exports.values():
            if not export.written:
                self._finish(export)

    def _finish(self, export: _Export) -> None:
        d = export.description
        spec = d["IncrementalExportSpecification"]
        table = d["TableArn"].rsplit("/", 1)[-1]
        start, end = spec["ExportFromTime"], spec["ExportToTime"]
        before, after = self.state_at(table, start), self.state_at(table, end)
        changed = {_key(w.key): w for w in self.writes if w.table == table and start <= w.at < end}
        lines = []
        for key, w in sorted(changed.items()):
            line: dict[str, Any] = {"Metadata": {"WriteTimestampMicros": {"N": str(int(w.at.timestamp() * 1e6))}},
                                    "Keys": to_json_item(w.key)}
            if key in before:
                line["OldImage"] = to_json_item(before[key])
            if key in after:
                line["NewImage"] = to_json_item(after[key])
            lines.append(json.dumps(line))
        export_id = d["ExportArn"].rsplit("/", 1)[-1]
        root = f"{d['S3Prefix']}/AWSDynamoDB/{export_id}"
        data_key = f"{root}/data/{uuid.uuid4().hex[:26]}.json.gz"
        body = gzip.compress("".join(f"{line}\n" for line in lines).encode())
        self.s3.put_object(Bucket=d["S3Bucket"], Key=data_key, Body=body)
        entry = {"itemCount": len(lines), "md5Checksum": base64.b64encode(hashlib.md5(body).digest()).decode(),
                 "etag": hashlib.md5(body).hexdigest(), "dataFileS3Key": data_key}
        self.s3.put_object(Bucket=d["S3Bucket"], Key=f"{root}/manifest-files.json", Body=json.dumps(entry) + "\n")
        summary = {"version": "2023-08-01", "exportArn": d["ExportArn"], "startTime": d["StartTime"].isoformat(),
                   "endTime": self.clock().isoformat(), "tableArn": d["TableArn"],
                   "exportFromTime": start.isoformat(), "exportToTime": end.isoformat(), "s3Bucket": d["S3Bucket"],
                   "s3Prefix": d["S3Prefix"], "manifestFilesS3Key": f"{root}/manifest-files.json",
                   "billedSizeBytes": len(body), "itemCount": len(lines), "outputFormat": "DYNAMODB_JSON",
                   "outputView": "NEW_AND_OLD_IMAGES", "exportType": "INCREMENTAL_EXPORT"}
        self.s3.put_object(Bucket=d["S3Bucket"], Key=f"{root}/manifest-summary.json", Body=json.dumps(summary))
        d.update(ExportStatus="COMPLETED", EndTime=self.clock(), ItemCount=len(lines))
        export.written = True


def _key(key: dict[str, Any]) -> str:
    return json.dumps(key, sort_keys=True)
