"""The setup role's policy templates are the policies the docs print, so the two cannot drift apart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jinja2
import pytest

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "roles" / "setup" / "templates"
PLACEHOLDERS = {"setup_partition": "aws", "setup_account": "ACCOUNT", "setup_region": "REGION",
                "setup_bucket": "BUCKET", "setup_key_prefix": "PREFIX/", "setup_emr_service_role": "EMR_DefaultRole",
                "setup_emr_job_flow_role": "EMR_EC2_DefaultRole", "setup_pipeline_role": "DataPipelineDefaultRole",
                "setup_pipeline_resource_role": "DataPipelineDefaultResourceRole"}
EXAMPLE = {**PLACEHOLDERS, "setup_account": "111111111111", "setup_region": "eu-west-1",
           "setup_bucket": "acme-ddb-backups", "setup_key_prefix": "dynamodb/"}


def render(template: str, values: dict[str, Any]) -> Any:
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
    return json.loads(env.from_string((TEMPLATES / template).read_text()).render(**values))


def doc_policy(page: str, sid: str) -> Any:
    """The JSON block of a docs page holding a statement with this Sid."""
    blocks = re.findall(r"```json\n(.*?)```", (REPO / "docs" / page).read_text(), re.DOTALL)
    (block,) = [b for b in blocks if f'"Sid": "{sid}"' in b]
    return json.loads(block)


@pytest.mark.parametrize(("template", "page", "sid", "values"), [
    ("policies/backup-local.json.j2", "security.md", "DiscoverAndRead", PLACEHOLDERS),
    ("policies/backup-export.json.j2", "engines-export.md", "ReadTableDefinitions", EXAMPLE),
    ("policies/backup-emr.json.j2", "engines-emr.md", "EmrCluster", PLACEHOLDERS),
    ("policies/backup-datapipeline.json.j2", "setup.md", "Pipelines", PLACEHOLDERS),
    ("policies/restore.json.j2", "setup.md", "RecreateAndLoad", PLACEHOLDERS),
])
def test_template_is_the_documented_policy(template: str, page: str, sid: str, values: dict[str, Any]) -> None:
    assert render(template, values) == doc_policy(page, sid)


def test_trust_policy_requires_the_external_id_only_when_set() -> None:
    principals = ["arn:aws:iam::111111111111:role/hippolyte-controller"]
    (plain,) = render("trust.json.j2", {"setup_principals": principals, "hippolyte_role_external_id": ""})["Statement"]
    assert plain == {"Effect": "Allow", "Principal": {"AWS": principals}, "Action": "sts:AssumeRole"}
    (guarded,) = render("trust.json.j2", {"setup_principals": principals,
                                          "hippolyte_role_external_id": 'a"b'})["Statement"]
    assert guarded["Condition"] == {"StringEquals": {"sts:ExternalId": 'a"b'}}


def test_bucket_policy_denies_everything_without_tls() -> None:
    (deny,) = render("bucket-policy.json.j2", {"setup_partition": "aws", "setup_bucket": "b1"})["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
    assert deny["Resource"] == ["arn:aws:s3:::b1", "arn:aws:s3:::b1/*"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
