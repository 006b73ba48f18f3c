# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Where backups live: `s3://bucket/prefix` or `file:///dir`, behind one small interface.

Writers stream: an S3 object is sent as a multipart upload in fixed-size parts, a local file is
written as it goes, so memory stays flat whatever the size of the table.

Backups are private: local folders the store creates are 0700 and its files 0600 whatever the umask;
every S3 call names the bucket's expected owner, so a bucket someone else owns is refused. Every S3 object a
writer streams, and every exclusive write (`claim`, `put_bytes(exclusive=True)`), is created only if its key is
not there yet (`If-None-Match: *`): a stored backup is never replaced, and one writer holds a backup folder and
writes its manifest once. Only `put_bytes` without `exclusive` replaces an object (the run lease's renewal,
a staging marker).

An S3 store may lock what it writes into backup folders (S3 Object Lock, `ObjectLock`), and reads back the locks and
legal holds of a folder's objects (`lock_states`), so that retention leaves alone what S3 would keep anyway.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import hashlib
import io
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast
from urllib.parse import unquote, urlparse

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    HippolyteError,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import folder_time
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import check_destination
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.private_files import open_private, write_private

S3_PART_BYTES = 8 * 1024 * 1024  # above S3's 5 MiB minimum part; bounds a writer's memory
READ_CHUNK = 1024 * 1024
RESUME_TRIES = 5  # re-reads of one S3 object cut mid-body, each resuming where the last stopped
RESUME_BACKOFF_S = 0.2
GZIP_MAGIC = b"\x1f\x8b"
ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


class ObjectExists(HippolyteError):
    """An exclusive write found its object already there: another writer got it first."""

    def __init__(self, url: str) -> None:
        self.url = url
        super().__init__(f"{url} already exists: another writer wrote it first")


class PartialFolderLeft(HippolyteError):
    """A failed backup whose partial folder could not be deleted whole. It holds no manifest, so it stays an
    incomplete backup, which retention's incomplete-folder rule removes once its grace period has passed."""

    def __init__(self, url: str, left: list[str], cause: BaseException) -> None:
        self.url, self.left = url, left
        super().__init__(f"{cause}; its partial folder {url} was not deleted ({len(left)} object(s) left, first "
                         f"{left[0]}): it stays an incomplete backup (no manifest) until retention removes it "
                         "(incomplete_grace_hours), or delete it by hand")


class ObjectWriter(Protocol):
    def write(self, data: bytes) -> int: ...
    def close(self) -> None: ...
    def abort(self) -> None: ...


class BackupStore(Protocol):
    url: str

    def check_writable(self) -> None: ...
    def open_writer(self, key: str) -> ObjectWriter: ...
    def put_bytes(self, key: str, data: bytes, exclusive: bool = False) -> None: ...
    def claim(self, key: str, data: bytes) -> bool: ...
    def open_reader(self, key: str) -> BinaryIO: ...
    def read_bytes(self, key: str) -> bytes: ...
    def exists(self, key: str) -> bool: ...
    def list_children(self, key: str) -> list[str]: ...
    def list_files(self, key: str) -> list[str]: ...
    def list_objects(self, key: str) -> list[StoredObject]: ...
    def delete_tree(self, key: str) -> list[str]: ...
    def lock_states(self, key: str) -> list[LockState]: ...
    def lock_unknown(self) -> str | None: ...
    def set_legal_hold(self, state: LockState, on: bool) -> None: ...


@dataclass(frozen=True)
class LockState:
    """What S3 Object Lock holds of one object: its retain-until date and its legal hold."""

    key: str  # relative to the store's root
    version_id: str | None  # the version read (the current one): holds are set on exactly it
    retain_until: datetime | None
    mode: str | None
    legal_hold: bool

    def locked_at(self, now: datetime) -> bool:
        """Whether S3 refuses to delete this version at `now` (governance mode without a bypass too)."""
        return self.legal_hold or (self.retain_until is not None and self.retain_until > now)


