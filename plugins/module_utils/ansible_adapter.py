"""Adapter between Ansible modules and the plain module_utils: the one module_utils file that imports Ansible.

Modules build an AnsibleAWSModule (amazon.aws conventions for credentials, region, profile,
endpoint_url and their environment fallbacks), get clients from here, and hand them to plain
Python. HippolyteError becomes a clean fail_json; botocore errors go through fail_json_aws.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ansible.module_utils.ansible_release import __version__ as ANSIBLE_VERSION
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.answer_checksum import refuse_mismatched_answers
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.call_names import (
    failed_call_message,
    name_resources_in_errors,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.sts import RoleToAssume, assumed_role_session
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.controller_watch import (
    ControllerWatch,
    exit_after,
    stoppable_sleep,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    UNSUPPORTED_CALL_CODES,
    HippolyteError,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.answer import Answer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import check_region, parse_arn
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import (
    BackupStore,
    Encryption,
    open_store,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.backup_lock import backup_lock
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.cluster_engine import EngineAnswer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    DEFAULT_JOB_FLOW_ROLE as EMR_JOB_FLOW_ROLE,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    DEFAULT_RELEASE_LABEL as EMR_RELEASE_LABEL,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.emr_job_flow import (
    DEFAULT_SERVICE_ROLE as EMR_SERVICE_ROLE,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.export_tool import (
    DEFAULT_JAR,
    DEFAULT_MAIN_CLASS,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    DEFAULT_JOB_FLOW_ROLE as PIPELINE_JOB_FLOW_ROLE,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    DEFAULT_MAX_OBJECTS,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    DEFAULT_RELEASE_LABEL as PIPELINE_RELEASE_LABEL,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.engines.pipeline_definition import (
    DEFAULT_SERVICE_ROLE as PIPELINE_SERVICE_ROLE,
)

try:
    import boto3
    import botocore.config
    import botocore.exceptions
except ImportError:
    pass  # AnsibleAWSModule reports the missing dependency itself

T = TypeVar("T")
OptionSpecs = dict[str, dict[str, Any]]  # an argument spec: option name -> its spec

# Options of every module that reads or writes the backup destination (doc fragment hippolyte.dynamodb.destination,
# action group hippolyte.dynamodb.destination). `destination` is not required here: module_defaults may give it, and
# ansible-lint's args rule would then call every task without it wrong; require_destination asks for it instead.
DESTINATION_OPTIONS: OptionSpecs = {
    "destination": {"type": "str"}, "s3_endpoint_url": {"type": "str"}, "bucket_owner": {"type": "str"},
    "sse": {"type": "str", "choices": ["AES256", "aws:kms"]}, "kms_key_id": {"type": "str"},
    "object_lock_mode": {"type": "str", "choices": ["GOVERNANCE", "COMPLIANCE"]},
    "object_lock_retention": {"type": "dict", "options": {
        "keep_last": {"type": "int"}, "keep_daily": {"type": "int"}, "keep_weekly": {"type": "int"},
        "keep_monthly": {"type": "int"}, "max_age_days": {"type": "int"}, "incomplete_grace_hours": {"type": "int"}}}}
# The capacity of a planned cluster's tables: refused boosts, and boosts put back as each table's step ends
# (doc fragment hippolyte.dynamodb.cluster_capacity).
CLUSTER_CAPACITY_OPTIONS: OptionSpecs = {
    "boost_refused": {"type": "list", "elements": "str", "default": []},
    "put_back_boosts": {"type": "bool", "default": True}, "capacity_run_id": {"type": "str"},
    "autoscaling": {"type": "bool", "default": True}}
# The EMR cluster's size (doc fragment hippolyte.dynamodb.emr_instances), for the Data Pipeline and EMR engines.
EMR_INSTANCE_OPTIONS: OptionSpecs = {
    "master_instance_type": {"type": "str", "default": "m5.xlarge"},
    "core_instance_type": {"type": "str", "default": "m5.xlarge"}, "core_instance_count": {"type": "int", "default": 1}}
# The options the cluster engines (EMR, Data Pipeline) share: one name, type and meaning each, whatever the engine.
# Each engine module adds its defaults, its own options and its options' older names (cluster_engine_options).
CLUSTER_ENGINE_OPTIONS: OptionSpecs = {
    "cluster": {"type": "dict", "required": True}, "run_id": {"type": "str", "required": True},
    "account_id": {"type": "str"}, "release_label": {"type": "str"}, "service_role": {"type": "str"},
    "job_flow_role": {"type": "str"}, "log_uri": {"type": "str"}, "subnet_id": {"type": "str"},
    "jar": {"type": "str"}, "main_class": {"type": "str", "default": DEFAULT_MAIN_CLASS},
    "read_percentage": {"type": "float", "default": 0.5}, "maximum_retries": {"type": "int", "default": 2},
    "wait": {"type": "bool", "default": True}, "wait_timeout": {"type": "int"}, "deadline": {"type": "str"},
    "poll_interval": {"type": "int"}, **EMR_INSTANCE_OPTIONS, **CLUSTER_CAPACITY_OPTIONS}
# Where a second copy goes (backup_copy): a destination of its own, reached in its own region and account.
COPY_TO_OPTIONS: OptionSpecs = {"copy_to": {"type": "dict", "required": True, "options": {
    "destination": {"type": "str", "required": True}, "region": {"type": "str"}, "s3_endpoint_url": {"type": "str"},
    "role_arn": {"type": "str"}, "role_external_id": {"type": "str", "no_log": True},
    "bucket_owner": {"type": "str"}, "sse": {"type": "str", "choices": ["AES256", "aws:kms"]},
    "kms_key_id": {"type": "str"}}}}
# The role every module can work as (doc fragment hippolyte.dynamodb.assume_role).
ASSUME_ROLE_OPTIONS: OptionSpecs = {
    "role_arn": {"type": "str"}, "role_external_id": {"type": "str", "no_log": True},
    "role_session_name": {"type": "str", "default": "hippolyte"}, "role_duration": {"type": "int", "default": 3600}}


# Seconds a module whose controller died has to unwind (abort uploads, put capacity back) before it is
# ended anyway; with the watch's 1 s check this keeps it within 10 s of the controller's death.
STOP_GRACE_S = 7.0


def renamed(spec: dict[str, Any], *old_names: str) -> dict[str, Any]:
    """An option spec that still accepts its older names, deprecated (so inventories keep working for a while)."""
    return {**spec, "aliases": list(old_names), "deprecated_aliases": [
        {"name": name, "version": "2.0.0", "collection_name": "hippolyte.dynamodb"} for name in old_names]}


def cluster_engine_options(defaults: dict[str, Any], old_names: dict[str, str], **own: dict[str, Any]) -> OptionSpecs:
    """A cluster engine module's argument spec: CLUSTER_ENGINE_OPTIONS with the engine's `defaults` and the
    deprecated older name of some (`old_names`: option -> older name), its `own` options, the destination
    options and the role to assume."""
    shared = {name: {**spec, **({"default": defaults[name]} if name in defaults else {})}
              for name, spec in CLUSTER_ENGINE_OPTIONS.items()}
    shared.update({name: renamed(shared[name], old) for name, old in old_names.items()})
    return {**shared, **own, **DESTINATION_OPTIONS, **ASSUME_ROLE_OPTIONS}


# The engine modules' argument specs, here so that one module running a whole night (backup_night) checks each
# engine's settings by the same spec as the engine's own module.
EMR_BACKUP_OPTIONS: OptionSpecs = cluster_engine_options(
    defaults=dict(release_label=EMR_RELEASE_LABEL, service_role=EMR_SERVICE_ROLE,
                  job_flow_role=EMR_JOB_FLOW_ROLE, wait_timeout=7200, poll_interval=30),
    old_names=dict(jar="step_jar", main_class="step_class", read_percentage="on_demand_read_ratio"),
    state=dict(type="str", choices=["present", "absent"], default="present"),
    spot=dict(type="dict", options=dict(
        core=dict(type="bool", default=False),
        task_count=dict(type="int", default=0),
        task_instance_type=dict(type="str"),
        bid_price=dict(type="str"),
    )),
    tags=dict(type="dict", default={}),
    fail_on_table_failure=dict(type="bool", default=True),
)
DATAPIPELINE_BACKUP_OPTIONS: OptionSpecs = cluster_engine_options(
    defaults=dict(release_label=PIPELINE_RELEASE_LABEL, service_role=PIPELINE_SERVICE_ROLE,
                  job_flow_role=PIPELINE_JOB_FLOW_ROLE, jar=DEFAULT_JAR, wait_timeout=25200, poll_interval=60),
    old_names=dict(service_role="role", job_flow_role="resource_role", jar="export_jar", main_class="export_class",
                   read_percentage="default_read_percentage"),
    state=dict(type="str", default="active", choices=["present", "active", "absent", "executed_locally"]),
    taken_at=dict(type="str"),
    core_instance_bid_price=dict(type="float"),
    task_instance_type=dict(type="str"),
    task_instance_count=dict(type="int", default=0),
    task_instance_bid_price=dict(type="float"),
    window_s=dict(type="int"),
    sns_topic_arn=dict(type="str"),
    max_objects=dict(type="int", default=DEFAULT_MAX_OBJECTS),
    delete_when_finished=dict(type="bool", default=True),
)
DYNAMODB_EXPORT_OPTIONS: OptionSpecs = dict(
    tables=dict(type="list", elements="str", required=True),
    run_id=dict(type="str", required=True),
    export_time=dict(type="str"),
    clamp_export_time=dict(type="bool", default=False),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=7200),
    deadline=dict(type="str"),
    poll_interval=dict(type="int", default=30),
    maximum_retries=renamed(dict(type="int", default=1), "retries"),
    account_id=dict(type="str"),
    **{**DESTINATION_OPTIONS, "bucket_owner": renamed(DESTINATION_OPTIONS["bucket_owner"], "s3_bucket_owner")},
    **ASSUME_ROLE_OPTIONS,
)

BACKUP_INCREMENT_OPTIONS: OptionSpecs = dict(
    tables=dict(type="list", elements="str", required=True),
    every=dict(type="str", default="15m"),
    max_windows=dict(type="int", default=96),
    wait=dict(type="bool", default=True),
    wait_timeout=dict(type="int", default=600),
    deadline=dict(type="str"),
    poll_interval=dict(type="int", default=15),
    maximum_retries=dict(type="int", default=1),
    account_id=dict(type="str"),
    **DESTINATION_OPTIONS,
    **ASSUME_ROLE_OPTIONS,
)


def checked_options(spec: OptionSpecs, given: dict[str, Any], where: str) -> dict[str, Any]:
    """`given` checked against a module's argument spec, every option at its default unless given, as that module
    would get them; raises InputError naming `where` and the first problem."""
    result = ArgumentSpecValidator(spec).validate(given)
    if result.error_messages:
        raise InputError(where, result.error_messages[0], "fix that setting (the engine module's options, same names)")
    return dict(result.validated_parameters)


def watch_controller(module: AnsibleAWSModule) -> threading.Event:
    """Start watching the controller; the event is set once it is gone (pass it to the work as `stop`).

    For modules that run long. Work that checks the event fails the task with Cancelled; whatever is
    still running STOP_GRACE_S later (a wait the event does not reach) is ended with the process.
    """
    watch = ControllerWatch.start()
    watch.on_stop(lambda: exit_after(STOP_GRACE_S))
    return watch.stopped


def aws_client(module: AnsibleAWSModule, service: str, pool_size: int = 10, endpoint: str | None = None) -> Any:
    """A botocore client sized for `pool_size` concurrent threads, with the collection's one retry policy.

    botocore's adaptive mode retries throttling and transient errors (and slows the client down while
    throttled); code in module_utils therefore retries none of those itself. Each failed call names its
    resource for run_or_fail's message.

    With `role_arn`, every client of the module shares one assumed-role session whose credentials renew
    themselves; without it, amazon.aws makes the client from the module's own credentials.
    """
    config = _client_config(pool_size)
    if module.params.get("role_arn"):
        region, endpoint_url, connection = get_aws_connection_info(module)
        if connection.get("aws_config"):
            config = config.merge(connection["aws_config"])  # the user's own aws_config wins, as below
        session = run_or_fail(module, lambda: _role_session(module))
        return name_resources_in_errors(session.client(service, region_name=region,
                                                       endpoint_url=endpoint or endpoint_url,
                                                       verify=connection["verify"], config=config))
    # "config" is merged under the user's own aws_config option, which therefore still wins.
    extra: dict[str, Any] = {"config": config}
    if endpoint:
        extra["endpoint"] = endpoint
    client = module.client(service, **extra)
    if service == "dynamodb":
        refuse_mismatched_answers(client)
    return name_resources_in_errors(client)


# The collection's version as galaxy.yml gives it (a unit test holds them equal).
COLLECTION_VERSION = "0.1.0"
# Every request names the collection (CloudTrail's userAgent tells its calls from others'), and as a fixed string:
# botocore otherwise builds its own User-Agent twice per request, from some twenty parts (about a tenth of its CPU
# per call, measured on DescribeTable).
USER_AGENT = f"APN/1.0 Ansible/{ANSIBLE_VERSION} hippolyte.dynamodb/{COLLECTION_VERSION}"


def _client_config(pool_size: int) -> botocore.config.Config:
    return botocore.config.Config(max_pool_connections=max(10, pool_size), user_agent=USER_AGENT,
                                  retries={"mode": "adaptive", "max_attempts": 10})


@functools.cache
def _role_session(module: AnsibleAWSModule) -> boto3.session.Session:
    """The module's one assumed-role session, assumed with its base credentials (options, environment, profile)."""
    p = module.params
    role = RoleToAssume(p["role_arn"], p["role_external_id"] or None, p["role_session_name"], p["role_duration"])
    region, endpoint_url, connection = get_aws_connection_info(module)
    # The STS call goes to the module's endpoint: a stand-in (or a private endpoint) serves STS there too.
    return assumed_role_session(role, _base_session(connection), region, endpoint_url, connection["verify"],
                                config=_client_config(10))


