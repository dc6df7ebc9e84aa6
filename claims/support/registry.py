"""The claim registry: the :class:`~claims.support.base.Claim` objects by id, running them, and
catching a check that errors.

Each claim module ``claims/<id>.py`` defines one ``CLAIM``; :data:`CLAIM_IDS` lists them in
report order. A missing module or a module without ``CLAIM`` is an error, never a silent gap.
"""
from __future__ import annotations

import importlib
import itertools
import pickle
import time
import traceback

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from .base import CheckConfig, Claim, ClaimResult, Verdict

EMC_CLAIMS = ("E1", "M1", "G1", "T1", "P1", "P2", "C1", "C2", "N1")
COMPANION_CLAIMS = ("EG1", "DL1", "DL2", "GL1", "LN1")
CLAIM_IDS = EMC_CLAIMS + COMPANION_CLAIMS
_CACHE: dict = {}
_RUN_NUMBERS = itertools.count()


class UnknownClaimError(ValueError):
    """A claim id that is not in the registry."""


def normalise_id(claim_id: str) -> str:
    """The registry's spelling of ``claim_id`` (case-insensitive; a repair id such as ``P1.r1``
    is accepted when that repair exists), or UnknownClaimError."""
    if not isinstance(claim_id, str):
        raise UnknownClaimError(f"claim id must be a string, one of {', '.join(CLAIM_IDS)}; "
                                f"got {claim_id!r}")
    parent, dot, rest = claim_id.strip().partition(".")
    cid = parent.upper()
    if cid not in CLAIM_IDS:
        raise UnknownClaimError(f"unknown claim id {claim_id!r}; known ids: {', '.join(CLAIM_IDS)}")
    if not dot:
        return cid
    rid = f"{cid}.{rest.lower()}"
    if rid not in repair_ids(cid):
        known = ", ".join(repair_ids(cid)) or "none"
        raise UnknownClaimError(f"unknown repair id {claim_id!r}; repairs of {cid}: {known}")
    return rid


def repair_ids(claim_id: str) -> tuple:
    """Ids of the repairs of a claim, in declaration order."""
    return tuple(r.id for r in get_claim(claim_id).repairs)


def get_claim(claim_id: str) -> Claim:
    """The :class:`Claim` of ``claim_id`` (case-insensitive), or of a repair ``<id>.r<n>``."""
    cid = normalise_id(claim_id)
    if "." in cid:
        parent = get_claim(cid.partition(".")[0])
        return next(r for r in parent.repairs if r.id == cid)
    if cid not in _CACHE:
        module = importlib.import_module(f"claims.{cid.lower()}")
        claim = module.CLAIM  # AttributeError here is a defect of the module: loud on purpose
        if not isinstance(claim, Claim) or claim.id != cid:
            raise TypeError(f"claims.{cid.lower()}.CLAIM must be the Claim with id {cid}")
        _CACHE[cid] = claim
    return _CACHE[cid]


def all_claims() -> tuple:
    """Every registered claim, in report order."""
    return tuple(get_claim(cid) for cid in CLAIM_IDS)


def all_repairs() -> tuple:
    """Every repair of every registered claim, in report order."""
    return tuple(r for c in all_claims() for r in c.repairs)


def available_claims() -> tuple:
    """Claim ids in report order (every registered claim: a missing one is an error)."""
    return CLAIM_IDS


def run_claim(claim_id: str, config: CheckConfig) -> ClaimResult:
    """Gather the evidence of one claim and apply its rule; an exception becomes ``error``."""
    claim = get_claim(claim_id)
    start = time.perf_counter()
    try:
        gathered, verdict = claim.run(config)
        error = None
    except Exception:  # a check that errors is reported, and the run exits non-zero
        gathered = None
        verdict = Verdict("undecided", "none", "the check raised an error", "not assessed")
        error = traceback.format_exc()
    return ClaimResult(claim=claim, verdict=verdict, gathered=gathered,
                       seconds=time.perf_counter() - start, error=error)


def _inputs_ready(claim: Claim, config: CheckConfig) -> bool:
    """Whether every worker result ``claim`` reads (derivations, background tasks) is in."""
    from .symbolic import derivations_ready, ready

    return (derivations_ready(claim.derivations)
            and all(ready(key) for key in claim.background_tasks(config)))


