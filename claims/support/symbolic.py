"""Symbolic evidence for the claim checks (the derivations of ``proofs/`` read as data), and the
worker process that computes slow, independent evidence beside the numerical checks.

Derivations are pure sympy and independent of the numerical checks, so :func:`prefetch` starts
them in one worker process while the numerical checks run in this one (the machine has two
cores); :func:`derivation_result` waits for a prefetched result or computes it in process. Any
claim can do the same with :func:`submit` / :func:`result` for a module-level function.
"""
from __future__ import annotations

import atexit
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from emc_theory.records import worker_context

from .base import Evidence

_RESULTS: dict = {}
_POOL: list = []


def _derive_json(name: str) -> dict:
    import proofs

    return proofs.DERIVATIONS[name]().to_json()


def _shutdown() -> None:
    for pool in _POOL:
        pool.shutdown(cancel_futures=True)
    _POOL.clear()


def _warm_up() -> None:
    """Import the proofs layer (sympy, cvxpy, ...) in the worker, before its first task."""
    import proofs  # noqa: F401


def start_worker() -> None:
    """Start the worker process now (once), so that it imports the proofs layer while this
    process imports the claims: the worker is a fork of this process as it is at this call."""
    if not _POOL:
        _POOL.append(ProcessPoolExecutor(max_workers=1, mp_context=worker_context()))
        atexit.register(_shutdown)
        _POOL[0].submit(_warm_up)


def _run_and_keep(key, keep: bool, fn, *args):
    """In the worker: ``fn(*args)``, with ``keep`` also kept there under ``key``, so that a
    claim the worker runs later (:func:`claims.support.registry.run_claims` hands it whole
    families) reads it instead of computing it again."""
    value = fn(*args)
    if keep:
        _RESULTS[key] = value
    return value


def submit(key, fn, *args, keep: bool = True) -> None:
    """Start ``fn(*args)`` (a module-level function) in the worker process, once per ``key``;
    the worker runs its tasks in the order they were submitted. ``keep``: the result stays here
    (and in the worker) for every later :func:`result` of ``key`` in this process; else
    :func:`forget` it once read."""
    if key in _RESULTS:
        return
    start_worker()
    _RESULTS[key] = _POOL[0].submit(_run_and_keep, key, keep, fn, *args)


def forget(key) -> None:
    """Drop what is held under ``key`` (a result read once, e.g. a claim family's run)."""
    _RESULTS.pop(key, None)


def ready(key) -> bool:
    """Whether the result under ``key`` can be had without waiting (computed, or never
    submitted: then it is computed in process when asked for)."""
    entry = _RESULTS.get(key)
    return not isinstance(entry, Future) or entry.done()


def derivations_ready(names) -> bool:
    """Whether the derivations ``names`` can be had without waiting (see :func:`ready`)."""
    return all(ready(("derivation", name)) for name in names)


def result(key, fn, *args):
    """The result of a submitted ``fn(*args)`` (waiting for it), or of ``fn(*args)`` run now."""
    entry = _RESULTS.get(key)
    if isinstance(entry, Future):
        entry = entry.result()
    elif key not in _RESULTS:
        entry = fn(*args)
    _RESULTS[key] = entry
    return entry


def prefetch(names) -> None:
    """Start the derivations ``names`` (not yet computed) in the worker process."""
    for name in dict.fromkeys(names):
        submit(("derivation", name), _derive_json, name)


@dataclass(frozen=True)
class SymbolicResult:
    """A derivation's conclusions; ``value(key)`` is ``None`` unless sympy proved or computed it."""

    name: str
    derivation: dict

    def value(self, key: str):
        item = self.derivation["results"][key]
        return item["value"] if item["status"] in ("proved", "computed") else None

    def values(self, keys) -> dict:
        """``{key: value(key)}`` for ``keys``."""
        return {key: self.value(key) for key in keys}

    def status(self, key: str) -> str:
        return self.derivation["results"][key]["status"]

    @property
    def evidence(self) -> Evidence:
        results = self.derivation["results"]
        undecided = [k for k, item in results.items() if item["status"] == "undecided"]
        summary = (f"proofs.{self.name}: {self.derivation['title']}; "
                   f"{len(results) - len(undecided)} of {len(results)} results proved/computed"
                   + (f", undecided: {', '.join(undecided)}" if undecided else ""))
        data = {k: {"value": item["value"], "status": item["status"]}
                for k, item in sorted(results.items())}
        return Evidence("symbolic", f"sympy: {self.name}", summary, data)


def established_text(decisions: dict) -> str:
    """How many of a derivation's results sympy established, naming those it did not."""
    missing = [key for key, value in decisions.items() if value is not True]
    text = f"{len(decisions) - len(missing)} of {len(decisions)} results proved"
    return text + (f"; not established: {', '.join(missing)}" if missing else "")


def derivation_result(name: str) -> SymbolicResult:
    """The derivation ``name`` of ``proofs.DERIVATIONS`` (prefetched, cached, or computed now)."""
    return SymbolicResult(name, result(("derivation", name), _derive_json, name))
