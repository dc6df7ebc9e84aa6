"""The claims record on disk (``results/claims.json``, rendered to ``claims.md`` and
``claims.tex``): reading it, merging a run into it, and knowing whether it is complete.

**Merging.** A run of some claims (``emc-theory check --claim T1``, or ``--quick``) never
destroys the rest of the record: :func:`merge` replaces exactly the claims (and repairs) the run
produced and keeps every other entry as it was. Each entry is stamped with how it was produced:

* ``provenance.produced[id] = {"quick": bool, "seed": int}`` (deterministic: it is part of the
  report, so ``check --claim T1`` followed by ``check`` gives the same bytes as ``check`` alone);
* ``run.produced_at[id]``: the time stamp of the run that produced it (in the ``run`` field,
  with the durations: the only part of the record that differs between identical runs).

A record is **complete** (``provenance.complete``) when every registered claim and repair is in
it, none was produced by a quick run, and all were produced with one seed; ``provenance.missing``
lists the registered ids it lacks. Entries whose id is no longer registered are dropped. The
record's ``config`` describes the whole record: ``quick`` is true if any entry is quick, ``seed``
is the common seed (``None`` when the entries were produced with different seeds). A record
written before stamps existed is read as produced entirely by the run its ``config`` names.

**Concurrency.** Read-merge-write happens under an exclusive ``fcntl.flock`` on the results
directory (:func:`record_lock`), so two concurrent runs never lose each
other's claims; the three files are written as one set by
:func:`emc_theory.records.write_files` (all temporaries, then ``os.replace``, the JSON last), so
a reader never sees an empty or partial file. A reader that takes the shared lock
(:func:`load_record`) also never sees the JSON and its renderings from different runs.
"""
from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

try:  # POSIX; elsewhere concurrent runs are not serialised (each file is still atomic)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

RECORD_NAME = "claims.json"
LOCK_NAME = ".claims.lock"


class RecordError(ValueError):
    """A file where the claims record should be that is not one (not JSON, or not the shape
    ``emc-theory check`` writes)."""


