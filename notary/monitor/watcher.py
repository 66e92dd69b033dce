"""The watch index of the running service: the watched designs' fingerprints in memory.

Built from the database when the service starts, then kept up to date by `sync`, which
reads only what changed since its last call: fingerprint rows with a higher id (deposits
committed since, by this process or by another instance on the same database) and watch
lists changed since (an organization whose list changed is reloaded). The service calls it
after each committed fingerprinted deposit, after each watch-list change and before each
capture is matched, so a capture is never matched against a stale index in this process.

Limit: with several API instances on one PostgreSQL database, a fingerprint row whose
transaction commits after a row with a higher id was already read (concurrent deposits on
two instances) is seen only after a restart; on SQLite and in one process, commits are in
id order (one writer thread) and nothing is missed.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, sessionmaker

from notary.monitor import sketch, watch
from notary.monitor.fingerprint import MIN_QUALITY, PDQ_KINDS, Fingerprint, match_radius
from notary.monitor.index import WatchIndex
from notary.monitor.watch import WatchSettings
from notary.store.db import QUERY_CHUNK, transaction
from notary.store.models import Capture, DesignFingerprint, DesignSketch, Evidence, EvidenceTag

REBUILD_BATCH = 50_000
"""Rows fetched at a time while the index is rebuilt."""
MATCH_LIMIT = 100
"""Most designs one capture fingerprint is matched to (nearest first)."""
SPECTRUM_CANDIDATES = 4
"""Most designs a capture's `spectrum` vectors propose (nearest first): that kind is loose
(notary.monitor.spectrum), every proposal costs a second look, and a cropped copy's own
design is nearly always among the nearest."""
CERTAIN_DISTANCE = 0
"""A PDQ-kind candidate this close is a match without the second look. Measured on bench
seed 1: skipping the look at 16 or 24 bits gained no recall and let through more false
matches (near-flat unrelated designs come that close), so only an identical vector skips."""


@dataclass(frozen=True)
class Match:
    design_id: int
    """The design's evidence row id."""
    kind: str
    distance: int


_Row = tuple[int, int, int, str, bytes, int]
"""(fingerprint id, evidence id, organization id, kind, bits, quality)"""


def _rows() -> Select[int, int, int, str, bytes, int]:
    return (
        select(
            DesignFingerprint.id,
            DesignFingerprint.evidence_id,
            Evidence.organization_id,
            DesignFingerprint.kind,
            DesignFingerprint.bits,
            DesignFingerprint.quality,
        )
        .join(Evidence, Evidence.id == DesignFingerprint.evidence_id)
        .where(~DesignFingerprint.evidence_id.in_(select(Capture.evidence_id)))
        .order_by(DesignFingerprint.id)
    )


def _tags(session: Session, evidence_ids: Sequence[int]) -> dict[int, set[str]]:
    found: dict[int, set[str]] = defaultdict(set)
    for start in range(0, len(evidence_ids), QUERY_CHUNK):
        chunk = evidence_ids[start : start + QUERY_CHUNK]
        for evidence_id, tag in session.execute(
            select(EvidenceTag.evidence_id, EvidenceTag.tag).where(
                EvidenceTag.evidence_id.in_(chunk)
            )
        ):
            found[evidence_id].add(tag)
    return found


def _org_tags(session: Session, orgs: Sequence[int]) -> dict[int, set[str]]:
    """The tags of every piece of evidence of these organizations."""
    found: dict[int, set[str]] = defaultdict(set)
    rows = session.execute(
        select(EvidenceTag.evidence_id, EvidenceTag.tag)
        .join(Evidence, Evidence.id == EvidenceTag.evidence_id)
        .where(Evidence.organization_id.in_(list(orgs)))
    )
    for evidence_id, tag in rows:
        found[evidence_id].add(tag)
    return found


