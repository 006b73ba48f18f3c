"""Adapter between Ansible modules and the plain module_utils: the one module_utils file that imports Ansible.

Modules build an AnsibleAWSModule (amazon.aws conventions for credentials, region, profile,
endpoint_url and their environment fallbacks), get clients from here, and hand them to plain
Python. HippolyteError becomes a clean fail_json; botocore errors go through fail_json_aws.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.hippolyte.dynamodb.plugins.module_utils.answer_checksum import refuse_mismatched_answers
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.errors import HippolyteError, InputError

try:
    import botocore.config
    import botocore.exceptions
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency itself

T = TypeVar("T")

# Options of every module that reads or writes the backup destination (doc fragment hippolyte.dynamodb.destination).
DESTINATION_OPTIONS = {"destination": {"type": "str", "required": True}, "s3_endpoint_url": {"type": "str"}}
# The EMR cluster's size (doc fragment hippolyte.dynamodb.emr_instances), for the Data Pipeline and EMR engines.
EMR_INSTANCE_OPTIONS = {"master_instance_type": {"type": "str", "default": "m5.xlarge"},
                        "core_instance_type": {"type": "str", "default": "m5.xlarge"},
                        "core_instance_count": {"type": "int", "default": 1}}


def aws_client(module: AnsibleAWSModule, service: str, pool_size: int = 10, endpoint: str | None = None) -> Any:
    """A botocore client sized for `pool_size` concurrent threads, with adaptive retries."""
    config = botocore.config.Config(max_pool_connections=max(10, pool_size),
                                    retries={"mode": "adaptive", "max_attempts": 10})
    # "config" is merged under the user's own aws_config option, which therefore still wins.
    extra: dict[str, Any] = {"config": config}
    if endpoint:
        extra["endpoint"] = endpoint
    client = module.client(service, **extra)
    if service == "dynamodb":
        refuse_mismatched_answers(client)
    return client


def s3_client(module: AnsibleAWSModule, pool_size: int = 10) -> Any:
    return aws_client(module, "s3", pool_size, module.params.get("s3_endpoint_url"))


def destination_store(module: AnsibleAWSModule, pool_size: int = 10) -> BackupStore:
    """The module's `destination`; an S3 client is made only for an s3:// one."""
    url = module.params["destination"]
    return open_store(url, s3_client(module, pool_size) if url.startswith("s3://") else None)


def run_or_fail(module: AnsibleAWSModule, action: Callable[[], T]) -> T:
    """Run plain-Python work, turning our errors and AWS errors into a failed task with a clear message."""
    try:
        return action()
    except InputError as exc:
        module.fail_json(msg=str(exc), field=exc.field)
    except HippolyteError as exc:
        module.fail_json(msg=str(exc))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg="AWS call failed")
    raise AssertionError("unreachable: fail_json exits")