@dataclass(frozen=True)
class StoredObject:
    """One stored file as a listing returns it, so a catalog needs no further call per file."""

    key: str  # relative to the store's root
    size: int
    modified: datetime  # UTC


def join(*parts: str) -> str:
    return "/".join(p.strip("/") for p in parts if p.strip("/"))


class HashingWriter:
    """Wraps a writer, counting bytes and computing the sha256 the manifest records."""

    def __init__(self, inner: ObjectWriter) -> None:
        self.inner = inner
        self.size = 0
        self._sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        self.size += len(data)
        return self.inner.write(data)

    def close(self) -> None:
        self.inner.close()

    def abort(self) -> None:
        self.inner.abort()

    def flush(self) -> None:
        """Part of the file protocol GzipFile writes to; every write is handed on at once, nothing waits here."""

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()


class HashingReader(io.RawIOBase):
    """Reads through to a stored object, counting and hashing every byte on the way (md5 only because
    native exports record it)."""

    def __init__(self, inner: BinaryIO | io.RawIOBase) -> None:
        self.inner = inner
        self.size = 0
        self._sha = hashlib.sha256()
        self._md5 = hashlib.md5(usedforsecurity=False)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        self._sha.update(data)
        self._md5.update(data)
        self.size += len(data)
        buffer[: len(data)] = data
        return len(data)

    def drain(self) -> None:
        """Hash what a decompressor did not need to read (nothing, for a well-formed file)."""
        while self.readinto(bytearray(READ_CHUNK)):
            pass

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    @property
    def md5_base64(self) -> str:
        return base64.b64encode(self._md5.digest()).decode()


@contextmanager
def open_lines(store: BackupStore, key: str) -> Iterator[tuple[Iterable[bytes], HashingReader]]:
    """The lines of a stored data file, gunzipped when it is gzip (engines differ), hashed as they are read."""
    # Read through the reader itself: `with` on a botocore StreamingBody yields its raw stream, which
    # skips botocore's checksum validation of the object.
    raw = store.open_reader(key)
    try:
        lines, hashing = line_stream(raw)
        with lines:
            yield lines, hashing
        hashing.drain()
    finally:
        raw.close()


def line_stream(raw: BinaryIO | io.RawIOBase) -> tuple[BinaryIO, HashingReader]:
    """The lines of an open data stream (gunzipped when it is gzip), and the reader hashing its raw bytes;
    drain the hashing reader after the lines to hash the rest (a gzip trailer)."""
    hashing = HashingReader(raw)
    buffered = io.BufferedReader(hashing, READ_CHUNK)
    gzipped = buffered.peek(2)[:2] == GZIP_MAGIC
    return (gzip.GzipFile(fileobj=buffered, mode="rb") if gzipped else buffered), hashing  # type: ignore[return-value]


@dataclass(frozen=True)
class FileFacts:
    size: int
    sha256: str
    md5_base64: str
    items: int  # non-blank lines: one item each in every engine's format


def measure(store: BackupStore, key: str) -> FileFacts:
    """Size, checksums and item count of one stored data file, in one streamed pass."""
    with open_lines(store, key) as (lines, hashing):
        items = sum(1 for line in lines if line.strip())
    return FileFacts(hashing.size, hashing.sha256, hashing.md5_base64, items)


# ---------------------------------------------------------------- local folders

class _FileWriter:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = open_private(path)

    def write(self, data: bytes) -> int:
        return self._fh.write(data)

    def close(self) -> None:
        self._fh.close()

    def abort(self) -> None:
        self._fh.close()
        self.path.unlink(missing_ok=True)


