"""An engine task's clients (`cluster_engine.EngineClients`) on a stand-in server, for calling the engines'
tasks directly as a module or a night's driver would; it records which services were asked for, so a test can
show that bad input failed before any AWS client was made."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ansible_collections.hippolyte.dynamodb.plugins.module_utils._base.errors import InputError
from ansible_collections.hippolyte.dynamodb.plugins.module_utils._store.backup_store import BackupStore, open_store
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.capacity_control import Settings, boost
from ansible_collections.hippolyte.dynamodb.plugins.module_utils.capacity.throughput import Targets
from tests.conftest import REGION, client
from tests.support.tables import create_table, put_items, simple_items


class StandInClients:
    def __init__(self, url: str, destination: str | None, region: str = REGION,
                 bucket_owner: str | None = None) -> None:
        self.url, self.region, self._destination, self.bucket_owner = url, region, destination, bucket_owner
        self.asked: list[str] = []  # services, in the order clients were first asked for
        self.slept: list[float] = []
        self._clients: dict[str, Any] = {}

    def destination(self) -> str:
        if not self._destination:
            raise InputError("destination", "is not set", "set it")
        return self._destination

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self.asked.append(service)
            self._clients[service] = client(service, self.url)
        return self._clients[service]

    def store(self) -> BackupStore:
        url = self.destination()
        if not url.startswith("s3://"):
            return open_store(url)
        return open_store(url, self.client("s3"), self.bucket_owner)

    def watch_sleep(self) -> Callable[[float], None]:
        return self.slept.append


def module_options(spec: dict[str, dict[str, Any]], **given: Any) -> dict[str, Any]:
    """A module's options as Ansible hands them over: every option of `spec` at its default (None without one),
    suboptions left unset, then `given`."""
    return {**{name: option.get("default") for name, option in spec.items()}, **given}


# A night of one cluster table (boosted by the run) and one local table, for the night driver's tests on moto.
ITEM_LINE = '{"pk":{"s":"a"},"n":{"n":"1"}}'
BOOST_RCU = 40
OWN_RCU = 10


def boosted_night(url: str, name: str) -> tuple[StandInClients, str, str]:
    """A bucket, a cluster table boosted by run `name` (10 -> 40 RCU) and a local table with items."""
    client("s3", url).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})
    ddb = client("dynamodb", url)
    on_cluster, local = f"{name}-cl", f"{name}-lo"
    create_table(ddb, on_cluster, rcu=OWN_RCU)
    boost(ddb, None, on_cluster, Targets(read=BOOST_RCU), Settings(run_id=name, poll_s=0.01))
    create_table(ddb, local, rcu=5, wcu=50)
    put_items(ddb, local, simple_items(30))
    return StandInClients(url, f"s3://{name}/ddb"), on_cluster, local


def read_capacity(clients: StandInClients, table: str) -> int:
    return int(clients.client("dynamodb").describe_table(TableName=table)["Table"]["ProvisionedThroughput"]
               ["ReadCapacityUnits"])
