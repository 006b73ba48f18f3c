# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Listings through botocore's own paginators."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def pages(client: Any, operation: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
    """Every page of a paginated call, through botocore's own paginator for it."""
    yield from client.get_paginator(operation).paginate(**kwargs)


def all_items(client: Any, operation: str, key: str, **kwargs: Any) -> list[Any]:
    """The `key` list of every page of a paginated call, concatenated."""
    return [item for page in pages(client, operation, **kwargs) for item in page.get(key, [])]