class FileStore:
    def __init__(self, root: Path, url: str) -> None:
        self.root = root
        self.url = url

    def _path(self, key: str) -> Path:
        return self.root / key if key else self.root

    def check_writable(self) -> None:
        # Root may write anywhere, so check what would really stop a write: the nearest existing
        # ancestor must be a writable directory.
        probe = self.root
        while not probe.exists():
            probe = probe.parent
        if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
            raise InputError("destination", f"{self.url} is not writable ({probe} is not a writable directory)",
                             "point it at a folder this user can create and write")

    def open_writer(self, key: str) -> ObjectWriter:
        return _FileWriter(self._path(key))

    def put_bytes(self, key: str, data: bytes, exclusive: bool = False) -> None:
        try:
            write_private(self._path(key), data, exclusive)
        except FileExistsError as exc:
            raise ObjectExists(url_under(self.url, key)) from exc

    def claim(self, key: str, data: bytes) -> bool:
        # Written whole or not at all (a complete temp file linked to its name): a full disk never leaves an
        # empty claim that would hold its name for ever.
        path = self._path(key)
        try:
            write_private(path, data, exclusive=True)
        except FileExistsError:
            return False
        except OSError:
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # the folder this claim made, if the failed write left it empty
            raise
        return True

    def open_reader(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def read_bytes(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list_children(self, key: str) -> list[str]:
        path = self._path(key)
        return sorted(p.name for p in path.iterdir() if p.is_dir()) if path.is_dir() else []

    def list_files(self, key: str) -> list[str]:
        base = self._path(key)
        if not base.is_dir():
            return []
        return sorted(str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file())

    def list_objects(self, key: str) -> list[StoredObject]:
        objects = []
        for name in self.list_files(key):
            stat = self._path(name).stat()
            objects.append(StoredObject(name, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        return objects

    def delete_tree(self, key: str) -> list[str]:
        """Delete a folder; returns the files still there (none when it is gone)."""
        shutil.rmtree(self._path(key), ignore_errors=True)
        return self.list_files(key)

    def lock_states(self, key: str) -> list[LockState]:
        return []  # a local folder has no object lock

    def lock_unknown(self) -> str | None:
        return None

    def set_legal_hold(self, state: LockState, on: bool) -> None:
        raise InputError("destination", f"{self.url} is a local folder: legal holds are S3 Object Lock's",
                         "place legal holds on an s3:// destination whose bucket has Object Lock")


# ---------------------------------------------------------------- S3

@dataclass(frozen=True)
class ObjectLock:
    """The S3 Object Lock asked for every object written into a backup folder
    (`<account>/<region>/<table>/<time>/...`): `mode` until `until(the folder's time)`. Other objects (the run
    lease) are not locked, nor is an object whose date is already past: S3 refuses it, and retention may already
    delete that backup."""

    mode: str  # GOVERNANCE (removable with s3:BypassGovernanceRetention) or COMPLIANCE (by nobody)
    until: Callable[[datetime], datetime]
    now: Callable[[], datetime] = utc_now

    def validate(self) -> None:
        if self.mode not in LOCK_MODES:
            raise InputError("object_lock_mode", f"{self.mode!r} is not an S3 Object Lock mode",
                             "use GOVERNANCE or COMPLIANCE")

    def put_arguments(self, key: str) -> dict[str, Any]:
        """The PutObject / CreateMultipartUpload arguments for `key` (relative to the store's root)."""
        parts = key.split("/")
        taken = folder_time(parts[3]) if len(parts) >= 5 and ACCOUNT_ID.match(parts[0]) else None
        if taken is None:
            return {}
        until = self.until(taken)
        if until <= self.now():
            return {}
        return {"ObjectLockMode": self.mode, "ObjectLockRetainUntilDate": until}


@dataclass(frozen=True)
class Encryption:
    """What S3 is asked to encrypt every written object with: nothing asked (the bucket's default), SSE-S3
    (`AES256`) or SSE-KMS (`aws:kms`, with the account's default key or `kms_key_id`)."""

    sse: str | None = None
    kms_key_id: str | None = None

    def validate(self) -> None:
        if self.sse not in (None, "AES256", "aws:kms"):
            raise InputError("sse", f"{self.sse!r} is not an S3 encryption", "use AES256 or aws:kms")
        if self.kms_key_id and self.sse != "aws:kms":
            raise InputError("kms_key_id", "is set but sse is not aws:kms", "set sse: aws:kms, or drop kms_key_id")

    def covers(self, wanted: Encryption) -> bool:
        """Whether objects encrypted this way are encrypted as `wanted` asks."""
        return wanted.sse in (None, self.sse) and wanted.kms_key_id in (None, self.kms_key_id)

    def put_arguments(self) -> dict[str, str]:
        """The PutObject / CreateMultipartUpload arguments."""
        out = {"ServerSideEncryption": self.sse} if self.sse else {}
        if self.kms_key_id:
            out["SSEKMSKeyId"] = self.kms_key_id
        return out


class _S3Writer:
    def __init__(self, client: Any, bucket: str, key: str, part_bytes: int, owner: dict[str, str],
                 created: dict[str, Any], replace: bool = False) -> None:
        self.client, self.bucket, self.key, self.part_bytes = client, bucket, key, part_bytes
        self._owner, self._created = owner, created  # encryption and lock of the object
        # Backups are never replaced; only a staging copy rewrites the parts its own unfinished run left.
        self._only_new = {} if replace else {"IfNoneMatch": "*"}
        self._buffer = bytearray()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []
        self._sha = hashlib.sha256()  # of every byte sent: how a 412 tells our own retried write from another's

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        self._buffer += data
        if len(self._buffer) >= self.part_bytes:
            self._send_part()
        return len(data)

    def _send_part(self) -> None:
        if self._upload_id is None:
            self._upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key,
                                                                  **self._owner, **self._created)["UploadId"]
        number = len(self._parts) + 1
        etag = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                                       PartNumber=number, Body=bytes(self._buffer), **self._owner)["ETag"]
        self._parts.append({"PartNumber": number, "ETag": etag})
        self._buffer.clear()

    def close(self) -> None:
        # Written only if the key is free (If-None-Match), so no writer, ours or another, replaces a stored object.
        try:
            if self._upload_id is None:  # small object: one PUT
                self.client.put_object(Bucket=self.bucket, Key=self.key, Body=bytes(self._buffer), **self._only_new,
                                       **self._owner, **self._created)
                return
            if self._buffer:
                self._send_part()
            self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                                                  MultipartUpload={"Parts": self._parts}, **self._only_new,
                                                  **self._owner)
        except Exception as exc:
            if not is_error(exc, "PreconditionFailed", "412"):
                raise
            # The key is taken. It is ours when the answer to our own write was lost and botocore retried it:
            # the stored bytes are then exactly the ones sent. Anything else is another object, left as it is.
            if self._stored_sha256() != self._sha.hexdigest():
                raise ObjectExists(f"s3://{self.bucket}/{self.key}") from exc

    def _stored_sha256(self) -> str:
        reader = ResumingS3Reader(lambda **extra: self.client.get_object(Bucket=self.bucket, Key=self.key,
                                                                         **self._owner, **extra))
        sha = hashlib.sha256()
        try:
            while chunk := reader.read(READ_CHUNK):
                sha.update(chunk)
        finally:
            reader.close()
        return sha.hexdigest()

    def abort(self) -> None:
        if self._upload_id is not None:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id,
                                               **self._owner)


