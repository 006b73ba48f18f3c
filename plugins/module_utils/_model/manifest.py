# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""`hippolyte-manifest.json`: what a backup holds, written last, so its presence means "complete"."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any, cast

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import HippolyteError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import check_relative_key

MANIFEST_NAME = "hippolyte-manifest.json"
FORMAT_VERSION = 2  # 2: the manifest carries its own digest (DIGEST_FIELD)
DIGEST_FIELD = "manifest_sha256"
DATA_FORMATS = ("dynamodb-json", "emr-connector", "native-export", "native-export-incremental")  # the last: changes
CONSISTENCIES = ("fuzzy-scan", "point-in-time")
_REQUIRED = ("format_version", "table", "account", "region", "engine", "data_format", "consistency",
             "started", "finished", "item_count", "byte_count", "files", "schema")


@dataclass(frozen=True)
class DataFile:
    path: str  # relative to the backup folder, e.g. data/part-00000.json.gz
    items: int
    bytes: int
    sha256: str


ORIGIN_FIELD = "origin"
NIGHT, IMPORT = "night", "import"  # the two ways a backup folder comes to be


def night_origin(engine: str, night: str | None, run: str | None) -> dict[str, Any]:
    """A backup a night's run took: which night (every run inside one window shares it), which run, which engine."""
    return {"kind": NIGHT, "engine": engine, "night": night, "run": run}


def import_origin(source: str, digest: str, imported_at: str) -> dict[str, Any]:
    """A backup made elsewhere and brought in (a dynamodump dump, an adopted folder): identified by its source
    and the digest of what was read there, never by the time it is filed under."""
    return {"kind": IMPORT, "source": source, "content_sha256": digest, "imported_at": imported_at}


def origin_of(doc: dict[str, Any]) -> dict[str, Any]:
    """A manifest's origin; manifests written before origins were recorded are read by what they carry:
    an import's source field, else a night's backup of an unknown night and run."""
    if isinstance(doc.get(ORIGIN_FIELD), dict):
        return cast("dict[str, Any]", doc[ORIGIN_FIELD])
    source = doc.get("adopted_from") or doc.get("imported_from")
    if source:
        return {"kind": IMPORT, "source": source, "content_sha256": None, "imported_at": doc.get("finished")}
    return night_origin(str(doc.get("engine")), None, None)


def content_digest(files: list[tuple[str, str]]) -> str:
    """One digest of a set of files from their (path relative to the source, sha256): what a source held."""
    listing = "".join(f"{path}\0{sha}\n" for path, sha in sorted(files))
    return hashlib.sha256(listing.encode()).hexdigest()


def build_manifest(*, schema: dict[str, Any], account: str, region: str, engine: str, data_format: str,
                   consistency: str, started: str, finished: str, files: list[DataFile],
                   origin: dict[str, Any]) -> dict[str, Any]:
    if data_format not in DATA_FORMATS or consistency not in CONSISTENCIES:
        raise ValueError(f"unknown data format {data_format!r} or consistency {consistency!r}")
    return {
        "format_version": FORMAT_VERSION,
        "table": schema["TableName"],
        "table_arn": schema.get("TableArn"),
        "account": account,
        "region": region,
        "engine": engine,
        "data_format": data_format,
        "consistency": consistency,
        "started": started,
        "finished": finished,
        "item_count": sum(f.items for f in files),
        "byte_count": sum(f.bytes for f in files),
        "files": [asdict(f) for f in sorted(files, key=lambda f: f.path)],
        "schema": schema,
        ORIGIN_FIELD: origin,
    }


def _digest(doc: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the document without its digest field."""
    body = {k: v for k, v in doc.items() if k != DIGEST_FIELD}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def dumps(manifest: dict[str, Any]) -> bytes:
    """The manifest as stored, with its own digest so that any later change to it is detected."""
    # Round-trip first so the digest covers exactly what a reader will parse (dates become strings).
    doc = json.loads(json.dumps({k: v for k, v in manifest.items() if k != DIGEST_FIELD}, default=str))
    doc[DIGEST_FIELD] = _digest(doc)
    return json.dumps(doc, indent=2, sort_keys=True).encode()


def loads(raw: bytes, where: str) -> dict[str, Any]:
    """Parse and check a manifest; a damaged or unknown one is an error, never a partial restore."""
    try:
        doc = json.loads(raw)
    except ValueError as exc:
        raise HippolyteError(f"{where}: manifest is not JSON ({exc})") from exc
    missing = [k for k in _REQUIRED if k not in doc]
    if missing:
        raise HippolyteError(f"{where}: manifest lacks {', '.join(missing)}")
    if doc["format_version"] > FORMAT_VERSION:
        raise HippolyteError(f"{where}: manifest format {doc['format_version']} is newer than this collection "
                             f"reads ({FORMAT_VERSION}); upgrade hippolyte.dynamodb")
    # Format 1 (written by earlier versions) had no digest; any manifest that has one must match it.
    if (DIGEST_FIELD in doc or doc["format_version"] >= 2) and doc.get(DIGEST_FIELD) != _digest(doc):
        raise HippolyteError(f"{where}: manifest does not match its own digest ({DIGEST_FIELD}): it was "
                             "altered or damaged after the backup wrote it; refusing to restore from it")
    data_files(doc)  # a file path leading out of the backup folder is refused before anything uses it
    return cast("dict[str, Any]", doc)


def data_files(doc: dict[str, Any]) -> list[DataFile]:
    """The manifest's data files; a path leading out of the backup folder is refused, never read."""
    return [DataFile(**dict(f, path=check_relative_key("files", f.get("path")))) for f in doc["files"]]
