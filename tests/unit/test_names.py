"""Names that become paths: no accepted name leads out of the destination, and bad ones are refused by field."""

from __future__ import annotations

import posixpath
from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.manifest import data_files
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    KMS_KEY_ARN,
    PRINCIPAL_ARN,
    ROLE_ARN,
    SNS_TOPIC_ARN,
    SNS_TOPIC_NAME,
    account_of,
    check_account_id,
    check_destination,
    check_region,
    check_relative_key,
    check_segment,
    check_table_name,
    is_valid_table_name,
    parse_arn,
    sibling_table_arn,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import backup_folder, list_backups

PREFIX = "backups/dynamodb"
TABLE_CHARS = "abcXYZ019_.-"
# Anything at all, with the characters that lead out of a folder made likely.
ANY_NAME = st.text(alphabet=st.sampled_from([*TABLE_CHARS, "/", "\\", "\x00", "\n", "\x7f", " ", "é"])
                   | st.characters(), max_size=300)
TIMES = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


def accepted(check, value):
    try:
        check(value)
    except InputError:
        return False
    return True


@settings(max_examples=500)
@given(account=st.one_of(st.from_regex(r"[0-9]{12}", fullmatch=True), ANY_NAME),
       region=st.one_of(st.sampled_from(["eu-west-1", "us-gov-west-1", "cn-north-1", "us-isob-east-1"]), ANY_NAME),
       table=st.one_of(st.text(alphabet=TABLE_CHARS, min_size=1, max_size=260), ANY_NAME),
       taken=TIMES)
def test_no_accepted_name_yields_a_key_outside_the_destination(account, region, table, taken):
    try:
        folder = backup_folder(account, region, table, taken)
    except InputError as exc:
        assert exc.field in ("account_id", "region", "table")
        return
    key = f"{PREFIX}/{folder}/data/part-00000.json.gz"
    assert posixpath.normpath(key).startswith(PREFIX + "/")
    assert posixpath.normpath(key) == key  # nothing normalisation would rewrite: no '.', '..' or '//'
    segments = folder.split("/")
    assert len(segments) == 4 and segments[:3] == [account, region, table]
    assert not any(s in (".", "..") for s in segments)


@given(name=ANY_NAME)
@example("...")
@example("../x")
@example("a\x00bc")
def test_a_name_with_a_separator_dots_only_or_a_control_character_is_refused(name):
    leads_out = ("/" in name or "\\" in name or name in ("", ".", "..")
                 or any(ord(c) < 32 or ord(c) == 127 for c in name))
    if leads_out:
        assert not accepted(lambda v: check_segment("run_id", v), name)
        assert not accepted(lambda v: check_region("region", v), name)
        assert not accepted(lambda v: check_account_id("account_id", v), name)
    if leads_out or name.strip(".") == "":
        assert not is_valid_table_name(name)
        assert not accepted(lambda v: check_table_name("table", v), name)


@pytest.mark.parametrize("name, ok", [
    ("orders", True), ("a.b-c_D9", True), ("abc", True), ("x" * 255, True),
    ("ab", False), ("x" * 256, False), ("...", False), ("../../../x", False), ("a/b", False),
    ("bad name", False), ("tab\tle", False), ("naïve", False), ("orders\n", False), ("", False), (None, False),
])
def test_table_names_follow_dynamodbs_rule(name, ok):
    assert is_valid_table_name(name) is ok


@pytest.mark.parametrize("check, field, value", [
    (check_account_id, "account_id", "../../.."),
    (check_account_id, "account_id", "12345678901"),
    (check_account_id, "account_id", "1234567890123"),
    (check_account_id, "account_id", "123456789012\n"),
    (check_region, "region", "../eu-west-1"),
    (check_region, "region", "local"),
    (check_region, "region", "eu-west-1/.."),
    (check_segment, "export_id", ".."),
    (check_segment, "export_id", "."),
    (check_segment, "export_id", "a/b"),
    (check_segment, "export_id", "a\\b"),
    (check_segment, "export_id", "a\x00b"),
    (check_segment, "export_id", ""),
    (check_segment, "export_id", "x" * 256),
    (check_relative_key, "files", "data/../../x"),
    (check_relative_key, "files", "/etc/passwd"),
    (check_relative_key, "files", "data//x"),
])
def test_a_bad_name_is_refused_naming_its_field(check, field, value):
    with pytest.raises(InputError) as raised:
        check(field, value)
    assert raised.value.field == field


@pytest.mark.parametrize("region", ["eu-west-1", "us-gov-west-1", "cn-north-1", "ap-southeast-10", "us-isob-east-1"])
def test_aws_regions_are_accepted(region):
    assert check_region("region", region) == region


@pytest.mark.parametrize("url", [
    "file:///srv/dest/../../../outside", "file:///srv/./dest", "file:///srv/dest/..", "file:///srv/%2e%2e/x",
    "s3://bucket/a/../b", "s3://bucket/./a", "s3://bucket/a//b", "s3://bucket/..",
])
def test_a_destination_with_dot_or_empty_segments_is_refused(url):
    with pytest.raises(InputError) as raised:
        open_store(url, s3_client=object())
    assert raised.value.field == "destination"


@pytest.mark.parametrize("url", ["file:///srv/backups/prod#2", "s3://bucket/p?x=1", "s3://bucket/p?",
                                 "file:///srv/dest#", "s3://bucket#frag", "file:///srv/a?b/c"])