def _run_remote(ids, config: CheckConfig) -> list:
    """Run a family of claims (a claim and its repairs, which may share a gather) in the worker:
    per claim ``(verdict, gathered, seconds, error)``, or None where that cannot be sent back."""
    out = []
    with threadpool_limits(1):
        for cid in ids:
            r = run_claim(cid, config)
            parts = (r.verdict, r.gathered, r.seconds, r.error)
            try:
                pickle.dumps(parts)
            except Exception:  # e.g. facts of a class made inside a function: run it at home
                parts = None
            out.append(parts)
    return out


def _family_to_offload(families: list, order: list):
    """The last family (a claim and its repairs) still wholly to run, with more than it left,
    whose facts classes can be sent between processes; None if there is none."""
    for family in reversed(families):
        ids = [c.id for c in family]
        if len(order) <= len(ids) or not all(c in order for c in ids):
            continue
        try:
            pickle.dumps([(c.facts, c.reading_facts) for c in family])
        except Exception:
            continue
        return family
    return None


def run_claims(ids, config: CheckConfig, progress: bool = True, repairs: bool = True,
               expected: dict | None = None) -> list:
    """Run the claims ``ids`` (and, with ``repairs``, the repairs of each, right after it) and
    return their results in that order.

    Evidence that needs no run of the core (the sympy derivations a claim lists in
    ``derivations``, the tasks of its ``background_tasks(config)``) is computed in a worker
    process, started before the claims are imported and fed in the order the claims will ask for
    it. Here the claims run in turn, each time the first (claims reading no derivation first,
    then the registry's order) whose worker results are in, else the first; the worker, after
    the derivations, takes the last family (a claim and its repairs, which may share a gather)
    still to run, one family at a time. The two cores work side by side, each with one BLAS
    thread; a claim gives the same record wherever it ran, and the results come back in the
    order asked.

    ``progress`` shows a bar on stderr. Its ETA is only shown when ``expected`` gives the
    expected seconds of every claim to run (e.g. the durations recorded for them in the same
    mode, :func:`claims.support.store.expected_seconds`): the bar then advances by each claim's
    expected duration, so the remaining time is the expected work left at the measured pace.
    Otherwise it counts claims and shows the elapsed time only (claims differ in duration by
    two orders of magnitude: a count says nothing about the time left)."""
    from .symbolic import forget, prefetch, ready, result, start_worker, submit

    run_number = next(_RUN_NUMBERS)   # the worker's claim runs of this call, never of another

    def family_key(ids_):
        return ("claims", run_number, tuple(ids_))

    with threadpool_limits(1):
        start_worker()   # it imports the proofs layer while the claims are imported here
        claims, families = {}, []
        for cid in map(normalise_id, ids):
            claim = get_claim(cid)
            families.append([claim, *(claim.repairs if repairs and "." not in cid else ())])
            for c in families[-1]:
                claims[c.id] = c
                # the worker's queue in the order the claims will ask (derivations first)
                prefetch(c.derivations)
                for key, (fn, args) in c.background_tasks(config).items():
                    submit(key, fn, *args)
        weights = None
        if expected is not None and all(cid in expected for cid in claims):
            weights = {cid: max(float(expected[cid]), 0.0) for cid in claims}
            if sum(weights.values()) <= 0:
                weights = None
        order = sorted(claims, key=lambda cid: bool(claims[cid].derivations))
        results, remote = {}, []
        if weights is None:
            bar = tqdm(total=len(order), desc="claims", unit="claim", disable=not progress,
                       leave=False, bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} claims "
                                               "[{elapsed}, no ETA: durations unknown]{postfix}")
        else:
            bar = tqdm(total=sum(weights.values()), desc="claims", unit="s", disable=not progress,
                       leave=False, bar_format="{l_bar}{bar}| [{elapsed}<{remaining}]{postfix}")
        with bar:
            while order:
                busy = any(not ready(family_key(ids_)) for ids_ in remote)
                family = None if busy else _family_to_offload(families, order)
                if family is not None:   # queued behind the derivations: the last family
                    ids_ = [c.id for c in family]
                    submit(family_key(ids_), _run_remote, ids_, config, keep=False)
                    remote.append(ids_)
                    order = [c for c in order if c not in ids_]
                    continue
                # here: the first claim whose worker results are in, else the first
                cid = next((c for c in order if _inputs_ready(claims[c], config)), order[0])
                order.remove(cid)
                bar.set_postfix_str(cid)
                results[cid] = run_claim(cid, config)
                bar.update(1 if weights is None else weights[cid])
            for ids_ in remote:
                try:
                    done = result(family_key(ids_), _run_remote, ids_, config)
                except Exception:  # the worker could not run or return them: run them here
                    done = [None] * len(ids_)
                forget(family_key(ids_))
                for cid, parts in zip(ids_, done):
                    results[cid] = (run_claim(cid, config) if parts is None
                                    else ClaimResult(claims[cid], *parts))
                    bar.update(1 if weights is None else weights[cid])
    return [results[cid] for cid in claims]


