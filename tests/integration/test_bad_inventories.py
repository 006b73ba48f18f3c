"""A corpus of bad inventories: every bad value of every hippolyte_* variable fails before any AWS call, with a
message naming the host, the variable and the fix.

Each entry is checked through the roles' filter (the whole corpus, fast); a handful also run the real backup
and restore playbooks against a proxy in front of dynalite that counts every request it gets: the run must
fail in the validation task and the proxy must have seen nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from ansible_collections.hippolyte.dynamodb.plugins.filter.inventory import (
    inventory_deprecations,
    inventory_problems,
    known_names,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.inventory_check import RULES, SETUP_RULES
from tests.conftest import REGION
from tests.support.ansible_run import REPO, run_playbook
from tests.support.forwarding_proxy import Answer, ForwardingProxy, Request
from tests.support.inventory import inventory


class Bad(NamedTuple):
    name: str
    role: str
    values: dict[str, Any]
    variable: str  # the variable the first problem must name
    fix: str = ""  # a part of the fix the message must give


WINDOW = {"start": "00:00", "end": "07:00", "timezone": "UTC"}
ROLE = "arn:aws:iam::123456789012:role/backup"
KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

CORPUS = [
    Bad("hour 25", "backup", {"hippolyte_window": {**WINDOW, "start": "25:00"}}, "hippolyte_window.start", "HH:MM"),
    Bad("end not a time", "backup", {"hippolyte_window": {**WINDOW, "end": "7pm"}}, "hippolyte_window.end", "HH:MM"),
    Bad("unknown time zone", "backup", {"hippolyte_window": {**WINDOW, "timezone": "Mars/Olympus"}},
        "hippolyte_window.timezone", "IANA"),
    Bad("window of no length", "backup", {"hippolyte_window": {**WINDOW, "end": "00:00"}}, "hippolyte_window",
        "different from the start"),
    Bad("window key misspelt", "backup", {"hippolyte_window": {"start": "01:00", "end": "05:00", "tz": "UTC"}},
        "hippolyte_window.tz", "start, end, timezone"),
    Bad("unknown region", "backup", {"hippolyte_region": "eu-wset-1"}, "hippolyte_region", "eu-west-1"),
    Bad("empty region", "backup", {"hippolyte_region": ""}, "hippolyte_region", "AWS_REGION"),
    Bad("stand-in region", "backup", {"hippolyte_region": "local"}, "hippolyte_region", "eu-west-1"),
    Bad("bucket with capitals", "backup", {"hippolyte_destination": "s3://My_Backups/ddb"}, "hippolyte_destination",
        "lowercase"),
    Bad("bucket too short", "backup", {"hippolyte_destination": "s3://ab/ddb"}, "hippolyte_destination", "3 to 63"),
    Bad("bucket shaped like an IP", "backup", {"hippolyte_destination": "s3://10.0.0.1/ddb"},
        "hippolyte_destination", "3 to 63"),
    Bad("destination a bare path", "backup", {"hippolyte_destination": "/var/backups"}, "hippolyte_destination",
        "file:///"),
    Bad("destination leaving its folder", "backup", {"hippolyte_destination": "file:///var/b/../etc"},
        "hippolyte_destination", "plain absolute path"),
    Bad("destination with a fragment", "backup", {"hippolyte_destination": "file:///var/backups/prod#2"},
        "hippolyte_destination", "cannot hold '?' or '#'"),
    Bad("destination with a query", "backup", {"hippolyte_destination": "s3://night-backups.example/p?x=1"},
        "hippolyte_destination", "cannot hold '?' or '#'"),
    Bad("staging with a query", "restore", {"hippolyte_restore_stage_to": "s3://stage.example/p?x=1"},
        "hippolyte_restore_stage_to", "cannot hold '?' or '#'"),
    Bad("retention count not a number", "backup", {"hippolyte_retention": {"keep_last": "three"}},
        "hippolyte_retention.keep_last", "a whole number"),
    Bad("destination missing", "backup", {"hippolyte_destination": None}, "hippolyte_destination", "s3://"),
    Bad("empty include", "backup", {"hippolyte_include": []}, "hippolyte_include", '["*"]'),
    Bad("unclosed glob", "backup", {"hippolyte_include": ["orders-[0-9*"]}, "hippolyte_include", "close the set"),
    Bad("empty glob set", "backup", {"hippolyte_exclude": ["orders-[]"]}, "hippolyte_exclude", "close the set"),
    Bad("pattern no table matches", "backup", {"hippolyte_include": ["orders/2024"]}, "hippolyte_include",
        "table names hold only"),
    Bad("include not a list", "backup", {"hippolyte_include": "orders"}, "hippolyte_include", "a list"),
    Bad("role ARN short account", "backup", {"hippolyte_role_arn": "arn:aws:iam::12345:role/backup"},
        "hippolyte_role_arn", "12-digit"),
    Bad("role ARN of a user", "backup", {"hippolyte_role_arn": "arn:aws:iam::123456789012:user/backup"},
        "hippolyte_role_arn", ":role/"),
    Bad("external id without role", "backup", {"hippolyte_role_external_id": "guard-1234"},
        "hippolyte_role_external_id", "hippolyte_role_arn"),
    Bad("external id with a space", "backup", {"hippolyte_role_arn": ROLE, "hippolyte_role_external_id": "a b"},
        "hippolyte_role_external_id", "trust policy"),
    Bad("session too short", "backup", {"hippolyte_role_duration": 60}, "hippolyte_role_duration", "900 to 43200"),
    Bad("SNS ARN of SQS", "backup", {"hippolyte_sns_topic_arn": "arn:aws:sqs:eu-west-1:123456789012:alarms"},
        "hippolyte_sns_topic_arn", "arn:aws:sns:"),
    Bad("SNS topic by name", "backup", {"hippolyte_sns_topic_arn": "alarms"}, "hippolyte_sns_topic_arn",
        "arn:aws:sns:"),
    Bad("misspelt read percentage", "backup", {"hippolyte_read_precentage": 0.3}, "hippolyte_read_precentage",
        "did you mean hippolyte_read_percentage?"),
    Bad("misspelt include", "backup", {"hippolyte_inlcude": ["orders"]}, "hippolyte_inlcude",
        "did you mean hippolyte_include?"),
    Bad("share above 1", "backup", {"hippolyte_read_percentage": 1.5}, "hippolyte_read_percentage", "(0, 1]"),
    Bad("share not a number", "backup", {"hippolyte_read_percentage": "half"}, "hippolyte_read_percentage",
        "a number"),
    Bad("engine misspelt", "backup", {"hippolyte_engine": "lcoal"}, "hippolyte_engine", "did you mean local?"),
    Bad("unknown cluster engine", "backup", {"hippolyte_cluster_engine": "glue"}, "hippolyte_cluster_engine",
        "auto, datapipeline, emr"),
    Bad("no scan worker", "backup", {"hippolyte_scan_workers": 0}, "hippolyte_scan_workers", "at least 1"),
    Bad("pipeline object limit too low", "backup", {"hippolyte_max_objects": 3}, "hippolyte_max_objects",
        "at least 5"),
    Bad("bucket owner not an account", "backup", {"hippolyte_bucket_owner": "12345"}, "hippolyte_bucket_owner",
        "12 digits"),
    Bad("endpoint without scheme", "backup", {"hippolyte_endpoint_url": "localhost:8000"}, "hippolyte_endpoint_url",
        "https://"),
    Bad("EMR setting misspelt", "backup", {"hippolyte_emr": {"subnet": "subnet-0abc"}}, "hippolyte_emr.subnet",
        "did you mean subnet_id?"),
    Bad("autoscaling not a bool", "backup", {"hippolyte_autoscaling": "maybe"}, "hippolyte_autoscaling",
        "true or false"),
    Bad("negative lease wait", "backup", {"hippolyte_lease_wait_s": -5}, "hippolyte_lease_wait_s", "at least 0"),
    Bad("S3 endpoint a bucket URL", "backup", {"hippolyte_s3_endpoint_url": "s3://backups"},
        "hippolyte_s3_endpoint_url", "https://"),
    Bad("Data Pipeline setting misspelt", "backup", {"hippolyte_datapipeline": {"resourceRole": "r"}},
        "hippolyte_datapipeline.resourceRole", "did you mean job_flow_role?"),
    Bad("empty report folder", "backup", {"hippolyte_report_dir": " "}, "hippolyte_report_dir", "give a folder"),
    Bad("negative summary lines", "backup", {"hippolyte_report_ok_lines": -1}, "hippolyte_report_ok_lines",
        "at least 0"),
    Bad("no on-demand read rate", "backup", {"hippolyte_on_demand_read_units": 0}, "hippolyte_on_demand_read_units",
        "at least 1"),
    Bad("no concurrent scan", "backup", {"hippolyte_max_concurrent_scans": 0}, "hippolyte_max_concurrent_scans",
        "at least 1"),
    Bad("no controller bandwidth", "backup", {"hippolyte_controller_bytes_per_s": 0},
        "hippolyte_controller_bytes_per_s", "at least 1"),
    Bad("negative write capacity", "restore", {"hippolyte_restore_write_capacity": -1},
        "hippolyte_restore_write_capacity", "at least 0"),
    Bad("table leading out", "restore", {"hippolyte_restore_table": "../x"}, "hippolyte_restore_table", "3 to 255"),
    Bad("time not a time", "restore", {"hippolyte_restore_at": "yesterday"}, "hippolyte_restore_at", "2026-11-20"),
    Bad("a day where a second is needed", "restore", {"hippolyte_restore_point_in_time": "2026-11-20"},
        "hippolyte_restore_point_in_time", "give a date and time"),
    Bad("two ways of choosing what to restore", "restore",
        {"hippolyte_restore_increments_until": "2026-11-20T06:30:00Z", "hippolyte_restore_at": "2026-11-19"},
        "hippolyte_restore_increments_until", "give one of -e at=, -e point_in_time= or -e increments_until="),
    Bad("increments faster than DynamoDB exports them", "backup",
        {"hippolyte_increments": {"tables": ["orders"], "every": "5m"}}, "hippolyte_increments.every", "15m to 24h"),
    Bad("no increment window a run", "backup", {"hippolyte_increments": {"tables": ["orders"], "max_windows": 0}},
        "hippolyte_increments.max_windows", "at least 1"),
    Bad("account leading out", "restore", {"hippolyte_account_id": "../../.."}, "hippolyte_account_id", "12 digits"),
    Bad("target too short", "restore", {"hippolyte_restore_target": "ab"}, "hippolyte_restore_target", "3 to 255"),
    Bad("no restore writer", "restore", {"hippolyte_restore_workers": 0}, "hippolyte_restore_workers", "at least 1"),
    Bad("restore engine misspelt", "restore", {"hippolyte_restore_engine": "imprt"}, "hippolyte_restore_engine",
        "did you mean import?"),
    Bad("staging outside S3", "restore", {"hippolyte_restore_stage_to": "file:///srv/stage"},
        "hippolyte_restore_stage_to", "s3://bucket/prefix"),
    Bad("staging bucket owner not an account", "restore", {"hippolyte_restore_stage_bucket_owner": "acme"},
        "hippolyte_restore_stage_bucket_owner", "12 digits"),
    Bad("negative rejected items", "restore", {"hippolyte_restore_max_rejected_items": -1},
        "hippolyte_restore_max_rejected_items", "at least 0"),
    Bad("misspelt account in restore", "restore", {"hippolyte_acount_id": "123456789012"}, "hippolyte_acount_id",
        "did you mean hippolyte_account_id?"),
    Bad("restore role ARN malformed", "restore", {"hippolyte_role_arn": "arn:aws:iam:role/restore"},
        "hippolyte_role_arn", "12-digit"),
    Bad("Data Pipeline role under both names", "backup",
        {"hippolyte_datapipeline": {"role": "PipelineRole", "service_role": "PipelineRole"}},
        "hippolyte_datapipeline.role", "keep service_role only"),
    # The setup role: every check its own assert made, now by the same rules.
    Bad("setup destination a folder", "setup", {"hippolyte_destination": "file:///var/backups"},
        "hippolyte_destination", "s3://bucket/prefix"),
    Bad("setup bucket with capitals", "setup", {"hippolyte_destination": "s3://My_Backups/ddb"},
        "hippolyte_destination", "lowercase"),
    Bad("setup without region", "setup", {"hippolyte_region": ""}, "hippolyte_region", "AWS_REGION"),
    Bad("setup external id with a space", "setup", {"hippolyte_role_external_id": "a b"},
        "hippolyte_role_external_id", "trust policy"),
    Bad("setup role ARN of a user", "setup", {"hippolyte_role_arn": "arn:aws:iam::123456789012:user/backup"},
        "hippolyte_role_arn", ":role/"),
    Bad("setup KMS key by alias", "setup", {"hippolyte_setup": {"encryption": "aws:kms", "kms_key_id": "alias/ddb"}},
        "hippolyte_setup.kms_key_id", "arn:aws:kms:<region>:<account>:key/<id>"),
    Bad("setup KMS without a key", "setup", {"hippolyte_setup": {"encryption": "aws:kms"}},
        "hippolyte_setup.kms_key_id", "give the key's ARN"),
    Bad("setup key without aws:kms", "setup", {"hippolyte_setup": {"kms_key_id": KEY}}, "hippolyte_setup.kms_key_id",
        "set hippolyte_setup.encryption to aws:kms"),
    Bad("setup encryption misspelt", "setup", {"hippolyte_setup": {"encryption": "aes256"}},
        "hippolyte_setup.encryption", "AES256, aws:kms"),
    Bad("setup multipart abort never", "setup", {"hippolyte_setup": {"abort_multipart_days": 0}},
        "hippolyte_setup.abort_multipart_days", "at least 1"),
    Bad("setup negative expiration", "setup", {"hippolyte_setup": {"expiration_days": -1}},
        "hippolyte_setup.expiration_days", "at least 0"),
    Bad("setup negative version expiration", "setup", {"hippolyte_setup": {"noncurrent_expiration_days": -1}},
        "hippolyte_setup.noncurrent_expiration_days", "at least 0"),
    Bad("setup unknown engine", "setup", {"hippolyte_setup": {"engines": ["local", "glacier"]}},
        "hippolyte_setup.engines", "local, export, emr, datapipeline"),
    Bad("setup topic with a space", "setup", {"hippolyte_setup": {"topic_name": "backup runs"}},
        "hippolyte_setup.topic_name", "1 to 256 letters"),
    Bad("setup controller by name", "setup", {"hippolyte_setup": {"controller_arn": "hippolyte-controller"}},
        "hippolyte_setup.controller_arn", "arn:aws:iam::<account>:role/<name>"),
    Bad("setup no restore table", "setup", {"hippolyte_setup": {"restore_tables": []}},
        "hippolyte_setup.restore_tables", '["*-restored-*"]'),
    Bad("setup restore table with /", "setup", {"hippolyte_setup": {"restore_tables": ["a/b"]}},
        "hippolyte_setup.restore_tables", "without /"),
    Bad("setup staging in a folder", "setup", {"hippolyte_setup": {"stage_to": "file:///srv/stage"}},
        "hippolyte_setup.stage_to", "s3://bucket/prefix"),
    Bad("setup undelete table with /", "setup", {"hippolyte_setup": {"undelete_tables": ["live/orders"]}},
        "hippolyte_setup.undelete_tables", "without /"),
    Bad("object lock without retention", "backup", {"hippolyte_object_lock": {"mode": "COMPLIANCE"}},
        "hippolyte_object_lock", "set hippolyte_retention"),
    Bad("object lock without a mode", "setup", {"hippolyte_object_lock": {"default_retention_days": 3}},
        "hippolyte_object_lock.mode", "GOVERNANCE or COMPLIANCE"),
    Bad("object lock of negative days", "setup",
        {"hippolyte_object_lock": {"mode": "GOVERNANCE", "default_retention_days": -1}},
        "hippolyte_object_lock.default_retention_days", "0"),
    Bad("copy without a destination", "backup", {"hippolyte_copy_to": {"region": "eu-central-1"}},
        "hippolyte_copy_to.destination", "s3://bucket/prefix"),
    Bad("copy onto the backups", "backup", {"hippolyte_copy_to": {"destination": "s3://night-backups.example/ddb/"}},
        "hippolyte_copy_to.destination", "no second copy"),
    Bad("copy to a relative folder", "backup", {"hippolyte_copy_to": {"destination": "file://copies"}},
        "hippolyte_copy_to.destination", "file:///absolute/folder"),
    Bad("copy region misspelt", "backup",
        {"hippolyte_copy_to": {"destination": "s3://vault-copies/p", "region": "eu-centrl-1"}},
        "hippolyte_copy_to.region", "eu-central-1"),
    Bad("copy endpoint without scheme", "backup",
        {"hippolyte_copy_to": {"destination": "s3://vault-copies/p", "s3_endpoint_url": "localhost:9000"}},
        "hippolyte_copy_to.s3_endpoint_url", "https://host"),
    Bad("copy owner not an account", "backup",
        {"hippolyte_copy_to": {"destination": "s3://vault-copies/p", "bucket_owner": "vault"}},
        "hippolyte_copy_to.bucket_owner", "12 digits"),
    Bad("copy role by name", "backup",
        {"hippolyte_copy_to": {"destination": "s3://vault-copies/p", "role_arn": "copier"}},
        "hippolyte_copy_to.role_arn", "arn:aws:iam::"),
    Bad("copy external id without its role", "backup",
        {"hippolyte_copy_to": {"destination": "s3://vault-copies/p", "role_external_id": "vault-2026"}},
        "hippolyte_copy_to.role_external_id", "role_arn"),
    Bad("setup setting misspelt", "setup", {"hippolyte_setup": {"topic": "runs"}}, "hippolyte_setup.topic",
        "use only"),
]
# The setup role's argument spec lists hippolyte_setup's settings: Ansible's own validation, run before the role's
# first task, refuses a choice or a setting it does not know before the check does (and before any AWS call too).
SETUP_CASES = [b.name for b in CORPUS if b.role == "setup"
               and b.name not in ("setup encryption misspelt", "setup setting misspelt")]


def good_values(role: str) -> dict[str, Any]:
    """The role's defaults as the play renders them, plus the settings a host must give: no problem."""
    values = yaml.safe_load((REPO / "roles" / role / "defaults" / "main.yml").read_text())
    values.update(hippolyte_region=REGION, hippolyte_destination="s3://night-backups.example/ddb",
                  hippolyte_report_dir="/var/lib/hippolyte/reports")
    if role == "restore":
        values["hippolyte_restore_table"] = "orders"
    return values