def _base_session(connection: dict[str, Any]) -> boto3.session.Session:
    """A session with the module's own credentials (options, environment, profile), never an assumed role's."""
    return boto3.session.Session(aws_access_key_id=connection["aws_access_key_id"],
                                 aws_secret_access_key=connection["aws_secret_access_key"],
                                 aws_session_token=connection["aws_session_token"],
                                 profile_name=connection.get("profile_name"))


def connected_client(module: AnsibleAWSModule, service: str, where: dict[str, Any], pool_size: int = 10) -> Any:
    """A client in another region or account than the module's: `where` holds region, endpoint_url, role_arn
    and role_external_id (unset: the module's region, AWS's own endpoint, the module's own credentials).
    A role is assumed with the module's own credentials, through STS at `where`'s endpoint."""
    region, _endpoint, connection = get_aws_connection_info(module)
    if where.get("region"):
        check_region("target_connection.region", where["region"])
    region = where.get("region") or region
    endpoint_url = where.get("endpoint_url") or None
    session = _base_session(connection)
    if where.get("role_arn"):
        p = module.params
        try:
            role = RoleToAssume(where["role_arn"], where.get("role_external_id") or None, p["role_session_name"],
                                p["role_duration"])
        except InputError as exc:
            raise InputError(f"target_connection.{exc.field}", exc.problem, exc.fix) from None
        session = assumed_role_session(role, session, region, endpoint_url, connection["verify"],
                                       config=_client_config(10))
    config = _client_config(pool_size)
    if connection.get("aws_config"):
        config = config.merge(connection["aws_config"])
    client = session.client(service, region_name=region, endpoint_url=endpoint_url, verify=connection["verify"],
                            config=config)
    if service == "dynamodb":
        refuse_mismatched_answers(client)
    return name_resources_in_errors(client)


