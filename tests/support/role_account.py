"""A role in another account than moto's default, and a DynamoDB client of that account through it."""

from __future__ import annotations

from typing import Any

import boto3

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.sts import RoleToAssume, assumed_role_session
from tests.conftest import REGION

ROLE_ACCOUNT = "210987654321"  # not moto's default account: only the assumed role sees its tables
EXTERNAL_ID = "night-guard-7f3e"


def role_account_dynamodb(moto_url: str, role_name: str) -> Any:
    """A DynamoDB client of the role's account, to set up and check what the run saw."""
    role = RoleToAssume(f"arn:aws:iam::{ROLE_ACCOUNT}:role/{role_name}", EXTERNAL_ID, "test-setup")
    session = assumed_role_session(role, boto3.session.Session(), REGION, moto_url)
    return session.client("dynamodb", region_name=REGION, endpoint_url=moto_url)
