"""Every `hippolyte_*` variable of one inventory host, checked before the backup, restore or setup role calls AWS.

The roles call this through the `inventory_problems` filter with the host's variables and their own
argument spec, and fail once, listing every problem: a new user fixes the whole inventory in one go
instead of meeting one error per run, some only after AWS calls were made. Each problem is
(variable, problem, fix). The rules reuse the modules' own validators (window, names, patterns, role
ARN), so the role refuses exactly what a module would refuse later.
"""

from __future__ import annotations

import contextlib
import difflib
import re
from collections.abc import Callable, Collection, Mapping
from functools import lru_cache
from typing import Any, NamedTuple
from urllib.parse import urlparse

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.sts import (
    EXTERNAL_ID,
    MAX_DURATION_S,
    MIN_DURATION_S,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.clock import utc_now
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_at, parse_moment
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.increment_windows import parse_every
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import (
    KMS_KEY_ARN,
    PRINCIPAL_ARN,
    ROLE_ARN,
    SNS_TOPIC_NAME,
    check_destination,
    is_sns_topic_arn,
    is_valid_account_id,
    is_valid_region,
    is_valid_table_name,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.window import Window
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.night.night_settings import night_ops_problems
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.table_discovery import validate_patterns
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.setup.iam_grants import ENGINES

with contextlib.suppress(ImportError):  # without botocore, regions are checked by their pattern only
    import botocore.session

PREFIX = "hippolyte_"
# S3's bucket naming rules (general purpose buckets): 3-63 of a-z 0-9 . -, starting and ending with a letter
# or digit, no "..", not shaped like an IP address, none of the reserved prefixes and suffixes.
BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
IP_ADDRESS = re.compile(r"\d+\.\d+\.\d+\.\d+")
RESERVED_BUCKET_AFFIXES = (("xn--", "sthree-", "amzn-s3-demo-"), ("-s3alias", "--ol-s3", ".mrap", "--x-s3"))
# What a table name may hold plus the glob characters: a pattern with anything else matches no table.
GLOB = re.compile(r"[A-Za-z0-9_.*?\[\]!-]+")
EMR_KEYS = ("subnet_id", "log_uri", "release_label", "service_role", "job_flow_role", "master_instance_type",
            "core_instance_type", "core_instance_count", "spot")
DATAPIPELINE_KEYS = ("service_role", "job_flow_role", "subnet_id", "log_uri", "release_label", "master_instance_type",
                     "core_instance_type", "core_instance_count")
COPY_TO_KEYS = ("destination", "region", "s3_endpoint_url", "role_arn", "role_external_id", "bucket_owner", "sse",
                "kms_key_id")
# Settings renamed to the modules' option names: the old key is still read, with a warning, for one more release.
RENAMED_SETTINGS = {"hippolyte_datapipeline": {"role": "service_role", "resource_role": "job_flow_role"}}
KIND_NAMES = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a text",
              "list": "a list", "dict": "a dict"}
_TRUE, _FALSE = ("true", "yes", "on", "1", "y", "t"), ("false", "no", "off", "0", "n", "f")


class Problem(NamedTuple):
    variable: str
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.variable} {self.problem}; {self.fix}"


def check_host(values: Mapping[str, Any], spec: Mapping[str, Mapping[str, Any]],
               known: Collection[str], rules: Mapping[str, Rule] | None = None) -> list[Problem]:
    """Every problem of a host's `values` (variable name -> value) for a role whose argument spec options are
    `spec`; `known` are all variable names the collection reads (any role), for spelling mistakes. `rules`
    (default RULES; rules_for(role)) check each variable, and a dict's settings under `<variable>.<setting>`."""
    rules = RULES if rules is None else rules
    problems = [_unknown(name, known) for name in sorted(values) if name.startswith(PREFIX) and name not in known]
    typed: dict[str, Any] = {}
    for name, option in spec.items():
        value = values.get(name)
        if value is None or (value == "" and option.get("required")):
            if option.get("required"):
                problems.append(Problem(name, "is not set", f"set it in the inventory: {option_hint(option)}"))
            continue
        try:
            typed[name] = _typed(name, value, option)
        except InputError as exc:
            problems.append(Problem(exc.field, exc.problem, exc.fix))
    for name, value in typed.items():
        checks = [(name, value, typed)]
        if isinstance(value, dict) and "options" in spec[name]:
            # Each setting, the ones left out at their defaults (a rule may read another setting).
            settings = {key: option.get("default") for key, option in spec[name]["options"].items()} | value
            checks += [(f"{name}.{key}", setting, settings) for key, setting in settings.items() if setting is not None]
        for field, checked, around in checks:
            rule = rules.get(field)
            try:
                if rule is not None:
                    rule(field, checked, around)
            except InputError as exc:
                problems.append(Problem(exc.field, exc.problem, exc.fix))
    return problems


