r"""Run stage: stability threshold of :math:`u = \eta\lambda` for EMC's linear reading, theory
against simulation.

Theory: :func:`proofs.linear_stability.stability_threshold` (spectral analysis of the companion
matrix of linear EMC with frozen weights). Simulation: EMC (reading ``"linear"``) on the quadratic
:math:`f(x) = \tfrac{\lambda}{2}\|x\|^2` in :math:`\mathbb{R}^d`, where the weights are frozen by
the start direction: from :math:`x_0 = e_1` every gradient is a multiple of :math:`e_1`, so
:math:`\tilde H_t = 0` and :math:`\alpha_k = 1/K`; from :math:`x_0 = (1,\dots,1)/\sqrt d` every
gradient has equal entries, so :math:`\tilde H_t = 1` and :math:`\alpha_k \propto e^{k/K}`.
A run with step :math:`\eta = u/\lambda` is *stable* if it neither diverged nor overflowed and
:math:`\max_{3T/4 \le t \le T} f(x_t) \le \max_{T/4 \le t < T/2} f(x_t)` (windows, not single
steps: an oscillating run can pass exactly through 0). The simulated threshold is bracketed on a
log grid of ``u`` and the bracket refined twice on linear grids between the last stable and the
first unstable value.
"""
from __future__ import annotations

import sys

import numpy as np

from emc_theory import cascade_weights
from emc_theory.outcomes import FAILED_STATUSES
from emc_theory.problems import quadratic
from emc_theory.sweep import sweep
from proofs.linear_stability import stability_threshold

from .common import run_main

NAME = "stability"
WEIGHT_SETTINGS = {"uniform": 0.0, "top_entropy": 1.0}
"""Name of a frozen weight setting -> the normalised entropy that produces it."""


def parameters(quick: bool, seed: int) -> dict:
    """K range, the problem (curvature, dimension), steps and the bracketing grids."""
    return {"K": list(range(1, 5 if quick else 9)), "curvature": 2.5, "d": 4,
            "steps": 500 if quick else 4000, "u_low": 0.1, "u_high": 100.0,
            "coarse_points": 25 if quick else 65, "refine_points": 9 if quick else 33,
            "refinements": 2, "entropy": "l2", "tau": 1.0, "seed": seed}


def start_points(d: int) -> np.ndarray:
    """One start point per weight setting (rows in the order of ``WEIGHT_SETTINGS``)."""
    e1 = np.eye(d)[0]
    return np.stack([e1, np.ones(d) / np.sqrt(d)])


def stable_runs(K: int, u: np.ndarray, p: dict) -> np.ndarray:
    """Stability of the runs with ``u[i, j]`` under weight setting ``i``: one batched sweep
    (:func:`emc_theory.sweep.sweep`, with histories) crosses every start point with the union of
    the settings' grids, and setting ``i`` reads the rows of its own grid."""
    problem = quadratic(p["d"], eigenvalues=[p["curvature"]] * p["d"], rotate=False,
                        x_star=[0.0] * p["d"], seed=p["seed"])
    values = np.unique(u)
    T = p["steps"]
    table = sweep([problem], [{"name": "emc", "K": K, "reading": "linear",
                               "entropy": p["entropy"], "tau": p["tau"]}],
                  values / p["curvature"], start_points=start_points(p["d"]), steps=T,
                  history=True, progress=False)      # rows: step size major, then start point
    gaps = table.histories["f_gap"]
    with np.errstate(invalid="ignore"):
        early = np.max(gaps[T // 4:T // 2], axis=0)
        late = np.max(gaps[3 * T // 4:], axis=0)
    failed = np.isin(table.column("status"), FAILED_STATUSES)
    stable = (~failed & (late <= early)).reshape(values.size, -1)
    return stable[np.searchsorted(values, u), np.arange(u.shape[0])[:, None]]


def bracket(u: np.ndarray, stable: np.ndarray):
    """``(last stable u before the first unstable one, first unstable u)`` and the number of
    stable/unstable switches along the grid (1 for an interval of stability)."""
    unstable = np.flatnonzero(~stable)
    switches = int(np.count_nonzero(np.diff(stable.astype(int))))
    if unstable.size == 0 or unstable[0] == 0:
        raise ValueError(f"the grid u in [{u[0]:g}, {u[-1]:g}] must start stable and end "
                         "unstable; widen u_low / u_high")
    return (float(u[unstable[0] - 1]), float(u[unstable[0]])), switches


def run(p: dict) -> dict:
    out = {}
    for K in p["K"]:
        coarse = np.geomspace(p["u_low"], p["u_high"], p["coarse_points"])
        stable = stable_runs(K, np.tile(coarse, (len(WEIGHT_SETTINGS), 1)), p)
        per_setting = {}
        for i, (name, ht) in enumerate(WEIGHT_SETTINGS.items()):
            alpha = cascade_weights(ht, K, p["tau"])
            (low, high), switches = bracket(coarse, stable[i])
            per_setting[name] = {"alpha": alpha, "ht": ht, "coarse_switches": switches,
                                 "theory": stability_threshold(K, alpha), "bracket": [low, high]}
        for _ in range(p["refinements"]):
            grids = np.array([np.linspace(*s["bracket"], p["refine_points"])
                              for s in per_setting.values()])
            stable = stable_runs(K, grids, p)
            for s, grid, row in zip(per_setting.values(), grids, stable, strict=True):
                s["bracket"] = list(bracket(grid, row)[0])
        for s in per_setting.values():
            low, high = s["bracket"]
            s["simulated"] = 0.5 * (low + high)
            s["relative_difference"] = (s["simulated"] - s["theory"]) / s["theory"]
            s["theory_in_bracket"] = bool(low <= s["theory"] <= high)
        out[str(K)] = per_setting
    return out


if __name__ == "__main__":
    raise SystemExit(run_main(sys.modules[__name__]))