def test_every_setup_check_is_a_rule() -> None:
    """Each check the setup role made in Jinja before (the destination s3:// only, region, role ARN, key ARN with
    aws:kms and none without, days, engines, topic name, controller ARN, restore tables, staging) has its case."""
    named = {b.variable for b in CORPUS if b.role == "setup"}
    assert named >= {"hippolyte_destination", "hippolyte_region", "hippolyte_role_arn", "hippolyte_setup.kms_key_id",
                     "hippolyte_setup.abort_multipart_days", "hippolyte_setup.expiration_days",
                     "hippolyte_setup.noncurrent_expiration_days", "hippolyte_setup.engines",
                     "hippolyte_setup.topic_name", "hippolyte_setup.controller_arn",
                     "hippolyte_setup.restore_tables", "hippolyte_setup.stage_to"}


def test_the_defaults_and_a_full_good_host_have_no_problem() -> None:
    assert inventory_problems(good_values("backup"), "backup") == []
    assert inventory_problems(good_values("restore"), "restore") == []
    assert inventory_problems(good_values("setup"), "setup") == []
    # Setup may create the backup role under its default name with a trust policy requiring an external id.
    assert inventory_problems({**good_values("setup"), "hippolyte_role_external_id": "guard-1234"}, "setup") == []
    setup = {**good_values("setup"), "hippolyte_role_arn": ROLE, "hippolyte_datapipeline": {"service_role": "r"},
             "hippolyte_setup": {"encryption": "aws:kms", "kms_key_id": KEY, "engines": ["local", "emr"],
                                 "controller_arn": "arn:aws:sts::123456789012:assumed-role/ops/anna",
                                 "topic_name": "runs_eu-1", "expiration_days": 0, "restore_tables": ["*"],
                                 "stage_to": "s3://stage.example/imports"}}
    assert inventory_problems(setup, "setup") == []
    host = {**good_values("backup"), "hippolyte_role_arn": ROLE, "hippolyte_role_external_id": "guard-1234",
            "hippolyte_window": {"start": "22:30", "end": "05:00", "timezone": "Europe/Paris"},
            "hippolyte_include": ["orders-[0-9]*", "users"], "hippolyte_exclude": ["*-archive", "tmp?"],
            "hippolyte_destination": "file:///var/backups/ddb", "hippolyte_bucket_owner": "123456789012",
            "hippolyte_sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:alarms",
            "hippolyte_endpoint_url": "http://127.0.0.1:8000", "hippolyte_role_duration": "7200",
            "hippolyte_emr": {"subnet_id": "subnet-0abc", "spot": True}, "hippolyte_hosts": "night"}
    assert inventory_problems(host, "backup") == []