class Watcher:
    """A WatchIndex over the watched designs, and how to keep it current."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory
        self.index = WatchIndex()
        self._lock = threading.Lock()
        self._high = 0
        """The highest design_fingerprints.id read."""
        self._lists: dict[int, tuple[WatchSettings, datetime]] = {}
        self._synced = 0.0
        """time.monotonic() of the last sync."""

    def rebuild(self) -> int:
        """Build the index from the database; the number of designs watched.

        The rows are streamed (REBUILD_BATCH at a time) into one bulk load, so a million
        designs never sit in memory as Python rows: 1,000,000 designs on SQLite took 12 s
        and 480 MiB above the process's start (17 s and 800 MiB when they did)."""
        with self._lock, transaction(self.factory) as session:
            self.index = WatchIndex()
            self._high = 0
            self._lists = watch.all_lists(session)
            by_tags = [org for org, (s, _) in self._lists.items() if s.mode != "all"]
            tags = _org_tags(session, by_tags) if by_tags else {}

            def watched() -> Iterator[tuple[int, str, bytes]]:
                result = session.execute(_rows(), execution_options={"yield_per": REBUILD_BATCH})
                for fid, key, org, kind, bits, quality in result:
                    self._high = max(self._high, fid)
                    if quality >= MIN_QUALITY and self._settings(org).watches(
                        tags.get(key, frozenset())
                    ):
                        yield key, kind, bits

            self.index.load(watched())
            return len(self.index)

    def sync(self, max_age: float = 0.0) -> None:
        """Read what changed since the last call (new fingerprints, changed watch lists);
        with `max_age`, only if the last read is older than that many seconds."""
        if max_age and time.monotonic() - self._synced < max_age:
            return
        with self._lock, transaction(self.factory) as session:
            self._synced = time.monotonic()
            lists = watch.all_lists(session)
            changed = [
                org
                for org, (_, at) in lists.items()
                if org not in self._lists or self._lists[org][1] != at
            ]
            self._lists = lists
            high = self._high
            for org in changed:
                self._reload(session, org, high)
            new = session.execute(_rows().where(DesignFingerprint.id > high))
            self._read(session, list(new))

    def _settings(self, org: int) -> WatchSettings:
        entry = self._lists.get(org)
        return entry[0] if entry is not None else watch.DEFAULT

    def _read(self, session: Session, rows: Sequence[_Row]) -> None:
        """Add the watched designs among `rows` to the index."""
        if not rows:
            return
        self._high = max(self._high, max(r[0] for r in rows))
        by_tags = [r[1] for r in rows if self._settings(r[2]).mode != "all"]
        tags = _tags(session, sorted(set(by_tags))) if by_tags else {}
        kept = [
            r
            for r in rows
            if r[5] >= MIN_QUALITY and self._settings(r[2]).watches(tags.get(r[1], set()))
        ]
        grouped: dict[tuple[int, str], list[bytes]] = defaultdict(list)
        for r in kept:
            grouped[(r[1], r[3])].append(r[4])
        for (key, kind), vectors in grouped.items():
            self.index.add(key, kind, vectors)

    def _reload(self, session: Session, org: int, high: int) -> None:
        """Remove the organization's designs, then add back those its list watches."""
        rows = list(
            session.execute(
                _rows().where(Evidence.organization_id == org, DesignFingerprint.id <= high)
            )
        )
        for key in {r[1] for r in rows}:
            self.index.remove(key)
        self._read(session, rows)

    def candidates(self, fingerprints: Sequence[Fingerprint]) -> dict[int, list[Match]]:
        """The watched designs near any of `fingerprints` (same kind, both of quality >=
        MIN_QUALITY): PDQ kinds within their radius, the SPECTRUM_CANDIDATES nearest
        spectrum vectors within theirs; per design its best match of each kind."""
        by_kind: dict[str, list[bytes]] = defaultdict(list)
        for f in fingerprints:
            if f.quality >= MIN_QUALITY:
                by_kind[f.kind].append(f.bits)
        found: dict[int, dict[str, Match]] = defaultdict(dict)
        for kind, vectors in by_kind.items():
            limit = MATCH_LIMIT if kind in PDQ_KINDS else SPECTRUM_CANDIDATES
            for key, distance in self.index.query(kind, vectors, match_radius(kind), limit):
                known = found[key].get(kind)
                if known is None or distance < known.distance:
                    found[key][kind] = Match(key, kind, distance)
        return {key: list(kinds.values()) for key, kinds in found.items()}

    def sketches(self, design_ids: Sequence[int]) -> dict[int, bytes]:
        """The stored sketches of these designs (a design fingerprinted by a client, or
        before sketches existed, has none)."""
        found: dict[int, bytes] = {}
        with self.factory() as session:
            for start in range(0, len(design_ids), QUERY_CHUNK):
                chunk = list(design_ids[start : start + QUERY_CHUNK])
                rows = session.execute(
                    select(DesignSketch.evidence_id, DesignSketch.sketch).where(
                        DesignSketch.evidence_id.in_(chunk)
                    )
                )
                found.update({key: bytes(data) for key, data in rows})
        return found

    def unsure(self, found: dict[int, list[Match]]) -> list[int]:
        """The candidates that need the second look: no PDQ kind within CERTAIN_DISTANCE."""
        return sorted(
            key
            for key, matches in found.items()
            if not any(m.kind in PDQ_KINDS and m.distance <= CERTAIN_DISTANCE for m in matches)
        )

    def decide(self, found: dict[int, list[Match]], alike: dict[int, float]) -> list[Match]:
        """The matches among the candidates, each once at its smallest distance, given the
        similarity of the unsure ones that have a sketch (`alike`, by design).

        A candidate is a match when a PDQ kind is within CERTAIN_DISTANCE, or when its
        sketch and the capture's probe are at least sketch.THRESHOLD alike. A design
        without a sketch (client fingerprints, or fingerprinted before sketches) keeps the
        rule of vectors alone: a PDQ kind within its radius."""
        unsure = set(self.unsure(found))
        best: list[Match] = []
        for key, matches in found.items():
            pdq = [m for m in matches if m.kind in PDQ_KINDS]
            if key in unsure:
                if key in alike:
                    if alike[key] < sketch.THRESHOLD:
                        continue
                elif not pdq:
                    continue  # a spectrum proposal nothing can confirm
            best.append(min(pdq or matches, key=lambda m: (m.distance, m.kind)))
        return sorted(best, key=lambda m: (m.distance, m.design_id))

    def match(
        self, fingerprints: Sequence[Fingerprint], probe: sketch.Probe | None = None
    ) -> list[Match]:
        """`candidates`, the second look at the unsure ones with `probe` (none without
        it), and `decide`, in this thread (the service runs the second look in its worker
        processes instead)."""
        found = self.candidates(fingerprints)
        unsure = self.unsure(found)
        alike: dict[int, float] = {}
        if unsure and probe is not None:
            alike = similar(probe, self.sketches(unsure))
        return self.decide(found, alike)


def similar(probe: sketch.Probe, sketches: dict[int, bytes]) -> dict[int, float]:
    """sketch.similarities by design (a function of plain data: it runs in a worker)."""
    keys = sorted(sketches)
    return dict(zip(keys, sketch.similarities(probe, [sketches[k] for k in keys]), strict=True))