def s3_client(module: AnsibleAWSModule, pool_size: int = 10) -> Any:
    return aws_client(module, "s3", pool_size, module.params.get("s3_endpoint_url"))


def destination_store(module: AnsibleAWSModule, pool_size: int = 10) -> BackupStore:
    """The module's `destination`; an S3 client is made only for an s3:// one.

    An S3 bucket must belong to `bucket_owner`, by default to the account of the module's own
    credentials (the account the backups belong to), asked once of STS.
    """
    url = require_destination(module)
    encryption = Encryption(module.params.get("sse"), module.params.get("kms_key_id"))
    encryption.validate()  # also for file://: a kms_key_id without aws:kms is a mistake wherever it goes
    lock = backup_lock(module.params.get("object_lock_mode"), module.params.get("object_lock_retention"))
    if not url.startswith("s3://"):
        return open_store(url, lock=lock)  # refuses a lock: a local folder cannot hold one
    return open_store(url, s3_client(module, pool_size), module.params.get("bucket_owner") or caller_account(module),
                      encryption, lock)


def copy_store(module: AnsibleAWSModule, pool_size: int = 10) -> BackupStore:
    """The store of the module's `copy_to`: its own region, endpoint and (through `role_arn`) account. Its bucket
    must belong to `copy_to.bucket_owner`, by default to the account of the credentials that reach it."""
    where = module.params["copy_to"]
    encryption = Encryption(where.get("sse"), where.get("kms_key_id"))
    try:
        encryption.validate()
    except InputError as exc:
        raise InputError(f"copy_to.{exc.field}", exc.problem, exc.fix) from None
    url = where["destination"]
    if not url.startswith("s3://"):
        return open_store(url)
    reach = {"region": where.get("region"), "endpoint_url": where.get("s3_endpoint_url"),
             "role_arn": where.get("role_arn"), "role_external_id": where.get("role_external_id")}
    # STS is asked where the module's other calls go (its endpoint_url), with the copy's region and role.
    owner = where.get("bucket_owner") or connection_account(module, {**reach,
                                                                     "endpoint_url": module.params.get("endpoint_url")})
    if not owner:
        raise InputError("copy_to.bucket_owner", "the endpoint answers no STS call, so the copy's account is unknown",
                         "set copy_to.bucket_owner to the account that owns the copy's bucket")
    return open_store(url, connected_client(module, "s3", reach, pool_size), owner, encryption)