def option_hint(option: Mapping[str, Any]) -> str:
    """The first sentence of the option's description, without ansible-doc markup (C(x), O(x) -> x)."""
    description = option.get("description", "")
    text = description[0] if isinstance(description, list) and description else str(description)
    return re.sub(r"[A-Z]\(([^)]*)\)", r"\1", text).split(". ")[0].rstrip(".")


def _unknown(name: str, known: Collection[str]) -> Problem:
    closest = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    fix = f"did you mean {closest[0]}?" if closest else "remove it, or see the role's argument spec for the names"
    return Problem(name, "is not a variable of this collection, so it would be ignored", fix)


# ------------------------------------------------------------------ types, as Ansible's argument spec converts them

def _typed(name: str, value: Any, option: Mapping[str, Any]) -> Any:
    kind = option.get("type", "str")
    converted = _convert(kind, value)
    if converted is None:
        what = KIND_NAMES.get(kind, kind)
        raise InputError(name, f"is {value!r}, not {what}", f"give {what}: {option_hint(option)}")
    if option.get("choices") and converted not in option["choices"]:
        closest = difflib.get_close_matches(str(converted), [str(c) for c in option["choices"]], n=1, cutoff=0.5)
        hint = f" (did you mean {closest[0]}?)" if closest else ""
        raise InputError(name, f"is {converted!r}", f"choose one of {', '.join(map(str, option['choices']))}{hint}")
    if kind == "list" and "elements" in option:
        for index, element in enumerate(converted):
            if _convert(option["elements"], element) is None:
                what = KIND_NAMES.get(option["elements"], option["elements"])
                raise InputError(f"{name}[{index}]", f"is {element!r}, not {what}",
                                 f"give a list whose items are {what}")
    if kind == "dict" and "options" in option:
        unknown = sorted(set(converted) - set(option["options"]))
        if unknown:
            raise InputError(f"{name}.{unknown[0]}", "is not a key it takes",
                             f"use only {', '.join(option['options'])}")
        # Each setting as its own type, as Ansible converts suboptions: `keep_last: "3"` is 3.
        converted = {key: value if value is None else _typed(f"{name}.{key}", value, option["options"][key])
                     for key, value in converted.items()}
    return converted


def typed_value(name: str, value: Any, option: Mapping[str, Any]) -> Any:
    """`value` of the variable `name` converted as its argument spec `option` says; InputError naming the
    variable (or its setting) when it cannot be."""
    return _typed(name, value, option)


def night_ops_problems_of(values: Mapping[str, Any], retention_option: Mapping[str, Any]) -> list[str]:
    """The after-the-night settings' own rules (retention, notification, drill) for a host's hippolyte_* `values`,
    its retention read as the module will (`keep_last: "3"` as 3) by the backup role's `retention_option`."""
    try:
        retention = typed_value("hippolyte_retention", values.get("hippolyte_retention") or {}, retention_option)
    except InputError:  # not numbers: check_host lists it already
        retention = {}
    return night_ops_problems(retention, values.get("hippolyte_notify") or {}, values.get("hippolyte_drill", False))


def _convert(kind: str, value: Any) -> Any:
    """`value` as `kind`, converted the way Ansible converts role arguments; None when it cannot be."""
    if kind == "bool":
        text = str(value).lower()
        return value if isinstance(value, bool) else True if text in _TRUE else False if text in _FALSE else None
    if kind in ("int", "float"):
        if isinstance(value, bool):
            return None
        try:
            number = float(value) if kind == "float" else int(value) if isinstance(value, int | str) else None
        except (TypeError, ValueError):
            return None
        return number
    if kind == "str":  # a number becomes its text, as a template would render it
        return value if isinstance(value, str) else str(value) if isinstance(value, int | float) else None
    if kind == "list":
        return value if isinstance(value, list) else None
    if kind == "dict":
        return value if isinstance(value, dict) else None
    return value


