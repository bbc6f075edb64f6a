"""The contract of a marketplace adapter: everything the rest of the project may ask of one.

An adapter is a module under jobs/marketplaces/ that, when imported, builds one `Adapter` and hands it
to `registry.register()`; the registry lists those modules (jobs/marketplaces/registry.py). Generic
code asks the registry and never names a marketplace:

- `marketplace`: the `marketplaces` row its observations are stored under, which `flask db upgrade`
  writes (so a new marketplace needs no migration);
- `read_config(env)`: its section of the environment, read from the process's one `Env`
  (`Settings.env`), validated; `missing(config)` names the settings it lacks to fetch at all (its fetch
  jobs are then skipped with one log line);
- `fan_outs`: the fetches the schedule splits into jobs of a batch of products each
  (jobs/marketplaces/fetch.py `enqueue_fetches`), and `schedule`: its entries in the periodic schedule;
- `replays` and `replay()`: the raw payload kinds (their `context.kind`) it can re-parse, and how
  (jobs/marketplaces/replay.py hands each adapter its own payloads of a run).

How a fetch job runs (one ingest run, ended, and raised when anything failed, in one place) is shared:
jobs/marketplaces/fetch.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import psycopg

from jobs.periodic import Entry
from service.core.ingest import writer
from service.core.marketplaces import Marketplace
from service.core.settings import Env

Config = TypeVar("Config")
# A stored raw payload: its row of raw_payloads (fetched_at, marketplace, request, status, body, context).
Payload = Mapping[str, Any]


@dataclass
class ReplayReport:
    run_id: int  # the replay's own ingest run
    replay_of: int
    payloads: int = 0
    result: writer.WriteResult = field(default_factory=writer.WriteResult)
    inferred_sales: int = 0


@dataclass(frozen=True)
class FanOut:
    """A fetch run as one job per batch of the products that have a usable source."""

    kind: str  # names the batch jobs (fetch-<kind>-<slot>-<n>) and `enqueue_fetches(kind)`
    job: Callable[..., Any]  # the fetch job, called with a list of product ids
    batch_size: int
    needs: str  # the ProductSource field a usable source has set ("search_query", "external_id")


@dataclass(frozen=True)
class Adapter(Generic[Config]):
    marketplace: Marketplace
    read_config: Callable[[Env], Config]
    missing: Callable[[Config], list[str]]
    fan_outs: tuple[FanOut, ...]
    schedule: tuple[Entry, ...]
    replays: frozenset[str]
    # Re-parses the adapter's payloads of one run (in the order they were fetched) into the writer,
    # adding to the report; idempotent like any ingest.
    replay: Callable[[psycopg.Connection[Any], Config, Sequence[Payload], ReplayReport], None]
    # Whether it reports its sales with these settings (then none are inferred), when that depends on
    # them; otherwise `marketplace.has_sold_feed` says.
    sold_feed: Callable[[Config], bool] | None = None

    @property
    def code(self) -> str:
        return self.marketplace.code

    def declared(self, env: Env) -> Marketplace:
        """Its `marketplaces` row under these settings."""
        if self.sold_feed is None:
            return self.marketplace
        return replace(self.marketplace, has_sold_feed=self.sold_feed(self.read_config(env)))