def require_destination(module: AnsibleAWSModule) -> str:
    """The module's `destination`, which the task or module_defaults must give; modules ask for it first, before
    any AWS call."""
    url = module.params.get("destination")
    if not url:
        raise InputError("destination", "is not set",
                         "set it, or module_defaults group/hippolyte.dynamodb.destination")
    return str(url)


def caller_account(module: AnsibleAWSModule) -> str:
    """The account of the module's credentials."""
    try:
        return str(aws_client(module, "sts").get_caller_identity()["Account"])
    except botocore.exceptions.ClientError as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            raise InputError("bucket_owner", "the endpoint answers no STS call, so the account of these "
                             "credentials is unknown", "set bucket_owner to the account that owns the bucket") from exc
        raise


def connection_account(module: AnsibleAWSModule, where: dict[str, Any] | None) -> str | None:
    """The account of the credentials `where` (a target_connection; None: the module's own) uses, or None where
    the endpoint answers no STS call (a DynamoDB stand-in)."""
    sts = connected_client(module, "sts", where) if where else aws_client(module, "sts")
    try:
        return str(sts.get_caller_identity()["Account"])
    except botocore.exceptions.ClientError as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            return None
        raise


def credentials_account(module: AnsibleAWSModule) -> str:
    """The account of the module's credentials; where the endpoint answers no STS call (a DynamoDB
    stand-in), the account in a table's ARN, which is where that table's backups go."""
    try:
        return caller_account(module)
    except InputError:
        ddb = aws_client(module, "dynamodb")
        names = ddb.list_tables(Limit=1).get("TableNames", [])
        if not names:
            raise InputError("account_id", "the endpoint answers no STS call and holds no table",
                             "set account_id") from None
        arn = parse_arn(ddb.describe_table(TableName=names[0])["Table"]["TableArn"])
        if arn is None:
            raise InputError("account_id", f"table {names[0]} has no usable ARN", "set account_id") from None
        return arn.account


