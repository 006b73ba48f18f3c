"""The object lock backups are written with: a mode, and a retain-until date the retention policy sets."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import ObjectLock
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.catalog.retention import Policy, lock_until


def backup_lock(mode: str | None, retention: Mapping[str, Any] | None) -> ObjectLock | None:
    """The lock of the `object_lock_mode` and `object_lock_retention` options (None: backups are not locked).

    Each backup is locked until `lock_until` of the retention policy: never longer than retention keeps it, so
    the prune is not held up by locks it would have to skip, and a lock without a policy has no end."""
    if not mode:
        if retention:
            raise InputError("object_lock_retention", "is set but object_lock_mode is not, so nothing is locked",
                             "set object_lock_mode to GOVERNANCE or COMPLIANCE, or drop object_lock_retention")
        return None
    if not retention:
        raise InputError("object_lock_retention", f"is not set, and object_lock_mode {mode} needs the retention "
                         "policy to know how long each backup may stay locked",
                         "give the policy backup_prune runs with (the backup role passes hippolyte_retention)")
    policy = Policy(**{key: value for key, value in retention.items() if value is not None})
    try:
        policy.validate()
    except InputError as exc:
        raise InputError(f"object_lock_retention.{exc.field}", exc.problem, exc.fix) from None
    lock = ObjectLock(mode, partial(lock_until, policy))
    lock.validate()
    return lock