class ResumingS3Reader(io.RawIOBase):
    """An S3 object's body read through botocore's validating stream. botocore retries a GET only until the
    headers arrive; a body cut later (connection lost, read timeout) is read on from where it stopped with a
    ranged GET of the same object (IfMatch its ETag, so a replaced object is never stitched), up to `tries`
    times in a row without progress, with exponential backoff."""

    def __init__(self, get: Callable[..., dict[str, Any]], tries: int = RESUME_TRIES,
                 backoff_s: float = RESUME_BACKOFF_S) -> None:
        self._get, self._tries, self._backoff_s = get, tries, backoff_s
        response = get()
        self._etag, self._body = response["ETag"], response["Body"]
        self.offset = 0
        self.resumed = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        from botocore.exceptions import IncompleteReadError, ReadTimeoutError, ResponseStreamingError

        for attempt in range(self._tries + 1):
            try:
                data = self._body.read(len(buffer))
                break
            except (IncompleteReadError, ReadTimeoutError, ResponseStreamingError):
                if attempt == self._tries:
                    raise
                self._body.close()
                time.sleep(self._backoff_s * 2 ** attempt)
                self._body = self._get(Range=f"bytes={self.offset}-", IfMatch=self._etag)["Body"]
                self.resumed += 1
        self.offset += len(data)
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()