# ------------------------------------------------------------------ the rules of each variable

Rule = Callable[[str, Any, Mapping[str, Any]], None]


def _destination(name: str, url: str, values: Mapping[str, Any]) -> None:
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        _bucket(name, parsed.netloc)
    elif parsed.scheme != "file" or parsed.netloc or not parsed.path.startswith("/"):
        raise InputError(name, f"is {url!r}", "write it as s3://bucket/prefix or file:///absolute/folder")
    try:
        check_destination(url)
    except InputError as exc:
        raise InputError(name, exc.problem.replace(url, repr(url)), exc.fix) from None


def _bucket(name: str, bucket: str) -> None:
    prefixes, suffixes = RESERVED_BUCKET_AFFIXES
    if (not BUCKET.fullmatch(bucket) or ".." in bucket or IP_ADDRESS.fullmatch(bucket)
            or bucket.startswith(prefixes) or bucket.endswith(suffixes)):
        raise InputError(name, f"names the bucket {bucket!r}, which S3 does not allow",
                         "a bucket name is 3 to 63 lowercase letters, digits, '.' and '-', starting and ending "
                         "with a letter or digit")


def _region(name: str, region: str, values: Mapping[str, Any]) -> None:
    regions = known_regions()
    if not region:
        raise InputError(name, "is empty", "set it (for example eu-west-1), or the AWS_REGION environment variable")
    if not is_valid_region(region) or (regions and region not in regions):
        closest = difflib.get_close_matches(region, sorted(regions), n=1)
        hint = f"did you mean {closest[0]}? " if closest else ""
        raise InputError(name, f"is {region!r}, which is not an AWS region", f"{hint}use a region such as eu-west-1")


@lru_cache(maxsize=1)
def known_regions() -> frozenset[str]:
    """Every region botocore knows in any partition; empty when botocore is missing (the pattern still holds)."""
    try:
        session = botocore.session.get_session()
    except NameError:
        return frozenset()
    return frozenset(region for partition in session.get_available_partitions()
                     for service in ("dynamodb", "sts") for region in session.get_available_regions(service, partition))


def _endpoint(name: str, url: str, values: Mapping[str, Any]) -> None:
    parsed = urlparse(url)
    if url and (parsed.scheme not in ("http", "https") or not parsed.hostname):
        raise InputError(name, f"is {url!r}, not an endpoint URL", "write it as https://host[:port], or leave it empty")


def _account(name: str, account: str, values: Mapping[str, Any]) -> None:
    if account and not is_valid_account_id(account):
        raise InputError(name, f"is {account!r}, not an AWS account id", "an account id is exactly 12 digits")


def _role_arn(name: str, arn: str, values: Mapping[str, Any]) -> None:
    if arn and not ROLE_ARN.fullmatch(arn):
        raise InputError(name, f"is {arn!r}, not an IAM role ARN",
                         "use arn:aws:iam::<12-digit account>:role/<path/>name")


def _external_id_form(name: str, external_id: str, values: Mapping[str, Any]) -> None:
    if external_id and not EXTERNAL_ID.fullmatch(external_id):
        raise InputError(name, "is not 2 to 1224 characters of letters, digits and _+=,.@:/-",
                         "use the external id the role's trust policy expects")


def _external_id(name: str, external_id: str, values: Mapping[str, Any]) -> None:
    _external_id_form(name, external_id, values)
    if external_id and not values.get("hippolyte_role_arn"):
        raise InputError(name, "is set but hippolyte_role_arn is empty", "set the role it guards in hippolyte_role_arn")


def _duration(name: str, seconds: int, values: Mapping[str, Any]) -> None:
    if not MIN_DURATION_S <= seconds <= MAX_DURATION_S:
        raise InputError(name, f"is {seconds} s", f"give {MIN_DURATION_S} to {MAX_DURATION_S} seconds (15 min to 12 h)")


def _window(name: str, window: dict[str, Any], values: Mapping[str, Any]) -> None:
    try:
        Window(start=window.get("start", ""), end=window.get("end", ""),
               timezone=window.get("timezone", "UTC")).validate()
    except InputError as exc:
        raise InputError(exc.field.replace("window", name, 1), exc.problem, exc.fix) from None


