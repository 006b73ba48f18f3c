"""Fixtures of the unit tests: AWS stand-ins that live in the test process (see tests/support/threaded_moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.threaded_moto import moto_in_thread


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """The endpoint of a moto server in this process (one per session, or per test under ansible-test's forks)."""
    with moto_in_thread() as url:
        yield url
