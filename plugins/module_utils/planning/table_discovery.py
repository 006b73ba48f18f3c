"""Find the tables a plan covers and what the planner needs to know about each.

ListTables (paginated), whole-name glob include/exclude, then concurrently DescribeTable of every table and,
for the selected ones, their tags, TTL and PITR status (`TableFacts`: the plan hands them to the local engine,
which then does not read them again), the read-capacity autoscaling targets from Application
Auto Scaling and the account's limits from DescribeLimits. Plain Python: boto3 clients come in as
arguments, nothing here imports Ansible.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.dynamodb import list_table_names
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.paging import all_items
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_capture import list_tags
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._aws.table_settings import (
    AutoscalingListing,
    ask_if_offered,
    autoscaling_of,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import (
    UNSUPPORTED_CALL_CODES,
    InputError,
    is_error,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.billing import ON_DEMAND, billing_mode
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.capacity_record import original_read_units
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import is_valid_table_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.plan_document import TableFacts
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.table_description import shape_of
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.planning.plan_tables import TableInfo

READ_DIMENSION = "dynamodb:table:ReadCapacityUnits"
GONE = ("ResourceNotFoundException", "TableNotFoundException")
# Calls a least-privilege role may lack, or a stand-in may not implement: the plan goes on without
# them and says what it assumed instead.
OPTIONAL_CALL_ERRORS = ("AccessDeniedException", "AccessDenied", *UNSUPPORTED_CALL_CODES)


@dataclass
class Discovery:
    tables: list[TableInfo]
    account_rcu_in_use: int  # provisioned read capacity of every table and GSI in the region
    table_max_rcu: int | None = None
    account_max_rcu: int | None = None
    warnings: list[str] = field(default_factory=list)
    # Tables left out, as the plan's `unplannable` entries: a stand-in may hold a name DynamoDB refuses,
    # which could not name a backup folder safely.
    unplannable: list[dict[str, str]] = field(default_factory=list)


def validate_patterns(include: Any, exclude: Any) -> tuple[list[str], list[str]]:
    for name, patterns, allow_empty in (("include", include, False), ("exclude", exclude, True)):
        if not isinstance(patterns, list) or not all(isinstance(p, str) and p for p in patterns):
            raise InputError(name, f"must be a list of non-empty glob patterns, got {patterns!r}",
                             'for example ["orders*", "users"]')
        if not patterns and not allow_empty:
            raise InputError(name, "is empty, so no table would be backed up", 'use ["*"] for every table')
    return include, exclude


def select(names: list[str], include: list[str], exclude: list[str]) -> list[str]:
    """Names matching an include pattern and no exclude pattern; patterns match the whole name."""
    validate_patterns(include, exclude)
    unmatched = [p for p in include if not any(fnmatchcase(n, p) for n in names)]
    if unmatched:
        raise InputError("include", f"pattern {unmatched[0]!r} matches no table in this region",
                         "check its spelling; a pattern matches the whole name (orders* also matches orders-archive,"
                         " orders does not)")
    return sorted(n for n in names if any(fnmatchcase(n, p) for p in include)
                  and not any(fnmatchcase(n, p) for p in exclude))


def scaling_bounds(listed: list[dict[str, Any]]) -> dict[str, tuple[int, int]]:
    """(MinCapacity, MaxCapacity) of each table's read-capacity scalable target among `listed`, by table name."""
    targets: dict[str, tuple[int, int]] = {}
    for target in listed:
        resource = target["ResourceId"].split("/")
        # "table/NAME" only; an index's target ("table/NAME/index/IDX") is the throughput module's business.
        if target["ScalableDimension"] == READ_DIMENSION and len(resource) == 2:
            targets[resource[1]] = (int(target["MinCapacity"]), int(target["MaxCapacity"]))
    return targets


def account_limits(ddb: Any) -> tuple[int, int]:
    limits = ddb.describe_limits()
    return int(limits["TableMaxReadCapacityUnits"]), int(limits["AccountMaxReadCapacityUnits"])


