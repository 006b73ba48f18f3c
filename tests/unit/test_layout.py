"""url_under: the one way a URL under a store's root or a destination is written."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.layout import url_under

_SEGMENT = st.text(st.sampled_from("abc-_.09"), min_size=1, max_size=8)
_ROOTS = st.sampled_from(["s3://bucket", "s3://bucket/nightly/dynamodb", "file:///var/backups/ddb"])


@given(_ROOTS, st.integers(0, 2), st.lists(_SEGMENT, min_size=1, max_size=4))
def test_a_root_with_or_without_trailing_slashes_gives_one_url(root: str, slashes: int, parts: list[str]) -> None:
    url = url_under(root + "/" * slashes, *parts)
    assert url == url_under(root, *parts)
    assert url == root + "/" + "/".join(parts)  # what the hand-built f"{root.rstrip('/')}/{...}" gave


def test_examples() -> None:
    assert url_under("s3://b/nightly/", "123456789012/eu-west-1/orders/2026-11-22T010000Z") == \
        "s3://b/nightly/123456789012/eu-west-1/orders/2026-11-22T010000Z"
    assert url_under("file:///var/backups", "a", "hippolyte-manifest.json") == \
        "file:///var/backups/a/hippolyte-manifest.json"
    assert url_under("s3://b/", "data") + "/" == "s3://b/data/"