class S3Store:
    def __init__(self, client: Any, bucket: str, prefix: str, url: str, part_bytes: int = S3_PART_BYTES,
                 expected_owner: str | None = None, encryption: Encryption | None = None,
                 lock: ObjectLock | None = None) -> None:
        self.client, self.bucket, self.prefix, self.url = client, bucket, prefix.strip("/"), url
        self.part_bytes = part_bytes
        self.expected_owner = expected_owner
        self.encryption = encryption or Encryption()
        # Added to every call on the bucket: S3 refuses the call when another account owns the bucket.
        self._owner = {"ExpectedBucketOwner": expected_owner} if expected_owner else {}
        self._sse = self.encryption.put_arguments()  # added to every object this store creates
        self.lock = lock
        self._lock_enabled: bool | None = None  # the bucket's Object Lock, asked once
        self._lock_unknown: str | None = None  # why the bucket's Object Lock could not be read, for retention

    def _created(self, key: str) -> dict[str, Any]:
        """What every object this store creates under `key` is asked for: encryption, and its lock."""
        return {**self._sse, **(self.lock.put_arguments(key) if self.lock else {})}

    def _key(self, key: str) -> str:
        return join(self.prefix, key)

    def check_writable(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket, **self._owner)
        except Exception as exc:
            if is_error(exc, "404", "NoSuchBucket", "NotFound"):
                raise InputError("destination", f"bucket {self.bucket!r} of {self.url} does not exist",
                                 "create it first (the setup playbook does) or correct the bucket name") from exc
            if is_error(exc, "403", "AccessDenied", "Forbidden") and self.expected_owner:
                raise InputError("destination", f"bucket {self.bucket!r} is not owned by {self.expected_owner} "
                                 "(or access to it is denied)",
                                 "set bucket_owner to the account that owns it, or grant s3:PutObject and "
                                 "s3:ListBucket on it to the backup role") from exc
            if is_error(exc, "403", "AccessDenied", "Forbidden"):
                raise InputError("destination", f"access to bucket {self.bucket!r} is denied",
                                 "grant s3:PutObject and s3:ListBucket on it to the backup role") from exc
            raise
        if self.lock and not self.object_lock_enabled():
            raise InputError("object_lock_mode", f"bucket {self.bucket!r} has no S3 Object Lock, so backups "
                             f"cannot be locked in {self.lock.mode} mode", "create the bucket with Object Lock "
                             "(playbooks/setup.yml with hippolyte_object_lock), or enable it on this versioned "
                             "bucket (PutObjectLockConfiguration), or leave object_lock_mode unset")

    def object_lock_enabled(self) -> bool:
        """Whether the bucket has S3 Object Lock (asked once)."""
        if self._lock_enabled is None:
            try:
                answer = self.client.get_object_lock_configuration(Bucket=self.bucket, **self._owner)
                self._lock_enabled = answer["ObjectLockConfiguration"].get("ObjectLockEnabled") == "Enabled"
            except Exception as exc:
                if is_error(exc, "403", "AccessDenied"):
                    raise InputError("destination", f"may not read whether bucket {self.bucket!r} has S3 Object "
                                     "Lock, so locked backups cannot be told apart",
                                     "grant s3:GetBucketObjectLockConfiguration on the bucket (run the setup "
                                     "playbook again)") from exc
                if not is_error(exc, "ObjectLockConfigurationNotFoundError"):
                    raise
                self._lock_enabled = False
        return self._lock_enabled

    def lock_states(self, key: str) -> list[LockState]:
        """The lock and legal hold of every object under `key` (one HEAD each); none asked of a bucket without
        Object Lock. A role that may not ask whether the bucket has it (an install older than Object Lock support,
        set up before the grant existed) reads none, and `lock_unknown` says so: deleting a locked version's key
        only adds a delete marker, so nothing is lost, and retention keeps working until setup runs again."""
        try:
            enabled = self._lock_unknown is None and self.object_lock_enabled()
        except InputError as exc:
            self._lock_unknown = (f"{exc.problem}: deleted as if it had none (a locked version stays behind a "
                                  f"delete marker until its date); {exc.fix}")
            enabled = False
        if not enabled:
            return []
        states = []
        for name in self.list_files(key):
            head = self.client.head_object(Bucket=self.bucket, Key=self._key(name), **self._owner)
            until = head.get("ObjectLockRetainUntilDate")
            states.append(LockState(name, head.get("VersionId"), until.astimezone(UTC) if until else None,
                                    head.get("ObjectLockMode"), head.get("ObjectLockLegalHoldStatus") == "ON"))
        return states

    def lock_unknown(self) -> str | None:
        return self._lock_unknown

    def set_legal_hold(self, state: LockState, on: bool) -> None:
        version = {"VersionId": state.version_id} if state.version_id else {}
        self.client.put_object_legal_hold(Bucket=self.bucket, Key=self._key(state.key), **version, **self._owner,
                                          LegalHold={"Status": "ON" if on else "OFF"})

    def default_encryption(self) -> Encryption:
        """The bucket's default encryption: what S3 applies to objects others (Data Pipeline) write."""
        try:
            rules = self.client.get_bucket_encryption(Bucket=self.bucket, **self._owner)[
                "ServerSideEncryptionConfiguration"]["Rules"]
        except Exception as exc:
            if is_error(exc, "ServerSideEncryptionConfigurationNotFoundError"):
                return Encryption()
            raise
        rule = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        return Encryption(rule.get("SSEAlgorithm"), rule.get("KMSMasterKeyID"))

    def require_default_encryption(self) -> None:
        """Fail unless the bucket's default encryption is the one this store asks for (for writers that
        cannot be asked, such as Data Pipeline's export activities)."""
        have = self.default_encryption()
        if not have.covers(self.encryption):
            raise InputError("sse", f"bucket {self.bucket!r} encrypts by default with {have.sse or 'nothing'}"
                             f"{' key ' + have.kms_key_id if have.kms_key_id else ''}, and Data Pipeline's exports "
                             f"are written with it, not with {self.encryption.sse} as asked",
                             "set the bucket's default encryption to it (playbooks/setup.yml does), "
                             "or leave sse unset for this engine")

    def open_writer(self, key: str, replace: bool = False) -> ObjectWriter:
        """A streamed object, created only if its key is free unless `replace` (a staging copy's own parts)."""
        return _S3Writer(self.client, self.bucket, self._key(key), self.part_bytes, self._owner, self._created(key),
                         replace)

    def put_bytes(self, key: str, data: bytes, exclusive: bool = False) -> None:
        if not exclusive:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, **self._owner,
                                   **self._created(key))
        elif not self.claim(key, data):
            raise ObjectExists(url_under(self.url, key))

    def claim(self, key: str, data: bytes) -> bool:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*", **self._owner,
                                   **self._created(key))
        except Exception as exc:
            # 409: a concurrent conditional write of it is in flight and will win.
            if is_error(exc, "ConditionalRequestConflict", "409"):
                return False
            # 412: the object exists. It is still ours when the answer to our own write was lost and botocore
            # retried it: the bytes are then exactly ours (claims and manifests are unique to their writer).
            if is_error(exc, "PreconditionFailed", "412"):
                return self.read_bytes(key) == data
            raise
        return True

    def _get_object(self, key: str, **extra: Any) -> dict[str, Any]:
        """The one place a GetObject request is built."""
        answer = self.client.get_object(Bucket=self.bucket, Key=self._key(key), **self._owner, **extra)
        return cast("dict[str, Any]", answer)

    def open_reader(self, key: str) -> BinaryIO:
        return ResumingS3Reader(lambda **extra: self._get_object(key, **extra))  # type: ignore[return-value]

    def read_bytes(self, key: str) -> bytes:
        reader = self.open_reader(key)
        try:
            return reader.read()
        finally:
            reader.close()

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key), **self._owner)
            return True
        except Exception as exc:
            if is_error(exc, "404", "NoSuchKey", "NotFound"):
                return False
            raise

    def _pages(self, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        prefix = self._key(key) + "/" if self._key(key) else ""
        pages = self.client.get_paginator("list_objects_v2")
        yield from pages.paginate(Bucket=self.bucket, Prefix=prefix, **self._owner, **kwargs)

    def list_children(self, key: str) -> list[str]:
        names = [cp["Prefix"].rstrip("/").rsplit("/", 1)[-1]
                 for page in self._pages(key, Delimiter="/") for cp in page.get("CommonPrefixes", [])]
        return sorted(names)

    def list_files(self, key: str) -> list[str]:
        strip = len(self.prefix) + 1 if self.prefix else 0
        return sorted(obj["Key"][strip:] for page in self._pages(key) for obj in page.get("Contents", []))

    def list_objects(self, key: str) -> list[StoredObject]:
        """Every object under `key`, from one paginated listing without delimiter (no call per object)."""
        strip = len(self.prefix) + 1 if self.prefix else 0
        objects = [StoredObject(obj["Key"][strip:], obj["Size"], obj["LastModified"].astimezone(UTC))
                   for page in self._pages(key) for obj in page.get("Contents", [])]
        return sorted(objects, key=lambda o: o.key)

    def delete_tree(self, key: str) -> list[str]:
        """Delete a folder; returns the keys S3 refused (none when it is gone). DeleteObjects answers 200 even
        when it refuses keys (AccessDenied for a role without s3:DeleteObject): each is in the answer's Errors."""
        keys = [{"Key": self._key(k)} for k in self.list_files(key)]
        strip = len(self.prefix) + 1 if self.prefix else 0
        refused: list[str] = []
        for start in range(0, len(keys), 1000):
            answer = self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys[start:start + 1000],
                                                                            "Quiet": True}, **self._owner)
            refused += [error["Key"][strip:] for error in answer.get("Errors", [])]
        return refused


