# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""How many bytes one read capacity unit reads each second: the one rule the planner and the scans share."""

from __future__ import annotations

STRONGLY_CONSISTENT_BYTES = 4096  # one strongly consistent read of up to 4 KB takes one unit


def bytes_per_read_unit(consistent: bool) -> int:
    """Bytes one read unit moves per second: an eventually consistent read takes half a unit per 4 KB.

    The cluster engines read eventually consistent: emr-dynamodb-connector's scan sets no ConsistentRead
    (emr-dynamodb-hadoop/src/main/java/org/apache/hadoop/dynamodb/DynamoDBClient.java, scanTable) and its
    rate controller turns consumed units into bytes with READ_EVENTUALLY_TO_STRONGLY_CONSISTENT_FACTOR 2
    (emr-dynamodb-hadoop/src/main/java/org/apache/hadoop/dynamodb/preader/RateController.java).
    """
    return STRONGLY_CONSISTENT_BYTES if consistent else 2 * STRONGLY_CONSISTENT_BYTES