def _share(name: str, share: float, values: Mapping[str, Any]) -> None:
    if not 0 < share <= 1:
        raise InputError(name, f"is {share}", "give a share in (0, 1], for example 0.5 for half the read capacity")


def _every(name: str, every: str, values: Mapping[str, Any]) -> None:
    parse_every(every, name)  # incremental exports' own rule: 15m to 24h


def _at_least(minimum: float, what: str) -> Rule:
    def rule(name: str, number: float, values: Mapping[str, Any]) -> None:
        if number < minimum:
            raise InputError(name, f"is {number}", f"give {what} of at least {minimum}")
    return rule


def _patterns(name: str, patterns: list[str], values: Mapping[str, Any]) -> None:
    try:
        validate_patterns(patterns, []) if name == "hippolyte_include" else validate_patterns(["*"], patterns)
    except InputError as exc:
        raise InputError(name, exc.problem, exc.fix) from None
    for pattern in patterns:
        if pattern.count("[") != pattern.count("]") or re.search(r"\[!?\]", pattern):
            raise InputError(name, f"holds {pattern!r}, a glob whose [ ] set is not closed or is empty",
                             "close the set, e.g. orders-[0-9]*, or drop the brackets")
        if not GLOB.fullmatch(pattern):
            raise InputError(name, f"holds {pattern!r}, which matches no table name",
                             "table names hold only letters, digits, '_', '-' and '.'; globs add * ? and [ ]")


def _keys(allowed: tuple[str, ...]) -> Rule:
    def rule(name: str, settings: dict[str, Any], values: Mapping[str, Any]) -> None:
        renamed = RENAMED_SETTINGS.get(name, {})
        for key in settings:
            if key in renamed and renamed[key] in settings:
                raise InputError(f"{name}.{key}", f"is the old name of {renamed[key]}, which is set too",
                                 f"keep {renamed[key]} only")
            if key not in allowed and key not in renamed:
                # A misspelt old name gets its new name.
                closest = difflib.get_close_matches(str(key), [*allowed, *renamed], n=1)
                hint = f"did you mean {renamed.get(closest[0], closest[0])}? " if closest else ""
                raise InputError(f"{name}.{key}", "is not a setting it takes", f"{hint}use only {', '.join(allowed)}")
    return rule


def _sns_topic(name: str, arn: str, values: Mapping[str, Any]) -> None:
    if arn and not is_sns_topic_arn(arn):
        raise InputError(name, f"is {arn!r}, not an SNS topic ARN", "use arn:aws:sns:<region>:<account>:<topic>")


def _not_empty(name: str, text: str, values: Mapping[str, Any]) -> None:
    if not text.strip():
        raise InputError(name, "is empty", "give a folder, or leave the variable out for the default")


def _table(optional: bool) -> Rule:
    def rule(name: str, table: str, values: Mapping[str, Any]) -> None:
        if (table or not optional) and not is_valid_table_name(table):
            raise InputError(name, f"is {table!r}, not a DynamoDB table name",
                             "a table name is 3 to 255 letters, digits, '_', '-' or '.', and not dots only")
    return rule


def _copy_external_id(name: str, external_id: str, settings: Mapping[str, Any]) -> None:
    _external_id_form(name, external_id, settings)
    if external_id and not settings.get("role_arn"):
        raise InputError(name, "is set but hippolyte_copy_to.role_arn is empty", "set the role it guards in role_arn")


def _copy_to(name: str, settings: dict[str, Any], values: Mapping[str, Any]) -> None:
    if not settings:
        return  # no second copy
    _keys(COPY_TO_KEYS)(name, settings, values)
    if not settings.get("destination"):
        raise InputError(f"{name}.destination", "is not set", "give the copy's root, s3://bucket/prefix")
    if str(settings["destination"]).rstrip("/") == str(values.get("hippolyte_destination") or "").rstrip("/"):
        raise InputError(f"{name}.destination", "is hippolyte_destination itself",
                         "give another bucket, region or account: a copy beside the backups is no second copy")


def _s3_only(reason: str) -> Rule:
    def rule(name: str, url: str, values: Mapping[str, Any]) -> None:
        if url:
            if not url.startswith("s3://"):
                raise InputError(name, f"is {url!r}, and {reason}", "write it as s3://bucket/prefix")
            _destination(name, url, values)
    return rule


