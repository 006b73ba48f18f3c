"""Reading what the night published: an SNS topic with an SQS queue subscribed to it, on moto."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import client


def topic_with_queue(endpoint: str, name: str) -> tuple[str, Any, str]:
    """An SNS topic and an SQS queue subscribed to it (moto delivers SNS to SQS)."""
    sns, sqs = client("sns", endpoint), client("sqs", endpoint)
    topic = sns.create_topic(Name=name)["TopicArn"]
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    return topic, sqs, queue


def published(sqs: Any, queue: str) -> list[dict[str, Any]]:
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    return [json.loads(m["Body"]) for m in messages]