@contextlib.contextmanager
def record_lock(results_dir, shared: bool = False):
    """Hold the record's lock (exclusive, or ``shared`` for readers) for the ``with`` block.

    The lock is an ``flock`` on the results directory itself, so no lock file is left behind
    (a file system that cannot lock a directory gets ``<results_dir>/.claims.lock`` instead,
    created once and never removed: removing it would let two writers lock two different
    files). A writer creates the directory; a reader never creates anything and, where there is
    no directory, has nothing to lock (nor to read)."""
    results_dir = Path(results_dir)
    if fcntl is None:
        yield
        return
    if not shared:
        results_dir.mkdir(parents=True, exist_ok=True)
    elif not results_dir.is_dir():
        yield
        return
    fd = os.open(results_dir, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        except OSError:   # no flock on directories here: a lock file
            os.close(fd)
            fd = os.open(results_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o666)
            fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _check_record(doc, path) -> dict:
    """``doc`` if it has the shape of a claims record, else a RecordError naming ``path``."""
    def bad(what):
        return RecordError(f"{path} is not a claims record written by `emc-theory check` "
                           f"({what}); move it away (or pass another --results-dir) and rerun")

    if not isinstance(doc, dict):
        raise bad(f"the JSON is a {type(doc).__name__}, not an object")
    for section in ("claims", "config"):
        if not isinstance(doc.get(section), dict):
            raise bad(f"no {section!r} object")
    for section in ("repairs", "run", "provenance"):
        if section in doc and not isinstance(doc[section], dict):
            raise bad(f"{section!r} is not an object")
    config = doc["config"]
    if not isinstance(config.get("quick"), bool):
        raise bad("config.quick is not a boolean")
    seed = config.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise bad("config.seed is not an integer")
    for section in ("claims", "repairs"):
        for cid, entry in doc.get(section, {}).items():
            if not isinstance(entry, dict) or entry.get("id") != cid:
                raise bad(f"entry {cid!r} of {section!r} is not a claim record of that id")
    produced = doc.get("provenance", {}).get("produced", {})
    if not isinstance(produced, dict) or not all(_is_stamp(s) for s in produced.values()):
        raise bad("provenance.produced holds something other than {quick, seed} stamps")
    return doc


def _is_stamp(stamp) -> bool:
    return (isinstance(stamp, dict) and set(stamp) == {"quick", "seed"}
            and isinstance(stamp["quick"], bool) and isinstance(stamp["seed"], int)
            and not isinstance(stamp["seed"], bool))


def read_record(path) -> dict | None:
    """The claims record at ``path`` (a ``claims.json``), ``None`` if there is no such file, or
    a RecordError if the file is not a claims record."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        doc = json.loads(text)
    except ValueError as err:
        raise RecordError(f"{path} is not valid JSON ({err}); move it away (or pass another "
                          "--results-dir) and rerun") from None
    return _check_record(doc, path)


def load_record(results_dir) -> dict | None:
    """``<results_dir>/claims.json`` read under the shared lock (:func:`read_record`)."""
    with record_lock(results_dir, shared=True):
        return read_record(Path(results_dir) / RECORD_NAME)


def registered_ids() -> tuple:
    """Ids of every registered claim and of its repairs, in report order."""
    from .registry import CLAIM_IDS, get_claim

    ids = []
    for cid in CLAIM_IDS:
        ids += [cid, *(r.id for r in get_claim(cid).repairs)]
    return tuple(ids)


def stamps(doc: dict) -> dict:
    """``id -> {"quick", "seed"}`` for every entry of a record; a record without stamps (written
    before they existed) was produced entirely by the run its ``config`` names."""
    produced = doc.get("provenance", {}).get("produced")
    if produced is not None:
        return dict(produced)
    stamp = {"quick": doc["config"]["quick"], "seed": doc["config"]["seed"]}
    return {cid: dict(stamp) for section in ("claims", "repairs")
            for cid in doc.get(section, {})}


def _dates(doc: dict) -> dict:
    run = doc.get("run", {})
    dates = run.get("produced_at")
    if isinstance(dates, dict):
        return dict(dates)
    return {cid: run.get("generated_at") for section in ("claims", "repairs")
            for cid in doc.get(section, {})}


def merge(old: dict | None, new: dict, registered=None) -> dict:
    """The record ``old`` with the entries of the run ``new`` (a
    :func:`~claims.support.report.claims_document`, as plain JSON) put in: every entry of ``new``
    replaces the one of that id and is stamped with ``new``'s config and time; the entries of
    ``old`` that ``new`` did not produce are kept with their stamps, durations and measurements;
    ids not in ``registered`` (default: :func:`registered_ids`) are dropped. ``old`` may be
    ``None`` (no record yet)."""
    registered = tuple(registered_ids() if registered is None else registered)
    known = set(registered)
    cfg = new["config"]
    new_stamp = {"quick": cfg["quick"], "seed": cfg["seed"]}
    new_run = new.get("run", {})
    sections = {"claims": {}, "repairs": {}}
    produced, dates, seconds, measurements = {}, {}, {}, {}
    sources = [] if old is None else [(old, stamps(old), _dates(old))]
    new_ids = [cid for section in sections for cid in new.get(section, {})]
    sources.append((new, dict.fromkeys(new_ids, new_stamp),
                    dict.fromkeys(new_ids, new_run.get("generated_at"))))
    for doc, doc_stamps, doc_dates in sources:   # old first: new entries overwrite
        run = doc.get("run", {})
        for section, entries in sections.items():
            for cid, entry in doc.get(section, {}).items():
                if cid not in known:
                    continue
                entries[cid] = entry
                produced[cid] = dict(doc_stamps.get(cid, {"quick": doc["config"]["quick"],
                                                          "seed": doc["config"]["seed"]}))
                dates[cid] = doc_dates.get(cid)
                seconds.pop(cid, None)
                measurements.pop(cid, None)
                if cid in run.get("seconds", {}):
                    seconds[cid] = run["seconds"][cid]
                if cid in run.get("measurements", {}):
                    measurements[cid] = run["measurements"][cid]
    summary = provenance(produced, registered)
    seeds = {s["seed"] for s in produced.values()}
    merged = {key: value for key, value in new.items()
              if key not in ("claims", "repairs", "config", "run", "provenance")}
    merged.update(
        config={"quick": any(s["quick"] for s in produced.values()),
                "seed": seeds.pop() if len(seeds) == 1 else None},
        claims=sections["claims"], repairs=sections["repairs"], provenance=summary,
        run={**{k: v for k, v in new_run.items() if k not in ("seconds", "measurements")},
             "seconds": seconds, "measurements": measurements, "produced_at": dates})
    return merged


def provenance(produced: dict, registered) -> dict:
    """The record's ``provenance`` field: the stamps, the registered ids it lacks, and whether
    it is complete (all registered ids, none quick, one seed)."""
    missing = [cid for cid in registered if cid not in produced]
    seeds = {s["seed"] for s in produced.values()}
    complete = (not missing and not any(s["quick"] for s in produced.values())
                and len(seeds) == 1)
    return {"produced": produced, "missing": missing, "complete": complete}


@dataclass(frozen=True)
class RecordStatus:
    """What a record holds, for a consumer that needs a complete one (``emc-theory paper``)."""

    complete: bool
    missing: tuple
    quick: tuple
    seeds: tuple

    def problems(self, quick_ok: bool = False) -> list:
        """Why the record is not fit for a full build (``quick_ok``: for a quick build, quick
        entries are fine), one phrase each; empty if it is."""
        out = []
        if self.missing:
            out.append(f"it lacks {len(self.missing)} registered claim(s): "
                       f"{', '.join(self.missing)}")
        if self.quick and not quick_ok:
            out.append(f"{', '.join(self.quick)} came from a quick run (--quick)")
        if len(self.seeds) > 1:
            out.append(f"its claims come from different seeds ({', '.join(map(str, self.seeds))})")
        return out


def record_status(doc: dict, registered=None) -> RecordStatus:
    """The :class:`RecordStatus` of a record against the registry as it is now."""
    registered = tuple(registered_ids() if registered is None else registered)
    produced = {cid: s for cid, s in stamps(doc).items() if cid in set(registered)}
    summary = provenance(produced, registered)
    quick = tuple(cid for cid in registered if produced.get(cid, {}).get("quick"))
    return RecordStatus(summary["complete"], tuple(summary["missing"]), quick,
                        tuple(sorted({s["seed"] for s in produced.values()})))


def expected_seconds(doc: dict | None, quick: bool) -> dict:
    """Seconds each entry of the record took when it was last produced, for the entries produced
    in the mode ``quick`` (durations of the other mode say nothing about this one): the weights
    of an honest progress bar (:func:`claims.support.registry.run_claims`)."""
    if doc is None:
        return {}
    doc_stamps, seconds = stamps(doc), doc.get("run", {}).get("seconds", {})
    return {cid: float(value) for cid, value in seconds.items()
            if doc_stamps.get(cid, {}).get("quick") is quick and not isinstance(value, bool)
            and isinstance(value, (int, float)) and value >= 0}