def _read_capacity(description: dict[str, Any]) -> int:
    return int(description.get("ProvisionedThroughput", {}).get("ReadCapacityUnits") or 0)


class _Unread(Exception):
    """A fact the plan could not read (denied, gone meanwhile): the backup reads it itself."""


def _asked(ddb: Any, operation: str, call: Any, **kwargs: Any) -> dict[str, Any] | None:
    """The answer of an optional read; None when the endpoint does not offer the call (as the backup's own capture
    records it; asked of one table only), `_Unread` when the role may not make it or the table went away."""
    try:
        return dict(ask_if_offered(ddb, operation, lambda: call(**kwargs)))
    except Exception as exc:
        if is_error(exc, *UNSUPPORTED_CALL_CODES):
            return None
        if is_error(exc, *GONE, "ContinuousBackupsUnavailableException", *OPTIONAL_CALL_ERRORS):
            raise _Unread from exc
        raise


def _tags(ddb: Any, description: dict[str, Any]) -> list[dict[str, str]] | None:
    """The table's tags; None when the role may not read them or the table went away."""
    try:
        return list_tags(ddb, description["TableArn"]) if description.get("TableArn") else []
    except Exception as exc:
        if is_error(exc, *GONE, *OPTIONAL_CALL_ERRORS):
            return None
        raise


def _facts(ddb: Any, description: dict[str, Any], tags: list[dict[str, str]] | None,
           scaling: AutoscalingListing | None) -> TableFacts | None:
    """Tags, TTL and PITR status of a selected table, read once here for the plan and its backup, and its autoscaling
    from the region's listing (`scaling`; None: not listed); None when one of them could not be read."""
    name = description["TableName"]
    try:
        ttl = _asked(ddb, "DescribeTimeToLive", ddb.describe_time_to_live, TableName=name)
        pitr = _asked(ddb, "DescribeContinuousBackups", ddb.describe_continuous_backups, TableName=name)
    except _Unread:
        return None
    if tags is None:
        return None
    ttl_description = ttl.get("TimeToLiveDescription") if ttl else None
    status = (pitr["ContinuousBackupsDescription"].get("PointInTimeRecoveryDescription", {})
              .get("PointInTimeRecoveryStatus")) if pitr else None
    return TableFacts(shape=shape_of(description), tags=tuple((t["Key"], t["Value"]) for t in tags),
                      time_to_live=None if ttl_description is None else tuple(
                          sorted((str(k), str(v)) for k, v in ttl_description.items())),
                      point_in_time_recovery=status,
                      autoscaling=None if scaling is None else autoscaling_of(
                          scaling, name, [g["IndexName"] for g in description.get("GlobalSecondaryIndexes", [])]))


def _original_rcu(description: dict[str, Any], tags: list[dict[str, str]] | None) -> int | None:
    """The read capacity recorded before another run's boost, when one is on the table: that run takes the
    boost back when it ends, so a plan made on the boosted figure would read the application's share."""
    if tags is None or (description.get("ProvisionedThroughput") or {}).get("ReadCapacityUnits", 0) == 0:
        return None
    return original_read_units(tags)


def _describe(ddb: Any, name: str, selected: bool,
              scaling: AutoscalingListing | None) -> tuple[dict[str, Any] | None, TableFacts | None]:
    try:
        description = ddb.describe_table(TableName=name)["Table"]
    except Exception as exc:
        if is_error(exc, *GONE):
            return None, None  # deleted between ListTables and now
        raise
    if not selected:
        return description, None
    tags = _tags(ddb, description)
    facts = _facts(ddb, description, tags, scaling)
    original = _original_rcu(description, tags)
    if original is not None:
        description = {**description, "ProvisionedThroughput": {**description["ProvisionedThroughput"],
                                                                "ReadCapacityUnits": original}}
    return description, facts