def test_retention_counts_given_as_text_are_read_as_numbers() -> None:
    """An inventory's `keep_last: "3"` is 3, as Ansible gives it to the module; the policy's own rules still hold."""
    assert inventory_problems({**good_values("backup"), "hippolyte_retention": {"keep_last": "3"}}, "backup") == []
    assert inventory_problems({**good_values("backup"), "hippolyte_retention": {"keep_last": "-1"}}, "backup") == [
        "hippolyte_retention.keep_last: must be 0 or more, got -1; use 0 to turn the rule off"]


def test_a_shared_inventory_may_hold_the_other_roles_variables() -> None:
    """hippolyte_account_id is the restore role's; set for a whole inventory, the backup role must accept it."""
    assert inventory_problems({**good_values("backup"), "hippolyte_account_id": "123456789012"}, "backup") == []
    assert "hippolyte_account_id" in known_names() and "hippolyte_window" in known_names()


@pytest.mark.parametrize("bad", CORPUS, ids=[b.name for b in CORPUS])
def test_each_bad_value_is_named_with_its_fix(bad: Bad) -> None:
    problems = inventory_problems({**good_values(bad.role), **bad.values}, bad.role)
    assert len(problems) == 1, problems
    variable, fix = problems[0].split(" ", 1)[0], problems[0].split("; ", 1)[1]
    assert variable == bad.variable, problems
    assert bad.fix in fix, problems


