r"""Theorem 1's replayable counterexample records per reading, stored once and replayed on demand.

* root reading: a constant-step run locked in its period-2 cycle (:mod:`proofs.root_cycle`);
* power reading: a diminishing schedule fixed first, started beyond :math:`r^\star`
  (:mod:`proofs.power_divergence`);
* the statement's gap: linear EMC on a convex function without minimiser
  (:mod:`proofs.no_minimiser`);
* linear reading: constant steps above the certified range on a dead-zone Huber (stored with the
  brackets by :mod:`proofs.linear_brackets`).

:func:`replay_all` re-runs every stored record and says whether each reproduces its class.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from emc_theory.records import dumps, write_text

from . import linear_brackets, no_minimiser, power_divergence, root_cycle
from .lyapunov_certificate import DATA_DIR

RECORDS_FILE = DATA_DIR / "t1_counterexamples.json"


def build_records(path=RECORDS_FILE) -> dict:
    """Build and store the root, power and no-minimiser records."""
    records = {
        "root": root_cycle.cycle_counterexample(K=3, eta=0.1, lam=0.7),
        "power": power_divergence.divergence_counterexample(K=2, eta0=0.1, kind="inv_sqrt"),
        "no_minimiser": no_minimiser.counterexample(K=3, steps=5000),
    }
    write_text(path, dumps(records))
    return records


def load_records(path=RECORDS_FILE) -> dict:
    return json.loads(Path(path).read_text())


def replay_all(path=RECORDS_FILE) -> dict:
    """Replay every stored record (JSON-ready): per record its class now, the recorded one and
    whether they match, with the time taken."""
    started = time.perf_counter()
    records = load_records(path)
    out = {
        "root": root_cycle.replay_cycle_counterexample(records["root"]),
        "power": power_divergence.replay_divergence_counterexample(records["power"]),
        "no_minimiser": no_minimiser.replay_counterexample(records["no_minimiser"]),
    }
    brackets_path = linear_brackets.BRACKETS_FILE
    if brackets_path.exists():
        for item in linear_brackets.load_brackets()["cycles"]:
            if item["record"] is not None:
                key = f"linear_K{item['K']}_{item['weights']}"
                out[key] = linear_brackets.replay_counterexample(item["record"])
    out["seconds"] = round(time.perf_counter() - started, 2)
    out["all_match"] = all(v["matches"] for k, v in out.items() if isinstance(v, dict))
    return out


LAWS_FILE = DATA_DIR / "t1_laws.json"


def build_laws(path=LAWS_FILE) -> dict:
    """The measured laws behind the root, power and no-minimiser results (minutes; stored):
    root cycle closed form vs core, generic amplitude law, diminishing-step laws (1e5 steps);
    power r* constants per K and schedule, its scaling fit, local rates; no-minimiser laws."""
    started = time.perf_counter()
    laws = {
        "root_derivation": [root_cycle.derive_cycle(K) for K in (1, 2, 3)],
        "root_cycle_table": root_cycle.cycle_table(),
        "root_generic_law": root_cycle.generic_law(),
        "root_dense_gradients": root_cycle.dense_gradient_note(),
        "root_diminishing": [root_cycle.diminishing_law(K=2, kind=kind, steps=100_000)
                             for kind in ("inv_sqrt", "inv_t")],
        "power_derivation": power_divergence.derive_scaling(2),
        "power_constants": power_divergence.constants_table(),
        "power_scaling": [power_divergence.scaling_law(2, kind)
                          for kind in power_divergence.SCHEDULES],
        "power_local_rates": [power_divergence.local_rate(kind=kind)
                              for kind in power_divergence.SCHEDULES],
        "no_minimiser": no_minimiser.laws(),
    }
    laws["seconds"] = round(time.perf_counter() - started, 1)
    write_text(path, dumps(laws))
    return laws


def load_laws(path=LAWS_FILE) -> dict:
    return json.loads(Path(path).read_text())


def summary() -> dict:
    """Everything the T1 claim needs from the proofs layer, JSON-ready, from the stored files,
    with the certificates re-verified exactly on this call (a few seconds)."""
    from . import lyapunov_certificate

    return {
        "certificates": lyapunov_certificate.certificate_summary(),
        "rates": lyapunov_certificate.rate_summary(),
        "brackets": (linear_brackets.bracket_table()
                     if linear_brackets.BRACKETS_FILE.exists() else None),
        "laws": load_laws() if LAWS_FILE.exists() else None,
        "records": load_records() if RECORDS_FILE.exists() else None,
    }