def table_info(description: dict[str, Any], facts: TableFacts | None, scaling: tuple[int, int] | None) -> TableInfo:
    mode = billing_mode(description)
    pitr = facts is not None and facts.point_in_time_recovery == "ENABLED"
    return TableInfo(
        name=description["TableName"], size_bytes=int(description.get("TableSizeBytes") or 0),
        item_count=int(description.get("ItemCount") or 0), billing_mode=mode,
        rcu=0 if mode == ON_DEMAND else _read_capacity(description), pitr=pitr,
        status=description.get("TableStatus", "ACTIVE"),
        autoscaling_min_rcu=scaling[0] if scaling else None, autoscaling_max_rcu=scaling[1] if scaling else None,
        gsis=tuple((g["IndexName"], 0 if mode == ON_DEMAND else _read_capacity(g))
                   for g in description.get("GlobalSecondaryIndexes", [])),
        warm_read_units=int(description.get("WarmThroughput", {}).get("ReadUnitsPerSecond") or 0) or None,
        facts=facts)


def discover(ddb: Any, aas: Any, include: list[str], exclude: list[str], workers: int = 16) -> Discovery:
    """Describe the selected tables. Every table in the region is described once, because the
    account's read capacity in use (the headroom for boosts) counts them all."""
    warnings: list[str] = []
    names = list_table_names(ddb)
    selected = set(select(names, include, exclude))
    listing: AutoscalingListing | None = None
    try:
        targets = all_items(aas, "describe_scalable_targets", "ScalableTargets", ServiceNamespace="dynamodb")
    except Exception as exc:
        if not is_error(exc, *OPTIONAL_CALL_ERRORS):
            raise
        targets = []
        warnings.append("could not read Application Auto Scaling targets "
                        f"({exc}): autoscaled tables are planned as if they were not")
    else:
        try:  # one listing for every table's backup, which otherwise asks two calls or more of its own
            listing = AutoscalingListing(targets, all_items(aas, "describe_scaling_policies", "ScalingPolicies",
                                                            ServiceNamespace="dynamodb"))
        except Exception as exc:
            if not is_error(exc, *OPTIONAL_CALL_ERRORS):
                raise  # denied or not offered: each backup reads its table's own, and says when it cannot
    scaling = scaling_bounds(targets)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        described = list(pool.map(lambda n: _describe(ddb, n, n in selected, listing), names))

    table_max: int | None
    account_max: int | None
    try:
        table_max, account_max = account_limits(ddb)
    except Exception as exc:
        if not is_error(exc, *OPTIONAL_CALL_ERRORS):
            raise
        table_max = account_max = None
        warnings.append(f"could not read DescribeLimits ({exc}): the model's table limit is used, and boosts have "
                        "no account cap unless model.account_max_rcu sets one")

    tables: list[TableInfo] = []
    in_use = 0
    vanished = []
    unplannable = []
    for name, (description, facts) in zip(names, described, strict=True):
        if description is None:
            if name in selected:
                vanished.append(name)
            continue
        info = table_info(description, facts, scaling.get(name))
        in_use += info.rcu + sum(rcu for _index, rcu in info.gsis)
        if name in selected and not is_valid_table_name(name):
            unplannable.append({"name": name, "reason": "not a DynamoDB table name (3 to 255 of a-z A-Z 0-9 _ - .), "
                                "so no backup folder can be named after it"})
        elif name in selected:
            tables.append(info)
    if vanished:
        warnings.append(f"deleted while being planned, so left out: {', '.join(sorted(vanished))}")
    return Discovery(sorted(tables, key=lambda t: t.name), in_use, table_max, account_max, warnings,
                     sorted(unplannable, key=lambda u: u["name"]))


def usable_cluster_engine(datapipeline: Any) -> str:
    """Data Pipeline where the account can still use it (it is closed to new customers), else EMR."""
    try:
        datapipeline.list_pipelines()
    except Exception:  # closed to this account, not offered in the region, or not allowed to this role
        return "emr"
    return "datapipeline"