def test_a_destination_with_a_query_or_fragment_is_refused_naming_the_field(url):
    """urlparse would drop them and the backups would go to (or come from) another folder than the one named."""
    with pytest.raises(InputError, match=r"query .* or a fragment") as raised:
        open_store(url, s3_client=object())
    assert raised.value.field == "destination"
    with pytest.raises(InputError) as staged:
        check_destination(url, "stage_to")
    assert staged.value.field == "stage_to"


@pytest.mark.parametrize("url", ["file:///srv/dest", "file:///srv/dest/", "s3://bucket", "s3://bucket/",
                                 "s3://bucket/a/b/", "file:///srv/my.dest..d"])
def test_a_plain_destination_is_accepted(url):
    assert check_destination(url) == url


def test_an_account_override_is_an_account_id():
    assert account_of("arn:aws:dynamodb:eu-west-1:123456789012:table/t", "111111111111") == "111111111111"
    with pytest.raises(InputError) as raised:
        account_of("arn:aws:dynamodb:eu-west-1:123456789012:table/t", "../../..")
    assert raised.value.field == "account_id"


def test_a_manifest_file_path_leading_out_of_its_folder_is_refused():
    ok = {"files": [{"path": "data/part-00000.json.gz", "items": 1, "bytes": 2, "sha256": "x"}]}
    assert data_files(ok)[0].path == "data/part-00000.json.gz"
    with pytest.raises(InputError):
        data_files({"files": [{"path": "../../../other/data/part.json.gz", "items": 1, "bytes": 2, "sha256": "x"}]})


def test_listing_skips_folder_names_that_are_not_the_layouts(tmp_path):
    """Folders planted beside real backups (a non-account, an unpadded time) are never joined or listed."""
    store = open_store(f"file://{tmp_path}")
    good = tmp_path / "123456789012" / "eu-west-1" / "orders" / "2026-11-20-01-00-00"
    good.mkdir(parents=True)
    (good / "hippolyte-manifest.json").write_text("{}")
    (tmp_path / "123456789012" / "eu-west-1" / "orders" / "2026-1-2-3-4-5").mkdir()
    (tmp_path / "not-an-account" / "eu-west-1" / "orders" / "2026-11-21-01-00-00").mkdir(parents=True)
    refs = list_backups(store, "orders", "eu-west-1")
    assert [(r.account, r.folder) for r in refs] == [("123456789012",
                                                      "123456789012/eu-west-1/orders/2026-11-20-01-00-00")]
    with pytest.raises(InputError) as raised:
        list_backups(store, "../orders", "eu-west-1")
    assert raised.value.field == "table"


# The ARN patterns are built from the same parts (partition, region, account, IAM path and name): each accepts its
# own shape in every partition and refuses its neighbours'.
@pytest.mark.parametrize(("pattern", "good", "bad"), [
    (ROLE_ARN, ["arn:aws:iam::123456789012:role/backup", "arn:aws-us-gov:iam::123456789012:role/ops/night/backup"],
     ["arn:aws:iam::123456789012:user/backup", "arn:aws:iam::12345:role/backup", "arn:aws:iam::123456789012:role/a b"]),
    (PRINCIPAL_ARN, ["arn:aws:iam::123456789012:role/ops/ctl", "arn:aws:iam::123456789012:user/anna",
                     "arn:aws-cn:sts::123456789012:assumed-role/ops/anna"],
     ["hippolyte-controller", "arn:aws:iam::123456789012:group/ops", "arn:aws:sts::123456789012:federated-user/a"]),
    (KMS_KEY_ARN, ["arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
     ["alias/ddb", "1234abcd-12ab", "arn:aws:kms:eu-west-1:123456789012:alias/ddb",
      "arn:aws:kms:local:123456789012:key/a"]),
    (SNS_TOPIC_NAME, ["hippolyte-backup-runs", "runs_1", "a" * 256], ["", "backup runs", "a" * 257, "runs.fifo"]),
    (SNS_TOPIC_ARN, ["arn:aws:sns:eu-west-1:123456789012:alarms", "arn:aws:sns:us-east-1:123456789012:a.fifo"],
     ["arn:aws:sqs:eu-west-1:123456789012:alarms", "alarms", "arn:aws:sns:eu-west-1:123456789012:a b"]),
])
def test_arn_and_name_patterns(pattern, good, bad):
    assert [name for name in good if not pattern.fullmatch(name)] == []
    assert [name for name in bad if pattern.fullmatch(name)] == []


TABLE_NAMES = st.from_regex(r"[A-Za-z0-9_.\-]{3,255}", fullmatch=True)


@given(TABLE_NAMES, TABLE_NAMES, st.sampled_from(["aws", "aws-cn", "aws-us-gov"]))
def test_a_sibling_tables_arn_is_the_one_dynamodb_gives_it(first: str, other: str, partition: str) -> None:
    """Reconcile names every table of a region from one table's ARN: the same account, region and partition."""
    like = parse_arn(f"arn:{partition}:dynamodb:eu-west-1:123456789012:table/{first}")
    assert like is not None
    assert sibling_table_arn(like, other) == f"arn:{partition}:dynamodb:eu-west-1:123456789012:table/{other}"
