"""What backup_info and backup_prune do, from their options to their answer: checked first, then the store is opened.

The store comes from a callable so that bad input fails before any client is made or anything is listed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_since, parse_until
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.answer import Answer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import Selection
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.catalog_states import (
    list_catalog,
    prune_catalog,
    verify_catalog,
)
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy

# Opens the destination for this many parallel readers.
StoreOpener = Callable[[int], BackupStore]


def _check_workers(workers: int) -> None:
    if workers < 1:
        raise InputError("workers", f"must be at least 1, got {workers}", "use 1 to 64")


@dataclass(frozen=True)
class CatalogRequest:
    """backup_info's options."""

    state: str = "listed"  # listed, verified; pruned is refused (it moved to backup_prune)
    tables: Sequence[str] = ("*",)
    accounts: Sequence[str] = ()
    regions: Sequence[str] = ()
    since: str | None = None
    until: str | None = None
    workers: int = 8
    fail_on_damaged: bool = True

    def selection(self) -> Selection:
        """The checked selection; raises InputError naming the field at fault."""
        if self.state == "pruned":  # before any call: an _info module never deletes
            raise InputError("state", "state=pruned moved to hippolyte.dynamodb.backup_prune (same options, "
                             "without state); backup_info only reads", "call hippolyte.dynamodb.backup_prune with "
                             "the same options and no state")
        _check_workers(self.workers)
        selection = Selection(tables=self.tables, accounts=self.accounts, regions=self.regions,
                              since=parse_since(self.since) if self.since else None,
                              until=parse_until(self.until) if self.until else None)
        selection.validate()
        return selection


def catalog_answer(request: CatalogRequest, open_store: StoreOpener, now: datetime | None = None) -> Answer:
    """List or verify the catalog; a verify that finds damage fails when fail_on_damaged."""
    selection = request.selection()
    store = open_store(request.workers)
    if request.state == "verified":
        outcome = verify_catalog(store, selection, request.workers, now)
        facts = {"changed": False, "backups": outcome.backups, "msg": outcome.msg, "damaged": outcome.damaged}
        return Answer(facts, failed=bool(outcome.damaged) and request.fail_on_damaged)
    outcome = list_catalog(store, selection, request.workers, now)
    return Answer({"changed": False, "backups": outcome.backups, "msg": outcome.msg})


@dataclass(frozen=True)
class PruneRequest:
    """backup_prune's options."""

    tables: Sequence[str] = ("*",)
    accounts: Sequence[str] = ()
    regions: Sequence[str] = ()
    workers: int = 8
    policy: Policy = field(default_factory=Policy)

    def selection(self) -> Selection:
        """The checked selection (the policy checked too); raises InputError naming the field at fault."""
        _check_workers(self.workers)
        selection = Selection(tables=self.tables, accounts=self.accounts, regions=self.regions)
        selection.validate()
        self.policy.validate()
        return selection


def prune_answer(request: PruneRequest, open_store: StoreOpener, check_mode: bool, diff: bool,
                 now: datetime | None = None) -> Answer:
    """Delete what the policy does not keep (nothing in check mode); fails when the store refused a deletion."""
    selection = request.selection()  # bad input fails before the store is opened
    outcome = prune_catalog(open_store(request.workers), selection, request.policy, request.workers, check_mode, now)
    facts: dict[str, Any] = {"changed": outcome.changed, "backups": outcome.backups, "deleted": outcome.deleted,
                             "refused": outcome.refused, "locked": outcome.locked,
                             "increments_deleted": outcome.increments_deleted, "msg": outcome.msg}
    if diff:
        facts["diff"] = outcome.diff
    return Answer(facts, failed=bool(outcome.refused), warnings=outcome.warnings)
