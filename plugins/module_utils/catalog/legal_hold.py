"""backup_hold: place or lift an S3 Object Lock legal hold on every object of a table's backups (or one night's).

A legal hold keeps an object version until it is lifted, whatever its retain-until date; the prune skips a held
backup. Holds are set on the current version of each object, read first, so a run that changes nothing writes
nothing and check mode reports exactly what would change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.moments import parse_span
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.answer import Answer
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._model.names import check_table_name
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.catalog import Selection, scan_catalog
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under

STATES = ("present", "absent")


@dataclass(frozen=True)
class HoldRequest:
    """backup_hold's options."""

    table: str
    state: str = "present"
    at: str | None = None  # one backup (its folder time) or one day's; None: every backup of the table
    accounts: Sequence[str] = ()
    regions: Sequence[str] = ()
    workers: int = 8

    def selection(self) -> Selection:
        """The checked selection; raises InputError naming the field at fault."""
        if self.state not in STATES:
            raise InputError("state", f"is {self.state!r}", "use present (place the hold) or absent (lift it)")
        check_table_name("table", self.table)
        span = parse_span(self.at, "at") if self.at else None
        selection = Selection(tables=(self.table,), accounts=self.accounts, regions=self.regions,
                              since=span.first if span else None, until=span.last if span else None)
        selection.validate()
        return selection


def hold_answer(request: HoldRequest, open_store: Callable[[int], BackupStore], check_mode: bool,
                diff: bool) -> Answer:
    """Place (present) or lift (absent) the legal hold on every object of the selected backups."""
    selection = request.selection()  # bad input fails before the store is opened
    store = open_store(request.workers)
    entries = scan_catalog(store, selection, request.workers)
    when = f" at {request.at}" if request.at else ""
    if not entries:
        raise InputError("at" if request.at else "table", f"no backup of {request.table}{when} under {store.url}",
                         "list the table's backups with backup_info and name one of their times in at")
    on = request.state == "present"
    folders: list[dict[str, Any]] = []
    diffs: list[dict[str, str]] = []
    for entry in entries:
        states = store.lock_states(entry.ref.folder)
        if not states:
            raise InputError("destination", f"{store.url} cannot hold backups: it is not an S3 bucket with Object "
                             "Lock", "create the bucket with Object Lock (playbooks/setup.yml with "
                             "hippolyte_object_lock), or enable it on this versioned bucket")
        to_change = [state for state in states if state.legal_hold != on]
        if not check_mode:
            for state in to_change:
                store.set_legal_hold(state, on)
        folders.append({"folder": entry.ref.folder, "url": url_under(store.url, entry.ref.folder),
                        "objects": len(states), "changed": len(to_change)})
        if to_change:
            held_before = sum(1 for state in states if state.legal_hold)
            diffs.append({"before_header": entry.ref.folder, "after_header": entry.ref.folder,
                          "before": f"legal hold on {held_before} of {len(states)} object(s)\n",
                          "after": f"legal hold on {len(states) if on else 0} of {len(states)} object(s)\n"})
    changed = sum(1 for f in folders if f["changed"])
    verb = ("would place" if check_mode else "placed") if on else ("would lift" if check_mode else "lifted")
    msg = (f"{verb} the legal hold on {changed} of {len(folders)} backup folder(s) of {request.table}{when}"
           f"{'' if changed else ' (all already ' + ('held' if on else 'free') + ')'}")
    facts: dict[str, Any] = {"changed": bool(changed), "backups": folders, "msg": msg}
    if diff:
        facts["diff"] = diffs
    return Answer(facts)
