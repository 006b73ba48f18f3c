"""The IAM evaluator the least-privilege test judges calls with, against AWS's documented rules."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.iam_evaluator import Request, arn_matches, condition_holds, decide

TABLE = "arn:aws:dynamodb:eu-west-1:111111111111:table/orders"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str] = "*", **condition: dict) -> dict:
    doc = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {**doc, "Condition": condition} if condition else doc


def test_nothing_allowed_is_an_implicit_deny() -> None:
    assert decide([policy()], Request("dynamodb:Scan", TABLE)) == "ImplicitDeny"


def test_an_explicit_deny_wins_over_any_allow() -> None:
    docs = [policy(allow("dynamodb:*")), policy({"Effect": "Deny", "Action": "dynamodb:Scan", "Resource": TABLE})]
    assert decide(docs, Request("dynamodb:Scan", TABLE)) == "Deny"
    assert decide(docs, Request("dynamodb:Query", TABLE)) == "Allow"


def test_actions_are_case_insensitive_with_wildcards_and_not_action() -> None:
    assert decide([policy(allow("DynamoDB:describe*"))], Request("dynamodb:DescribeTable", TABLE)) == "Allow"
    assert decide([policy(allow("dynamodb:?can"))], Request("dynamodb:Scan", TABLE)) == "Allow"
    not_scan = {"Effect": "Allow", "NotAction": "dynamodb:Scan", "Resource": "*"}
    assert decide([policy(not_scan)], Request("dynamodb:Scan", TABLE)) == "ImplicitDeny"
    assert decide([policy(not_scan)], Request("dynamodb:Query", TABLE)) == "Allow"


def test_arn_segments_do_not_let_a_wildcard_cross_a_colon_but_the_resource_part_spans_slashes() -> None:
    assert arn_matches("arn:aws:dynamodb:eu-west-1:111111111111:table/*", TABLE)
    assert not arn_matches("arn:aws:dynamodb:us-east-1:111111111111:table/*", TABLE)
    assert not arn_matches("arn:aws:dynamodb:*:table/*", TABLE)
    assert arn_matches("arn:aws:dynamodb:*:*:table/*-drill-*", TABLE.replace("orders", "orders-drill-20261207"))
    assert arn_matches("arn:aws:s3:::b/dynamodb/*", "arn:aws:s3:::b/dynamodb/1/eu-west-1/t/x")
    assert not arn_matches("arn:aws:s3:::b/dynamodb/*", "arn:aws:s3:::b/other/x")
    assert arn_matches("*", TABLE)


def test_not_resource() -> None:
    doc = policy({"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/secret/*"})
    assert decide([doc], Request("s3:GetObject", "arn:aws:s3:::b/public/x")) == "Allow"
    assert decide([doc], Request("s3:GetObject", "arn:aws:s3:::b/secret/x")) == "ImplicitDeny"


def test_string_like_needs_the_key_and_if_exists_passes_without_it() -> None:
    listing = allow("s3:ListBucket", "arn:aws:s3:::b", StringLike={"s3:prefix": ["dynamodb/*"]})
    head = Request("s3:ListBucket", "arn:aws:s3:::b")
    assert decide([policy(listing)], head) == "ImplicitDeny"  # HeadBucket carries no s3:prefix
    under = Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": "dynamodb/x/"})
    assert decide([policy(listing)], under) == "Allow"
    if_exists = allow("s3:ListBucket", "arn:aws:s3:::b", StringLikeIfExists={"s3:prefix": ["dynamodb/*"]})
    assert decide([policy(if_exists)], head) == "Allow"
    assert decide([policy(if_exists)], Request("s3:ListBucket", "arn:aws:s3:::b", {"s3:prefix": ""})) == \
        "ImplicitDeny"  # a listing of the whole bucket carries s3:prefix ""


def test_keys_are_anded_values_ored_and_key_names_case_insensitive() -> None:
    context = {"aws:RequestedRegion": "eu-west-1", "aws:ResourceTag/team": "data"}
    assert condition_holds("StringEquals", "aws:requestedregion", ["us-east-1", "eu-west-1"], context)
    doc = policy(allow("dynamodb:Scan", StringEquals={"aws:RequestedRegion": ["eu-west-1"],
                                                      "aws:ResourceTag/team": ["ops"]}))
    assert decide([doc], Request("dynamodb:Scan", TABLE, context)) == "ImplicitDeny"


def test_negated_operators_hold_for_a_missing_key() -> None:
    assert condition_holds("StringNotEquals", "aws:ResourceTag/team", ["ops"], {})
    assert not condition_holds("StringNotEquals", "aws:ResourceTag/team", ["ops"], {"aws:ResourceTag/team": "ops"})
    assert condition_holds("StringNotLike", "k", ["a*"], {"k": "b"})


def test_null_bool_and_arn_like() -> None:
    tag = "aws:RequestTag/hippolyte:unique-id"
    assert condition_holds("Null", tag, ["false"], {tag: "x"})
    assert not condition_holds("Null", tag, ["false"], {})
    assert condition_holds("Null", "k", ["true"], {})
    assert condition_holds("Bool", "aws:SecureTransport", ["false"], {"aws:SecureTransport": "FALSE"})
    assert condition_holds("ArnLike", "aws:SourceArn", ["arn:aws:dynamodb:*:111111111111:table/*"],
                           {"aws:SourceArn": TABLE})


def test_set_operators() -> None:
    tags = {"aws:TagKeys": ["team", "cost"]}
    assert condition_holds("ForAnyValue:StringEquals", "aws:TagKeys", ["team"], tags)
    assert not condition_holds("ForAllValues:StringEquals", "aws:TagKeys", ["team"], tags)
    assert condition_holds("ForAllValues:StringEquals", "aws:TagKeys", ["team", "cost", "x"], tags)
    assert condition_holds("ForAllValues:StringEquals", "aws:TagKeys", ["team"], {})  # documented: vacuous
    assert not condition_holds("ForAnyValue:StringEquals", "aws:TagKeys", ["team"], {})


def test_an_unknown_operator_is_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="NumericLessThan"):
        condition_holds("NumericLessThan", "k", ["1"], {"k": "0"})


names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=20)


@given(names, names)
def test_a_literal_arn_matches_itself_and_a_table_wildcard_matches_every_table(account: str, table: str) -> None:
    arn = f"arn:aws:dynamodb:eu-west-1:{account}:table/{table}"
    assert arn_matches(arn, arn)
    assert arn_matches(f"arn:aws:dynamodb:eu-west-1:{account}:table/*", arn)
    assert not arn_matches(f"arn:aws:dynamodb:eu-west-2:{account}:table/*", arn)


@given(st.lists(names, min_size=1, max_size=4), names)
def test_a_deny_of_the_action_always_wins(actions: list[str], denied: str) -> None:
    docs = [policy(allow([f"dynamodb:{a}" for a in actions] + [f"dynamodb:{denied}"])),
            policy({"Effect": "Deny", "Action": f"dynamodb:{denied}", "Resource": "*"})]
    assert decide(docs, Request(f"dynamodb:{denied}", TABLE)) == "Deny"


def test_conditional_writes_grant_new_objects_and_upload_steps_only() -> None:
    """The backup role's writes (iam_grants.WRITE_NEW_ONLY and UPLOAD_STEPS): an object is created (PutObject,
    CompleteMultipartUpload: s3:ObjectCreationOperation true) only with If-None-Match; the upload steps that
    create nothing (false) carry no conditional header and are allowed without one."""
    from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.iam_grants import (
        UPLOAD_STEPS,
        WRITE_NEW_ONLY,
    )

    objects = "arn:aws:s3:::bucket/dynamodb/*"
    key = "arn:aws:s3:::bucket/dynamodb/a/manifest.json"
    docs = [policy(allow("s3:PutObject", objects, **WRITE_NEW_ONLY), allow("s3:PutObject", objects, **UPLOAD_STEPS))]

    def put(**context: str) -> str:
        return decide(docs, Request("s3:PutObject", key, context))

    assert put(**{"s3:ObjectCreationOperation": "true", "s3:if-none-match": "*"}) == "Allow"
    assert put(**{"s3:ObjectCreationOperation": "true"}) == "ImplicitDeny"  # an overwrite
    assert put(**{"s3:ObjectCreationOperation": "false"}) == "Allow"  # CreateMultipartUpload, UploadPart
    assert put() == "ImplicitDeny"
    assert decide(docs, Request("s3:PutObject", "arn:aws:s3:::bucket/other/x",
                                {"s3:ObjectCreationOperation": "false"})) == "ImplicitDeny"
