"""Prometheus metrics of a running notary: a registry of series read when scraped.

Most series are not counted as things happen but read at scrape time from where the truth
is (the database, the chain node, the IPFS node, the anchoring lock), because the work they
describe is done by the anchoring process, a process of its own that may be restarted:
prometheus-client's multiprocess mode would need a shared directory of memory-mapped files
and would lose or reset what a killed process had counted, where the database keeps it
(notary.store.stats). Only what the API process itself does is counted in it
(`notary_deposits_total`, an ordinary counter that starts at zero with the process, as
Prometheus's rate() expects).

`Metrics.gauge` and `Metrics.histogram` register a reader; readers are called on every
scrape, each guarded (one that fails is logged and its series left out of that scrape, so
Prometheus sees it absent rather than a false zero). Other parts register their own gauges
the same way (e.g. the webhook outbox's backlog).
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from prometheus_client import CollectorRegistry, Counter, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

CONTENT_TYPE: Final = CONTENT_TYPE_PLAIN_0_0_4
"""Prometheus text exposition format 0.0.4 (what every Prometheus version scrapes)."""

log = logging.getLogger("notary.metrics")

GaugeValue = float | Mapping[str, float]
"""A gauge reader's answer: one value, or a value per label value."""


@dataclass(frozen=True)
class Buckets:
    """A histogram as read: cumulative counts at each upper bound (the last is +Inf, equal
    to `count`), the number of observations and their sum."""

    bounds: tuple[float, ...]
    cumulative: tuple[int, ...]
    count: int
    total: float


def bucketed(bounds: Sequence[float], per_bucket: Sequence[int], total: float) -> Buckets:
    """Buckets from per-bucket counts (len(bounds) + 1 of them, the last above every bound)."""
    running, cumulative = 0, []
    for n in per_bucket:
        running += n
        cumulative.append(running)
    return Buckets((*bounds, float("inf")), tuple(cumulative), running, total)


@dataclass(frozen=True)
class _Gauge:
    name: str
    doc: str
    label: str | None
    read: Callable[[], GaugeValue]


@dataclass(frozen=True)
class _Histogram:
    name: str
    doc: str
    read: Callable[[], Buckets]


class Metrics(Collector):
    """The registry `GET /metrics` exposes: this collector's series, the API process's
    `process_*` series and `notary_deposits_total`."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self._gauges: list[_Gauge] = []
        self._histograms: list[_Histogram] = []
        self.deposits = Counter(
            "notary_deposits",
            "Evidence created by deposits through this API process, by kind (file or hash); "
            "deposits of content already deposited are not counted.",
            ["kind"],
            registry=self.registry,
        )
        for kind in ("file", "hash"):
            self.deposits.labels(kind)  # both series exist from the start, at 0
        ProcessCollector(registry=self.registry)
        self.registry.register(self)

    def gauge(
        self, name: str, doc: str, read: Callable[[], GaugeValue], label: str | None = None
    ) -> None:
        """Register a gauge read at every scrape; `label` names the label of a reader that
        answers a mapping."""
        self._gauges.append(_Gauge(name, doc, label, read))

    def histogram(self, name: str, doc: str, read: Callable[[], Buckets]) -> None:
        """Register a histogram read at every scrape."""
        self._histograms.append(_Histogram(name, doc, read))

    def exposition(self) -> bytes:
        """Every series, in the text format of CONTENT_TYPE."""
        return generate_latest(self.registry)

    def collect(self) -> Iterator[Metric]:
        for g in self._gauges:
            try:
                value = g.read()
            except Exception:
                log.exception("metric %s could not be read", g.name)
                continue
            if isinstance(value, Mapping):
                family = GaugeMetricFamily(g.name, g.doc, labels=[g.label or "part"])
                for key, v in sorted(value.items()):
                    family.add_metric([key], v)
            else:
                family = GaugeMetricFamily(g.name, g.doc, value=value)
            yield family
        for h in self._histograms:
            try:
                b = h.read()
            except Exception:
                log.exception("metric %s could not be read", h.name)
                continue
            yield HistogramMetricFamily(
                h.name,
                h.doc,
                buckets=[
                    ("+Inf" if bound == float("inf") else repr(bound), n)
                    for bound, n in zip(b.bounds, b.cumulative, strict=True)
                ],
                sum_value=b.total,
            )


def lock_held(path: Path) -> bool:
    """Whether some process holds the exclusive lock on `path` (the anchoring lock file).

    Probed with a non-blocking shared lock, released at once: it fails exactly while an
    anchoring process (active, or standby behind another on the same database) holds the
    file. A probe that wins the race with a starting anchoring process delays that one by
    one of its polls (0.2 s), nothing more.
    """
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return False
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False