def test_the_corpus_is_large_and_covers_every_rule() -> None:
    assert len(CORPUS) >= 30
    named = {re.split(r"[.\[]", b.variable)[0] for b in CORPUS} | {b.variable for b in CORPUS}
    assert set(RULES) | set(SETUP_RULES) <= named


def test_every_problem_of_a_host_is_listed_at_once() -> None:
    bad = {**good_values("backup"), "hippolyte_window": {**WINDOW, "start": "25:00"}, "hippolyte_include": [],
           "hippolyte_region": "eu-wset-1", "hippolyte_read_precentage": 0.3}
    problems = inventory_problems(bad, "backup")
    assert [p.split(" ")[0] for p in problems] == ["hippolyte_read_precentage", "hippolyte_region",
                                                   "hippolyte_window.start", "hippolyte_include"]


# ------------------------------------------------------------------ end to end, through ansible-playbook

class CountingProxy(ForwardingProxy):
    """Counts every request before forwarding it: any AWS call a bad inventory let through shows here."""

    def __init__(self, upstream: str) -> None:
        super().__init__(upstream)
        self.requests: list[str] = []

    def serve(self, request: Request, send: Answer) -> None:
        self.requests.append(request.operation or request.path)
        super().serve(request, send)


END_TO_END = ["hour 25", "unknown time zone", "bucket with capitals", "unclosed glob", "misspelt read percentage",
              "SNS ARN of SQS", "time not a time", "restore role ARN malformed", *SETUP_CASES]