def _time(name: str, text: str, values: Mapping[str, Any]) -> None:
    """A time as every time is read (moments); `-e at=20261120` may arrive as a number. A restore's `at` after
    now is refused here too, before any call."""
    if text:
        try:
            parse_at(str(text), utc_now(), name)
        except InputError as exc:
            raise InputError(name, exc.problem, exc.fix) from None


def _second(name: str, text: str, values: Mapping[str, Any]) -> None:
    """A restore's one second (point_in_time, increments_until), and only one way of choosing what to restore."""
    if text:
        try:
            parse_moment(str(text), utc_now(), name)
        except InputError as exc:
            raise InputError(name, exc.problem, exc.fix) from None
        others = [other for other in RESTORE_CHOICES if other != name and values.get(other)]
        if others:
            raise InputError(name, f"is given with {', '.join(others)}",
                             "give one of -e at=, -e point_in_time= or -e increments_until=")


RESTORE_CHOICES = ("hippolyte_restore_at", "hippolyte_restore_point_in_time", "hippolyte_restore_increments_until")


def deprecated_names(values: Mapping[str, Any]) -> list[str]:
    """A warning for each setting `values` (a host's variables) give under an old name, which is still read."""
    return [f"{name}.{old} is deprecated: rename it {new} (the old name is read for one more release)"
            for name, renames in RENAMED_SETTINGS.items() if isinstance(values.get(name), Mapping)
            for old, new in renames.items() if old in values[name]]


# ------------------------------------------------------------------ the setup role's settings (hippolyte_setup)

def _kms_key(name: str, key: str, settings: Mapping[str, Any]) -> None:
    if settings.get("encryption") == "aws:kms" and not KMS_KEY_ARN.fullmatch(key):
        raise InputError(name, f"is {key!r}, not a KMS key ARN", "with encryption aws:kms, give the key's ARN, "
                         "arn:aws:kms:<region>:<account>:key/<id> (IAM policies cannot name a key by alias)")
    if settings.get("encryption") != "aws:kms" and key:
        raise InputError(name, f"is set but encryption is {settings.get('encryption')}",
                         "set hippolyte_setup.encryption to aws:kms, or leave kms_key_id out")


def _topic_name(name: str, topic: str, values: Mapping[str, Any]) -> None:
    if not SNS_TOPIC_NAME.fullmatch(topic):
        raise InputError(name, f"is {topic!r}, not an SNS topic name", "use 1 to 256 letters, digits, - and _")


def _principal(name: str, arn: str, values: Mapping[str, Any]) -> None:
    if arn and not PRINCIPAL_ARN.fullmatch(arn):
        raise InputError(name, f"is {arn!r}, not the ARN of a role or user",
                         "give the role or user the controller runs as, arn:aws:iam::<account>:role/<name> "
                         "or :user/<name>")


def _engines(name: str, engines: list[str], values: Mapping[str, Any]) -> None:
    unknown = [engine for engine in engines if engine not in ENGINES]
    if unknown:
        raise InputError(name, f"holds {', '.join(map(repr, unknown))}, not an engine", f"use {', '.join(ENGINES)}")


def _restore_tables(name: str, patterns: list[str], values: Mapping[str, Any]) -> None:
    if not patterns or any(not pattern or "/" in pattern for pattern in patterns):
        raise InputError(name, f"is {patterns!r}", 'list table names or globs without /, e.g. ["*-restored-*"] '
                         'or ["*"] for any')


def _undelete_tables(name: str, patterns: list[str], values: Mapping[str, Any]) -> None:
    if any(not pattern or "/" in pattern for pattern in patterns):
        raise InputError(name, f"is {patterns!r}", 'list live table names or globs without /, e.g. ["orders"]')