REPLAY_SIZE_KEYS = {"steps": "steps", "max_steps": "steps", "time_points": "steps",
                    "d": "d", "K": "K", "samples": "samples", "n": "samples", "m": "samples"}
"""Integer fields of a replay record that size the work, and the cap
(:data:`emc_theory.replay.DEFAULT_LIMITS`) each is held to, wherever it appears in the record."""
MAX_RECORD_VALUES = 1_000_000
"""Most numbers, strings and containers a replay record may hold (a JSON bomb is refused)."""


def check_spd_matrix(path: str, value, eigenvalues=None) -> None:
    """A ``matrix`` field means a symmetric positive definite matrix (a spectrum's carrier): a
    square array of finite numbers, symmetric to rounding, with positive eigenvalues, and when
    the record also lists ``eigenvalues``, those eigenvalues."""
    import numbers

    import numpy as np

    shape_error = ValueError(f"{path} must be a square matrix: a list of n lists of n numbers")
    if not isinstance(value, list) or not value or not all(
            isinstance(row, list) and len(row) == len(value) for row in value):
        raise shape_error
    if not all(isinstance(v, numbers.Real) and not isinstance(v, bool)
               for row in value for v in row):
        raise TypeError(f"{path} must hold numbers only (no strings, booleans or objects)")
    arr = np.array(value, dtype=float)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{path} must hold finite numbers only")
    scale = float(np.abs(arr).max())
    if not np.allclose(arr, arr.T, rtol=0, atol=1e-12 * scale):
        asym = float(np.abs(arr - arr.T).max())
        raise ValueError(f"{path} must be symmetric (it stands for a spectrum); it is not: "
                         f"max |M - M^T| = {asym:.3g} against max |M| = {scale:.3g}")
    lam = np.linalg.eigvalsh(arr)
    if not lam[0] > 0:
        raise ValueError(f"{path} must be positive definite; its smallest eigenvalue is "
                         f"{lam[0]:.6g}")
    if eigenvalues is not None:
        stated = np.sort(np.array(eigenvalues, dtype=float))
        if stated.shape != lam.shape or not np.allclose(lam, stated, rtol=1e-8, atol=0):
            raise ValueError(f"{path} does not have the record's eigenvalues: the record was "
                             "altered or its fields disagree")