CHECK_TASK = {"backup": "Check every hippolyte_* variable of this host before touching AWS",
              "restore": "Check every hippolyte_* variable of this host before any AWS call",
              "setup": "Check this host's settings before touching AWS"}


def failed_task(stdout: str) -> str:
    """The name of the task whose failure stopped the play."""
    tasks = re.findall(r"^TASK \[(.*)\]", stdout.split("fatal: [night]", 1)[0], re.MULTILINE)
    return tasks[-1] if tasks else ""


@pytest.mark.parametrize("name", END_TO_END)
def test_the_playbook_fails_in_the_check_without_calling_aws(name: str, dynalite_server: Any, tmp_path: Path) -> None:
    bad = next(b for b in CORPUS if b.name == name)
    with CountingProxy(dynalite_server.url) as proxy:
        host_vars = {"hippolyte_s3_endpoint_url": proxy.url, **bad.values}
        destination = host_vars.pop("hippolyte_destination",
                                    "s3://night-backups.example/ddb" if bad.role == "setup" else f"file://{tmp_path}/b")
        inv = inventory(tmp_path / "inventory.json", proxy.url, destination, **host_vars)
        playbook = f"playbooks/{bad.role}.yml"
        extra = {"table": bad.values.get("hippolyte_restore_table", "orders")}
        if "hippolyte_restore_at" in bad.values:
            extra["at"] = bad.values["hippolyte_restore_at"]
        run = run_playbook(playbook, inv, extra)

    assert run.returncode != 0
    assert failed_task(run.stdout).endswith(CHECK_TASK[bad.role]), run.stdout
    assert "Host night" in run.stdout and bad.variable in run.stdout and bad.fix in run.stdout, run.stdout
    assert proxy.requests == []
    assert not (tmp_path / "b").exists()


# ------------------------------------------------------------------ deprecated names, read for one more release

def test_the_old_data_pipeline_role_names_are_read_with_a_warning() -> None:
    old = {**good_values("backup"), "hippolyte_datapipeline": {"role": "PipelineRole", "resource_role": "Ec2Role"}}
    assert inventory_problems(old, "backup") == []
    assert inventory_problems({**good_values("setup"), "hippolyte_datapipeline": old["hippolyte_datapipeline"]},
                              "setup") == []
    assert inventory_deprecations(old) == [
        "hippolyte_datapipeline.role is deprecated: rename it service_role (the old name is read for one more release)",
        "hippolyte_datapipeline.resource_role is deprecated: rename it job_flow_role (the old name is read for one "
        "more release)"]
    new = {**old, "hippolyte_datapipeline": {"service_role": "PipelineRole", "job_flow_role": "Ec2Role"}}
    assert inventory_problems(new, "backup") == [] and inventory_deprecations(new) == []