def _object_lock(name: str, lock: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    if not lock:
        return
    if not lock.get("mode"):
        raise InputError(f"{name}.mode", "is not set", "set it to GOVERNANCE or COMPLIANCE, or leave "
                         f"{name} empty for no lock")
    if not str(values.get("hippolyte_destination", "")).startswith("s3://"):
        raise InputError(name, "is set but hippolyte_destination is not s3://", "S3 Object Lock protects S3 objects "
                         f"only: use an s3:// destination, or leave {name} empty")


def _object_lock_with_retention(name: str, lock: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    _object_lock(name, lock, values)
    if lock and not values.get("hippolyte_retention"):
        raise InputError(name, "is set but hippolyte_retention is empty, and a backup stays locked until the retention "
                         "policy could first prune it", "set hippolyte_retention (e.g. {keep_daily: 7}), or leave "
                         f"{name} empty")


RULES: dict[str, Rule] = {
    "hippolyte_destination": _destination,
    "hippolyte_region": _region,
    "hippolyte_endpoint_url": _endpoint,
    "hippolyte_s3_endpoint_url": _endpoint,
    "hippolyte_bucket_owner": _account,
    "hippolyte_account_id": _account,
    "hippolyte_role_arn": _role_arn,
    "hippolyte_role_external_id": _external_id,
    "hippolyte_role_duration": _duration,
    "hippolyte_window": _window,
    "hippolyte_read_percentage": _share,
    "hippolyte_on_demand_read_units": _at_least(1, "read units per second"),
    "hippolyte_include": _patterns,
    "hippolyte_exclude": _patterns,
    "hippolyte_scan_workers": _at_least(1, "workers"),
    "hippolyte_max_concurrent_scans": _at_least(1, "tables"),
    "hippolyte_controller_bytes_per_s": _at_least(1, "bytes per second"),
    "hippolyte_max_objects": _at_least(5, "objects"),  # the planner's own floor: a pipeline with one table
    "hippolyte_lease_wait_s": _at_least(0, "seconds"),
    "hippolyte_emr": _keys(EMR_KEYS),
    "hippolyte_datapipeline": _keys(DATAPIPELINE_KEYS),
    "hippolyte_sns_topic_arn": _sns_topic,
    "hippolyte_copy_to": _copy_to,
    "hippolyte_copy_to.destination": _destination,
    "hippolyte_copy_to.region": _region,
    "hippolyte_copy_to.s3_endpoint_url": _endpoint,
    "hippolyte_copy_to.bucket_owner": _account,
    "hippolyte_copy_to.role_arn": _role_arn,
    "hippolyte_copy_to.role_external_id": _copy_external_id,
    "hippolyte_increments.every": _every,
    "hippolyte_increments.max_windows": _at_least(1, "windows"),
    "hippolyte_report_dir": _not_empty,
    "hippolyte_report_ok_lines": _at_least(0, "lines"),
    "hippolyte_restore_table": _table(optional=False),
    "hippolyte_restore_target": _table(optional=True),
    "hippolyte_restore_at": _time,
    "hippolyte_restore_point_in_time": _second,
    "hippolyte_restore_increments_until": _second,
    "hippolyte_restore_workers": _at_least(1, "writers"),
    "hippolyte_restore_write_capacity": _at_least(0, "write units"),
    "hippolyte_restore_stage_to": _s3_only("ImportTable reads from S3 only"),
    "hippolyte_restore_stage_bucket_owner": _account,
    "hippolyte_restore_max_rejected_items": _at_least(0, "items"),
    "hippolyte_setup.kms_key_id": _kms_key,
    "hippolyte_setup.abort_multipart_days": _at_least(1, "days"),
    "hippolyte_setup.expiration_days": _at_least(0, "days"),
    "hippolyte_setup.noncurrent_expiration_days": _at_least(0, "days"),
    "hippolyte_setup.engines": _engines,
    "hippolyte_setup.topic_name": _topic_name,
    "hippolyte_setup.controller_arn": _principal,
    "hippolyte_setup.restore_tables": _restore_tables,
    "hippolyte_setup.undelete_tables": _undelete_tables,
    "hippolyte_setup.stage_to": _s3_only("import restores stage in S3 only"),
    "hippolyte_object_lock": _object_lock_with_retention,
    "hippolyte_object_lock.default_retention_days": _at_least(0, "days"),
}
# The setup role creates the destination's bucket, an S3 one only, and the roles: their trust policy may require an
# external id with hippolyte_role_arn empty (the backup role then gets its default name).
SETUP_RULES: dict[str, Rule] = {**RULES, "hippolyte_destination": _s3_only("setup creates an S3 bucket"),
                                "hippolyte_role_external_id": _external_id_form,
                                # The bucket's lock needs no retention policy; the backup role's locks do.
                                "hippolyte_object_lock": _object_lock}


def rules_for(role: str) -> Mapping[str, Rule]:
    """The rules of the variables of `role`."""
    return SETUP_RULES if role == "setup" else RULES
