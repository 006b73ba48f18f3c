"""Private backups (file:// modes, the S3 expected bucket owner) and exclusive claims, on moto server."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    ObjectExists,
    PartialFolderLeft,
    S3Store,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import list_backups
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.folder_claim import CLAIM_NAME
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.s3_refusals import RefusingDeletes
from tests.support.tables import canonical, create_table, put_items, scan_all, simple_items

ACCOUNT = "123456789012"  # moto's account
OWNER_HEADER = "x-amz-expected-bucket-owner"


@pytest.fixture
def umask_022() -> Any:
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes_under(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def test_file_store_writes_private_files_and_leaves_existing_folders(umask_022: Any, tmp_path: Path) -> None:
    (tmp_path / "shared").mkdir(mode=0o755)
    store = open_store(f"file://{tmp_path}/shared/backups")
    writer = store.open_writer("a/b/data/part-00000.json.gz")
    writer.write(b"x")
    writer.close()
    store.put_bytes("a/b/manifest.json", b"{}")
    store.put_bytes("a/b/once.json", b"{}", exclusive=True)
    assert store.claim("a/c/claim.json", b"{}")
    modes = modes_under(tmp_path / "shared" / "backups")
    assert {m for name, m in modes.items() if (tmp_path / "shared" / "backups" / name).is_dir()} == {0o700}
    assert {m for name, m in modes.items() if (tmp_path / "shared" / "backups" / name).is_file()} == {0o600}
    assert len(modes) == 9  # no tmp file left behind
    assert stat.S_IMODE((tmp_path / "shared").stat().st_mode) == 0o755  # the user's own folder is untouched


def test_file_backup_has_no_group_or_world_bits(umask_022: Any, moto_server: Any, unique_name: str,
                                                tmp_path: Path) -> None:
    ddb = client("dynamodb", moto_server.url)
    create_table(ddb, unique_name)
    put_items(ddb, unique_name, simple_items(50))
    store = open_store(f"file://{tmp_path}/dest")
    backup_table(ddb, store, unique_name, REGION, ScanSettings(workers=2, part_max_bytes=1024**2))
    modes = modes_under(tmp_path / "dest")
    assert len(modes) > 6 and not [name for name, mode in modes.items() if mode & 0o077]


@pytest.mark.parametrize("kind", ["file", "s3"])
def test_claim_is_exclusive(kind: str, moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    if kind == "s3":
        s3 = client("s3", moto_server.url)
        s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
        store = open_store(f"s3://{unique_name}/p", s3, ACCOUNT)
    else:
        store = open_store(f"file://{tmp_path}/dest")
    assert store.claim("f/claim.json", b"first")
    assert not store.claim("f/claim.json", b"second")
    assert store.read_bytes("f/claim.json") == b"first"
    store.put_bytes("f/manifest.json", b"one", exclusive=True)
    with pytest.raises(ObjectExists):
        store.put_bytes("f/manifest.json", b"two", exclusive=True)
    assert store.read_bytes("f/manifest.json") == b"one"


def test_a_claimed_folder_without_manifest_is_incomplete(tmp_path: Path) -> None:
    store = open_store(f"file://{tmp_path}/dest")
    assert store.claim(f"{ACCOUNT}/{REGION}/orders/2030-01-01-00-00-00/{CLAIM_NAME}", b"{}")
    [ref] = list_backups(store, "orders", REGION, ACCOUNT)
    assert not ref.complete


def test_every_s3_call_of_a_backup_and_restore_names_the_bucket_owner(moto_server: Any, unique_name: str) -> None:
    """moto does not enforce ExpectedBucketOwner, so this records what is sent: a botocore `before-send`
    hook sees every HTTP request of the S3 client, and each must carry the owner header."""
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name)
    put_items(ddb, unique_name, simple_items(300, pad=200))
    sent: list[tuple[str, str, str | None]] = []
    s3.meta.events.register("before-send.s3", lambda request, **_: sent.append(
        (request.method, request.url, request.headers.get(OWNER_HEADER, b"").decode() or None)))
    store = S3Store(s3, unique_name, "backups", f"s3://{unique_name}/backups", expected_owner=ACCOUNT)
    result = backup_table(ddb, store, unique_name, REGION, ScanSettings(workers=1))
    restored = restore_backup(ddb, store, result.folder, f"{unique_name}-r", RestoreSettings(workers=2, readers=2))
    assert restored.counted_items == 300
    assert canonical(scan_all(ddb, f"{unique_name}-r")) == canonical(scan_all(ddb, unique_name))
    # Objects bigger than a part go as multipart uploads (completed, or aborted), and a tree is deleted.
    for end in ("close", "abort"):
        writer = store.open_writer(f"big/{end}")
        writer.write(b"x" * (store.part_bytes + 1))
        getattr(writer, end)()
    store.delete_tree("big")
    calls = [(method, url) for method, url, _owner in sent]
    assert ("HEAD", f"{moto_server.url}/{unique_name}") in calls  # check_writable's head_bucket
    assert {"uploads", "uploadId", "delete", "list-type"} <= {q.split("=")[0] for _method, url in calls
                                                              for q in url.partition("?")[2].split("&")}
    assert [(method, url) for method, url, owner in sent if owner != ACCOUNT] == []


def test_bucket_owner_must_be_an_account_id(moto_server: Any, unique_name: str) -> None:
    with pytest.raises(InputError, match="bucket_owner"):
        open_store(f"s3://{unique_name}/p", client("s3", moto_server.url), "12345")
    result = run_module("dynamodb_scan_backup", {
        "table": unique_name, "destination": f"s3://{unique_name}/p", "bucket_owner": "not-an-account",
        "region": REGION, "endpoint_url": moto_server.url})
    assert result.failed and result.result.get("field") == "bucket_owner"


@pytest.mark.parametrize("size", ["small", "multipart"])
def test_a_written_object_is_never_replaced(size: str, moto_server: Any, unique_name: str) -> None:
    """Every streamed object is written with If-None-Match: * (moto 5.2.5 answers 412 to both PutObject and
    CompleteMultipartUpload, as S3 does). Writing the same bytes again is our own retried write whose answer
    was lost: accepted. Other bytes under the key fail naming it, and the stored object stays."""
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    store = S3Store(s3, unique_name, "p", f"s3://{unique_name}/p", part_bytes=5 * 1024**2, expected_owner=ACCOUNT)
    sent: list[tuple[str, str, str | None]] = []
    s3.meta.events.register("before-send.s3", lambda request, **_: sent.append(
        (request.method, request.url, request.headers.get("If-None-Match"))))
    first = (b"a" * (store.part_bytes + 1)) if size == "multipart" else b"first"

    def write(data: bytes) -> None:
        writer = store.open_writer("f/data/part-0.json")
        writer.write(data)
        writer.close()

    write(first)
    write(first)  # the retry of a write whose answer was lost
    with pytest.raises(ObjectExists, match=f"s3://{unique_name}/p/f/data/part-0.json"):
        write(first[:-1] + b"b")
    assert store.read_bytes("f/data/part-0.json") == first
    creating = [(method, url, header) for method, url, header in sent
                if (method == "PUT" and "partNumber" not in url) or (method == "POST" and "uploadId=" in url)]
    assert len(creating) == 3 and all(header in ("*", b"*") for _m, _u, header in creating)


class FailingScans:
    """A DynamoDB client whose Scan fails (a lost connection), so the backup fails after writing its claim."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def scan(self, **_kwargs: Any) -> dict[str, Any]:
        raise ConnectionError("connection lost")