def check_replay_record(record, limits=None) -> dict:
    """Check a claim's replay record as data before any replay function sees it: a JSON object
    of plain JSON values (objects with string keys, lists, strings, finite numbers, booleans,
    null), at most :data:`MAX_RECORD_VALUES` values; every size field
    (:data:`REPLAY_SIZE_KEYS`) an integer within its cap (``limits``: as in
    :func:`emc_theory.replay.check_limits`, raised explicitly); every ``eigenvalues`` list
    finite, >= 0 and at most ``limits['d']`` long; every ``matrix`` symmetric positive
    definite (:func:`check_spd_matrix`).
    Returns ``record``; raises a ValueError/TypeError naming the field."""
    import math
    import numbers

    from emc_theory.replay import check_limits

    limits = check_limits(limits)
    if not isinstance(record, dict):
        raise TypeError(f"counterexample['replay'] must be a JSON object (dict), got "
                        f"{type(record).__name__}")
    count = 0
    stack = [("counterexample['replay']", record, None)]
    while stack:
        path, value, key = stack.pop()
        count += 1
        if count > MAX_RECORD_VALUES:
            raise ValueError(f"counterexample['replay'] holds more than {MAX_RECORD_VALUES} "
                             "values: refused")
        if isinstance(value, dict):
            for k, v in value.items():
                if not isinstance(k, str):
                    raise TypeError(f"{path} must have string keys, got {k!r}")
                stack.append((f"{path}[{k!r}]", v, k))
            if "matrix" in value:
                check_spd_matrix(f"{path}['matrix']", value["matrix"], value.get("eigenvalues"))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", v, None) for i, v in enumerate(value))
        elif isinstance(value, bool) or value is None or isinstance(value, str):
            pass
        elif isinstance(value, numbers.Real):
            if not math.isfinite(value):
                raise ValueError(f"{path} must be finite, got {value!r}")
        else:
            raise TypeError(f"{path} must be a JSON value (object, list, string, number, "
                            f"boolean or null), got {type(value).__name__}")
        if key in REPLAY_SIZE_KEYS and value is not None and not isinstance(value, (dict, list)):
            cap = REPLAY_SIZE_KEYS[key]
            if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                    or not 0 <= value <= limits[cap]):
                raise ValueError(f"{path} must be an integer in [0, {limits[cap]}] (cap "
                                 f"limits[{cap!r}]; raise it with limits=), got {value!r}")
        if key == "eigenvalues" and value is not None:
            if not isinstance(value, list) or not all(
                    isinstance(v, numbers.Real) and not isinstance(v, bool) and v >= 0
                    for v in value):
                raise ValueError(f"{path} must be a list of numbers >= 0 (a spectrum)")
            if len(value) > limits["d"]:
                raise ValueError(f"{path} holds {len(value)} eigenvalues, more than the cap "
                                 f"limits['d'] = {limits['d']} (raise it with limits=)")
    return record


def replay_counterexample(claim_id: str, counterexample: dict, limits=None) -> dict:
    """Rerun a counterexample from its JSON record and return the outcome it gives now.

    The record is checked first: ``counterexample`` is an object whose ``claim`` names
    ``claim_id`` (a record of another claim is refused) and whose ``replay`` passes
    :func:`check_replay_record` (caps ``limits``). A claim with a ``replay`` function replays
    its own records; otherwise the record is an optimizer run, replayed by
    :func:`emc_theory.replay.replay` after its schema check."""
    cid = normalise_id(claim_id)
    if not isinstance(counterexample, dict):
        raise TypeError(f"counterexample must be a JSON object (dict) with fields 'claim' and "
                        f"'replay', got {type(counterexample).__name__}")
    missing = [k for k in ("claim", "replay") if k not in counterexample]
    if missing:
        raise ValueError(f"counterexample lacks the field(s) {missing}")
    owner = counterexample["claim"]
    try:
        owner_id = normalise_id(owner)
    except UnknownClaimError:
        owner_id = None
    if owner_id != cid:
        raise ValueError(f"counterexample['claim'] = {owner!r}: this record belongs to another "
                         f"claim, not to {cid}; replay it as that claim")
    record = check_replay_record(counterexample["replay"], limits)
    claim = get_claim(cid)
    if claim.replay is not None:
        return claim.replay(record)
    from emc_theory.replay import replay

    return replay(record, limits=limits).summary()


def compare_outcomes(recorded: dict, replayed: dict, rtol: float = 1e-9) -> dict:
    """``{key: (recorded, replayed)}`` for the shared fields of two outcomes that differ (numbers
    beyond relative ``rtol``, anything else unequal; NaN equals NaN); a KeyError-free check that
    a replay reproduces its record is ``not compare_outcomes(...)`` plus a shared key."""
    import math

    def close(a, b):
        if isinstance(a, bool) or isinstance(b, bool):
            return a == b
        if isinstance(a, (int, float)) and isinstance(b, (int, float)):
            if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
                return True
            return math.isclose(a, b, rel_tol=rtol, abs_tol=1e-300)
        if isinstance(a, dict) and isinstance(b, dict):
            return all(close(a[k], b[k]) for k in a if k in b)
        if isinstance(a, list) and isinstance(b, list):
            return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b))
        return a == b

    return {k: (recorded[k], replayed[k]) for k in sorted(set(recorded) & set(replayed))
            if not close(recorded[k], replayed[k])}
