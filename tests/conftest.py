"""Shared fixtures: real local AWS stand-ins (moto server, dynalite) started once per test session."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO))

import stand_ins  # noqa: E402

from tests.support.ansible_run import ensure_collection_link  # noqa: E402

# Make `ansible_collections.hippolyte.dynamodb` importable so module_utils are tested directly.
sys.path.insert(0, str(ensure_collection_link()))

# Stand-ins accept any credentials; never let a developer's real ones near a test.
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="stand-in-secret-key",
                  AWS_DEFAULT_REGION="eu-west-1")
for _var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(_var, None)

REGION = "eu-west-1"


def _stand_in(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[stand_ins.StandIn]:
    server = stand_ins.start(kind, tmp_path_factory.mktemp(f"{kind}-logs"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stand_ins.StandIn]:
    yield from _stand_in("moto", tmp_path_factory)


@pytest.fixture(scope="session")
def dynalite_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[stand_ins.StandIn]:
    yield from _stand_in("dynalite", tmp_path_factory)


def client(service: str, endpoint_url: str):
    return boto3.client(service, region_name=REGION, endpoint_url=endpoint_url,
                        config=Config(max_pool_connections=32, retries={"mode": "standard"}))


@pytest.fixture
def unique_name() -> str:
    """A table or bucket name no other test uses, so tests share one server safely."""
    return f"t-{uuid.uuid4().hex[:10]}"
