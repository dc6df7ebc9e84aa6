"""The claim registry: the :class:`~claims.support.base.Claim` objects by id, running them, and
catching a check that errors.

Each claim module ``claims/<id>.py`` defines one ``CLAIM``; :data:`CLAIM_IDS` lists them in
report order. A missing module or a module without ``CLAIM`` is an error, never a silent gap.
"""
from __future__ import annotations

import importlib
import time
import traceback

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from .base import CheckConfig, Claim, ClaimResult, Verdict

EMC_CLAIMS = ("E1", "M1", "G1", "T1", "P1", "P2", "C1", "C2", "N1")
COMPANION_CLAIMS = ("EG1", "DL1", "DL2", "GL1", "LN1")
CLAIM_IDS = EMC_CLAIMS + COMPANION_CLAIMS
_CACHE: dict = {}


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


def run_claims(ids, config: CheckConfig, progress: bool = True, repairs: bool = True) -> list:
    """Run the claims ``ids`` (and, with ``repairs``, the repairs of each, right after it) and
    return their results in that order.

    Evidence that needs no run of the core (the sympy derivations a claim lists in
    ``derivations``, the tasks of its ``background_tasks(config)``) starts first in a worker
    process, and the claims that read no derivation run first here, so the two cores work side
    by side, each with one BLAS thread."""
    from .symbolic import prefetch, submit

    claims = {}
    for cid in map(normalise_id, ids):
        claims[cid] = get_claim(cid)
        if repairs and "." not in cid:
            claims.update((r.id, r) for r in claims[cid].repairs)
    with threadpool_limits(1):
        for claim in claims.values():
            for key, (fn, args) in claim.background_tasks(config).items():
                submit(key, fn, *args)
        prefetch(name for c in claims.values() for name in c.derivations)
        order = sorted(claims, key=lambda cid: bool(claims[cid].derivations))
        results = {}
        bar = tqdm(order, desc="claims", unit="claim", disable=not progress, leave=False)
        for cid in bar:
            bar.set_postfix_str(cid)
            results[cid] = run_claim(cid, config)
    return [results[cid] for cid in claims]


def replay_counterexample(claim_id: str, counterexample: dict) -> dict:
    """Rerun a counterexample from its JSON record and return the outcome it gives now.

    A claim with a ``replay`` function replays its own records; otherwise the record is an
    optimizer run (:func:`emc_theory.replay.replay`)."""
    claim = get_claim(claim_id)
    if claim.replay is not None:
        return claim.replay(counterexample["replay"])
    from emc_theory.replay import replay

    return replay(counterexample["replay"]).summary()
