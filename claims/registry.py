"""The claim registry: which claims exist, running them, and catching a check that errors."""
from __future__ import annotations

import importlib
import time
import traceback

from threadpoolctl import threadpool_limits
from tqdm import tqdm

from .base import CheckConfig, ClaimResult, Findings, Verdict

EMC_CLAIMS = ("E1", "M1", "G1", "T1", "P1", "P2", "C1", "C2", "N1")
COMPANION_CLAIMS = ("EG1", "DL1", "DL2", "GL1", "LN1")
CLAIM_MODULES = {cid: f"claims.{cid.lower()}" for cid in EMC_CLAIMS + COMPANION_CLAIMS}


def available_claims() -> tuple:
    """Claim ids whose module is present, in report order."""
    found = []
    for cid, module in CLAIM_MODULES.items():
        if importlib.util.find_spec(module) is not None:
            found.append(cid)
    return tuple(found)


def claim_module(claim_id: str):
    """The module of a claim id (case-insensitive)."""
    cid = claim_id.upper()
    if cid not in CLAIM_MODULES:
        raise ValueError(f"claim id must be one of {sorted(CLAIM_MODULES)}, got {claim_id!r}")
    return importlib.import_module(CLAIM_MODULES[cid])


def run_claim(claim_id: str, config: CheckConfig) -> ClaimResult:
    """Gather the evidence of one claim and apply its rule; an exception becomes ``error``."""
    module = claim_module(claim_id)
    start = time.perf_counter()
    try:
        findings = module.gather(config)
        verdict = module.decide(findings)
        error = None
    except Exception:  # a check that errors is reported, and the run exits non-zero
        findings = Findings()
        verdict = Verdict("undecided", "none", "the check raised an error", "not assessed")
        error = traceback.format_exc()
    return ClaimResult(
        id=module.ID, title=module.TITLE, where=module.WHERE,
        source=getattr(module, "SOURCE", "000_3387dee144a58ac6.txt (EMC paper)"),
        statement_text=module.STATEMENT, proof_text=module.PROOF, verdict=verdict,
        findings=findings, seconds=time.perf_counter() - start, error=error)


def run_claims(ids, config: CheckConfig, progress: bool = True) -> list:
    """Run the claims ``ids`` and return their results in the order given.

    Evidence that needs no run of the core (the sympy derivations a claim lists in ``SYMBOLIC``,
    the tasks of its ``background_tasks(config)``) starts first in a worker process, and the
    claims that read no derivation run first here, so the two cores work side by side, each with
    one BLAS thread."""
    from .symbolic import prefetch, submit

    ids = list(ids)
    modules = {cid: claim_module(cid) for cid in ids}
    with threadpool_limits(1):
        for module in modules.values():
            for key, (fn, args) in getattr(module, "background_tasks",
                                           lambda _: {})(config).items():
                submit(key, fn, *args)
        prefetch(name for m in modules.values() for name in getattr(m, "SYMBOLIC", ()))
        order = sorted(ids, key=lambda cid: bool(getattr(modules[cid], "SYMBOLIC", ())))
        results = {}
        bar = tqdm(order, desc="claims", unit="claim", disable=not progress, leave=False)
        for cid in bar:
            bar.set_postfix_str(cid)
            results[cid] = run_claim(cid, config)
    return [results[cid] for cid in ids]


def replay_counterexample(claim_id: str, counterexample: dict) -> dict:
    """Rerun a counterexample from its JSON record and return the outcome it gives now.

    A claim module with a ``replay(replay_dict) -> dict`` function replays its own records;
    otherwise the record is an optimizer run (:func:`emc_theory.replay.run_spec`)."""
    module = claim_module(claim_id)
    own = getattr(module, "replay", None)
    if own is not None and own.__module__.startswith("claims."):
        return own(counterexample["replay"])
    from emc_theory.replay import replay

    return replay(counterexample["replay"]).summary()
