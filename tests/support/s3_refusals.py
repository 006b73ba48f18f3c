"""An S3 client that refuses some deletes the way S3 does, for the paths no emulator refuses."""

from __future__ import annotations

from typing import Any


class RefusingDeletes:
    """An S3 client whose DeleteObjects answers as S3 does for a role without s3:DeleteObject on some keys: 200,
    with each refused key in Errors and left in place. moto server answers DeleteObjects without evaluating
    identity policies, so the refusal is injected here; every other call goes to moto unchanged."""

    def __init__(self, inner: Any, refuse: str) -> None:
        self._inner, self._refuse = inner, refuse

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def delete_objects(self, **kwargs: Any) -> dict[str, Any]:
        objects = kwargs["Delete"]["Objects"]
        kept = [o for o in objects if self._refuse not in o["Key"]]
        answer = self._inner.delete_objects(**{**kwargs, "Delete": {**kwargs["Delete"], "Objects": kept}}) \
            if kept else {}
        errors = [{"Key": o["Key"], "Code": "AccessDenied", "Message": "Access Denied"}
                  for o in objects if o not in kept]
        return {**answer, "Errors": answer.get("Errors", []) + errors}


class RefusingLockReads:
    """An S3 client whose GetObjectLockConfiguration is denied, as for a role set up before retention was granted
    s3:GetBucketObjectLockConfiguration (moto does not evaluate identity policies); every other call goes to moto."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def get_object_lock_configuration(self, **kwargs: Any) -> dict[str, Any]:
        raise self._inner.exceptions.ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
             "ResponseMetadata": {"HTTPStatusCode": 403}}, "GetObjectLockConfiguration")
