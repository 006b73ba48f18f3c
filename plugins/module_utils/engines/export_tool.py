"""The export step both cluster engines run: DynamoDBExport of awslabs/emr-dynamodb-connector's tools jar.

EMR runs it as a job flow step, Data Pipeline as an EmrActivity's step: the same jar (options `jar`) and main
class (`main_class`), with the arguments output folder, table name and read ratio.
"""

from __future__ import annotations

# As AWS publishes it per region for its own "Export DynamoDB table to S3" template; `{region}` is filled in.
DEFAULT_JAR = ("s3://dynamodb-dpl-{region}/emr-ddb-storage-handler/4.11.0/"
               "emr-dynamodb-tools-4.11.0-SNAPSHOT-jar-with-dependencies.jar")
DEFAULT_MAIN_CLASS = "org.apache.hadoop.dynamodb.tools.DynamoDBExport"


def jar_in(jar: str | None, region: str) -> str:
    """The jar's location for `region`: `jar` (None: the default) with `{region}` filled in."""
    return (jar or DEFAULT_JAR).replace("{region}", region)