def test_a_partial_folder_s3_refuses_to_delete_is_reported_and_stays_incomplete(moto_server: Any,
                                                                                unique_name: str) -> None:
    ddb, s3 = client("dynamodb", moto_server.url), client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    create_table(ddb, unique_name)
    put_items(ddb, unique_name, simple_items(10))
    store = open_store(f"s3://{unique_name}/p", RefusingDeletes(s3, CLAIM_NAME), ACCOUNT)
    with pytest.raises(PartialFolderLeft, match=f"connection lost; its partial folder s3://{unique_name}/p/"
                                                f".* was not deleted .*{CLAIM_NAME}") as failure:
        backup_table(FailingScans(ddb), store, unique_name, REGION, ScanSettings(workers=1))
    folder = failure.value.url.removeprefix(f"s3://{unique_name}/p/")
    assert failure.value.left == [f"{folder}/{CLAIM_NAME}"] == store.list_files(folder)
    [ref] = list_backups(store, unique_name, REGION, ACCOUNT)
    assert ref.folder == folder and not ref.complete  # left to retention's incomplete-folder rule
    # Without a refusal the failure is the scan's own, and nothing is left.
    plain = open_store(f"s3://{unique_name}/q", s3, ACCOUNT)
    with pytest.raises(ConnectionError):
        backup_table(FailingScans(ddb), plain, unique_name, REGION, ScanSettings(workers=1))
    assert plain.list_files("") == []
