"""The restored table's KMS key: the backed-up key only where it can serve (its own account and region), else
target_kms_key_id, asked for before anything is created; the choice said in the result. On moto, which keeps
the key a table was created with (it does not check that a key of another region or account is usable: the
rule is the collection's, from AWS's documented behaviour)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_key import choose_table_key
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.scan_backup import ScanSettings, backup_table
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.import_restore import (
    ImportSettings,
    restore_by_import,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.restoring.restore import (
    RestoreSettings,
    restore_backup,
)
from tests.conftest import REGION, client
from tests.support.ansible_run import run_module
from tests.support.tables import put_items, simple_items, table_names

NIGHT = datetime(2026, 11, 20, 1, 0, 0, tzinfo=UTC)
OTHER_REGION = "us-west-2"
MOTO_ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:{REGION}:{MOTO_ACCOUNT}:key/0a1b2c3d-0000-4000-8000-000000000001"


def encrypted_table_with_backup(moto: Any, name: str, tmp_path: Path) -> tuple[Any, Any, str, str]:
    """A table encrypted with a customer managed key of moto's account in REGION, and its backup: (ddb, store,
    folder, key ARN)."""
    key = client("kms", moto.url).create_key(Description=name)["KeyMetadata"]["Arn"]
    ddb = client("dynamodb", moto.url)
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    put_items(ddb, name, simple_items(12))
    store = open_store(f"file://{tmp_path}/backups")
    folder = backup_table(ddb, store, name, REGION, ScanSettings(read_units_per_second=0), NIGHT).folder
    return ddb, store, folder, key


def regional(service: str, moto: Any, region: str) -> Any:
    return boto3.client(service, region_name=region, endpoint_url=moto.url)


def table_key_of(ddb: Any, name: str) -> str | None:
    sse = ddb.describe_table(TableName=name)["Table"].get("SSEDescription") or {}
    return sse.get("KMSMasterKeyArn")


def test_the_backed_up_key_is_kept_in_its_own_account_and_region(moto_server: Any, unique_name: str,
                                                                 tmp_path: Path) -> None:
    ddb, store, folder, key = encrypted_table_with_backup(moto_server, unique_name, tmp_path)

    result = restore_backup(ddb, store, folder, f"{unique_name}-r",
                            RestoreSettings(target_account=lambda: MOTO_ACCOUNT))

    assert table_key_of(ddb, f"{unique_name}-r") == key
    assert result.table_key == {"kms_key_id": key,
                                "reason": "the backed-up table's key, in the target's account and region"}


@pytest.mark.parametrize("where", ["region", "account"])
def test_a_key_of_another_region_or_account_is_refused_before_anything_is_created(
        where: str, moto_server: Any, unique_name: str, tmp_path: Path) -> None:
    ddb, store, folder, key = encrypted_table_with_backup(moto_server, unique_name, tmp_path)
    target_ddb = regional("dynamodb", moto_server, OTHER_REGION) if where == "region" else ddb
    account = "222222222222" if where == "account" else MOTO_ACCOUNT
    target = f"{unique_name}-dr"

    with pytest.raises(InputError, match="cannot use; nothing was created") as err:
        restore_backup(target_ddb, store, folder, target, RestoreSettings(target_account=lambda: account))

    assert err.value.field == "target_kms_key_id" and key in str(err.value) and "alias/aws/dynamodb" in err.value.fix
    assert target not in table_names(target_ddb)
    target_key = regional("kms", moto_server, target_ddb.meta.region_name).create_key()["KeyMetadata"]["Arn"]

    result = restore_backup(target_ddb, store, folder, target,
                            RestoreSettings(target_account=lambda: account, target_kms_key_id=target_key))

    assert table_key_of(target_ddb, target) == target_key and result.counted_items == 12
    assert result.table_key == {"kms_key_id": target_key, "reason": "target_kms_key_id was given"}


def test_an_import_into_another_region_asks_for_the_key_and_passes_it(moto_server: Any, unique_name: str) -> None:
    """ImportTable's TableCreationParameters carry the chosen key (recorded: moto's import ignores SSE)."""
    ddb = client("dynamodb", moto_server.url)
    s3 = client("s3", moto_server.url)
    s3.create_bucket(Bucket=unique_name, CreateBucketConfiguration={"LocationConstraint": REGION})
    key = client("kms", moto_server.url).create_key()["KeyMetadata"]["Arn"]
    ddb.create_table(TableName=unique_name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
    put_items(ddb, unique_name, simple_items(4))
    store = open_store(f"s3://{unique_name}/dynamodb", s3)
    folder = backup_table(ddb, store, unique_name, REGION, ScanSettings(read_units_per_second=0)).folder
    west_ddb = regional("dynamodb", moto_server, OTHER_REGION)
    asked: list[dict[str, Any]] = []
    west_ddb.meta.events.register("provide-client-params.dynamodb.ImportTable",
                                  lambda params, **_: asked.append(params["TableCreationParameters"]))
    settings = ImportSettings(engine="import", poll_s=0.05)

    with pytest.raises(InputError) as err:
        restore_by_import(west_ddb, store, folder, f"{unique_name}-w", RestoreSettings(), settings)
    assert err.value.field == "target_kms_key_id" and not asked
    west = regional("kms", moto_server, OTHER_REGION).create_key()["KeyMetadata"]["Arn"]
    result, _report = restore_by_import(west_ddb, store, folder, f"{unique_name}-w",
                                        RestoreSettings(target_kms_key_id=west), settings)

    assert asked[0]["SSESpecification"] == {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": west}
    assert result.table_key == {"kms_key_id": west, "reason": "target_kms_key_id was given"}


def test_a_table_of_dynamodbs_default_encryption_stays_so() -> None:
    schema = {"SSEDescription": None}
    choice = choose_table_key(schema, OTHER_REGION, lambda: pytest.fail("the account is not needed"), None)
    assert choice.kms_key_id is None and choice.sse_specification() is None and "default" in choice.reason


def test_an_account_the_endpoint_cannot_tell_is_checked_by_region_only() -> None:
    schema = {"SSEDescription": {"SSEType": "KMS", "KMSMasterKeyArn": KEY_ARN}}
    choice = choose_table_key(schema, REGION, lambda: None, None)
    assert choice.kms_key_id == KEY_ARN and "account is not known" in choice.reason
    with pytest.raises(InputError):
        choose_table_key(schema, OTHER_REGION, lambda: None, None)


def test_the_module_restores_into_another_region_with_the_key_given(moto_server: Any, unique_name: str,
                                                                    tmp_path: Path) -> None:
    """Through the module and target_connection: refused without the key (field named), restored with it, the
    choice in the result."""
    encrypted_table_with_backup(moto_server, unique_name, tmp_path)
    args = {"destination": f"file://{tmp_path}/backups", "table": unique_name, "target": f"{unique_name}-west",
            "region": REGION, "endpoint_url": moto_server.url,
            "target_connection": {"region": OTHER_REGION, "endpoint_url": moto_server.url}}

    refused = run_module("backup_restore", args)

    assert refused.failed and refused.result["field"] == "target_kms_key_id", refused.output[-2000:]
    west = regional("kms", moto_server, OTHER_REGION).create_key()["KeyMetadata"]["Arn"]
    done = run_module("backup_restore", {**args, "target_kms_key_id": west})
    assert not done.failed, done.output[-3000:]
    assert done.result["table_key"] == {"kms_key_id": west, "reason": "target_kms_key_id was given"}
    assert table_key_of(regional("dynamodb", moto_server, OTHER_REGION), f"{unique_name}-west") == west