def run_or_fail(module: AnsibleAWSModule, action: Callable[[], T],
                facts: Callable[[], dict[str, Any]] | None = None) -> T:
    """Run plain-Python work, turning our errors and AWS errors into a failed task with a clear message.

    An AWS error names the call and what it was about: "DescribeTable on table orders failed: ...".
    `facts`, when given, adds what the work did before it failed to the failed result.
    """
    try:
        return action()
    except InputError as exc:
        module.fail_json(msg=str(exc), field=exc.field, **(facts() if facts else {}))
    except HippolyteError as exc:
        module.fail_json(msg=str(exc), **(facts() if facts else {}))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
        module.fail_json_aws(exc, msg=failed_call_message(exc), **(facts() if facts else {}))
    raise AssertionError("unreachable: fail_json exits")


class ModuleClients:
    """An engine task's clients (`cluster_engine.EngineClients`) from a module: its region, destination, clients
    (one per service) and store, and a sleep that ends the work when the controller is gone."""

    def __init__(self, module: AnsibleAWSModule) -> None:
        self.module = module
        self.region = str(module.region or "")
        self._clients: dict[str, Any] = {}
        self._store: BackupStore | None = None

    def destination(self) -> str:
        return require_destination(self.module)

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = aws_client(self.module, service)
        return self._clients[service]

    def store(self) -> BackupStore:
        if self._store is None:
            self._store = destination_store(self.module)
        return self._store

    def watch_sleep(self) -> Callable[[float], None]:
        return stoppable_sleep(watch_controller(self.module))