def open_store(url: str, s3_client: Any = None, bucket_owner: str | None = None,
               encryption: Encryption | None = None, lock: ObjectLock | None = None) -> BackupStore:
    """The store for a destination URL; `s3_client` is only needed (and only called for) s3:// URLs.

    `bucket_owner` (an account id) is the account every S3 call expects to own the bucket; `encryption`
    is asked of S3 for every object written (a file:// destination relies on its disk and 0600 files); `lock`
    of S3 for every object written into a backup folder (a file:// destination cannot lock).
    """
    if encryption is not None:
        encryption.validate()
    if lock is not None:
        lock.validate()
    if bucket_owner is not None and not ACCOUNT_ID.match(bucket_owner):
        raise InputError("bucket_owner", f"{bucket_owner!r} is not an AWS account id", "write it as 12 digits")
    parsed = urlparse(check_destination(url))
    if parsed.scheme == "s3":
        if not parsed.netloc:
            raise InputError("destination", f"{url} names no bucket", "write it as s3://bucket/prefix")
        if s3_client is None:
            raise InputError("destination", "an s3:// destination needs an S3 client", "pass s3 connection settings")
        return S3Store(s3_client, parsed.netloc, parsed.path, url, expected_owner=bucket_owner, encryption=encryption,
                       lock=lock)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            raise InputError("destination", f"{url} is not an absolute file URL", "write it as file:///absolute/dir")
        if lock is not None:
            raise InputError("object_lock_mode", f"{url} is a local folder, which S3 Object Lock cannot protect",
                             "leave object_lock_mode unset for a file:// destination")
        return FileStore(Path(unquote(parsed.path)), url)
    raise InputError("destination", f"{url!r} is neither s3:// nor file://",
                     "use s3://bucket/prefix or file:///absolute/dir")
