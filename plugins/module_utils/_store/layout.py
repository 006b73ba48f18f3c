# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Where a backup's objects are: the one way a URL under a store's root or a destination is written."""

from __future__ import annotations


def url_under(root: str, *parts: str) -> str:
    """`root` (a store's URL or a destination, with or without its trailing slash) and `parts`, joined by "/"."""
    return "/".join((root.rstrip("/"), *parts))