# An option value larger than this (as JSON) is not echoed back in the result's `invocation`: a night's plan of
# hundreds of tables would otherwise come back whole, for Ansible to handle a second time (measured: about 0.8 s per
# half megabyte registered).
ECHO_LIMIT_BYTES = 64 * 1024


def echoed_options(params: dict[str, Any]) -> dict[str, Any]:
    """The options as the result's `invocation.module_args` shows them: each list or dict over ECHO_LIMIT_BYTES of
    JSON replaced by a note of its size."""
    shown: dict[str, Any] = {}
    for name, value in params.items():
        size = len(json.dumps(value, default=str)) if isinstance(value, (dict, list)) else 0
        shown[name] = f"({size} bytes of JSON, not echoed back)" if size > ECHO_LIMIT_BYTES else value
    return shown


def exit_with(module: AnsibleAWSModule, answer: Answer | EngineAnswer) -> None:
    """End the module with a task's answer: its warnings shown, then failed, or not; its options echoed back as
    `echoed_options` shows them."""
    if isinstance(answer, Answer):
        for warning in answer.warnings:
            module.warn(warning)
        facts = answer.facts
    else:
        facts = answer.result
    facts = {"invocation": {"module_args": echoed_options(module.params)}, **facts}
    (module.fail_json if answer.failed else module.exit_json)(**facts)


def run_engine_module(argument_spec: OptionSpecs,
                      task: Callable[[dict[str, Any], ModuleClients, bool], EngineAnswer]) -> None:
    """The whole main() of an engine module: its options parsed, its task run with the module's clients (in check
    mode when asked), the answer returned."""
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    exit_with(module, run_or_fail(module, lambda: task(module.params, ModuleClients(module), module.check_mode)))
