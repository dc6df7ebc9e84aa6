r"""Brackets from above for the certified steps of linear EMC, and a replayable 1-d counterexample.

Three numbers per K (:math:`L = 1`, so every step is :math:`\eta L`):

* :math:`\eta_{cert} \le \eta_{const}` from :mod:`proofs.lyapunov_certificate` (proofs: every step
  sequence in :math:`[0, \eta_{cert}]`; every constant step up to :math:`\eta_{const}`; every
  weight sequence in the polytope);
* :math:`\eta_{PEP}`: the largest step at which PEPit's exact worst case
  :math:`w(N) = \max f(x_N) - f_\star` (:math:`\|x_0 - x^\star\| \le 1`, :math:`f` convex
  1-smooth) of linear EMC with *frozen* weights (uniform, the :math:`\tilde H \to 0` limit, and the
  :math:`\tilde H = 1` weights) still decreases over the horizon :math:`N = 1..12`:
  ``"horizon"``: :math:`w(12) < \min_{N \le 6} w(N)` (the worst case after 12 steps is below the
  best of the first six: a worst case that oscillates or grows over the horizon is not decreasing);
  ``"monotone"``: :math:`w(N+1) < w(N)` for every :math:`N < 12` (the literal reading; the early
  steps from :math:`m_0 = 0` are short, so :math:`w` bumps at :math:`N = 2` long before the method
  stops converging: this number lies *below* the certified :math:`\eta_{const}` and is reported
  only to show that a non-monotone worst case is not divergence);
* :math:`u^\star` (:mod:`proofs.linear_stability`): the exact quadratic threshold.

Neither :math:`\eta_{PEP}` is a theorem about all :math:`N` (a worst case may decrease after the
horizon); the upper bracket that is a theorem is a counterexample: a convex 1-smooth function on
which constant-step linear EMC does not converge. :func:`dead_zone_huber` builds one family,
:math:`\rho'(t) = \varepsilon t` on :math:`|t| \le a`, slope 1 up to :math:`|t| = a + w`, constant
beyond (curvatures :math:`\varepsilon, 1, 0`: convex, :math:`L = 1`, unique minimiser 0 for
:math:`\varepsilon > 0`), on which the iterates lock into a cycle (period 4 for K = 1 near
:math:`\eta = 5`: two points on the flat parts, two in the soft zone). Embedded in ``d = 2`` with
the second coordinate at its minimum the gradient is 1-sparse, so :math:`\tilde H = 0` and the core
runs EMC with exactly the uniform weights; with both coordinates equal
:math:`|g_1| = |g_2|`, :math:`\tilde H = 1` (the other frozen weights).

Counterexample records are replayable (:func:`replay_counterexample`) and carry their class,
computed from the run by the toolkit's classifier (:func:`classify_run`). The problem is built
here (it is not among ``emc_theory.problems``' factories yet: it should move there with a replay
spec name).
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Optional

import numpy as np

from emc_theory import EMC, cascade_weights, minimize
from emc_theory.outcomes import classify_runs
from emc_theory.problems import ScalarProfile, SeparableProblem
from emc_theory.records import dumps, write_text
from emc_theory.validation import check_choice, check_int, check_positive

from .lyapunov_certificate import DATA_DIR, as_fraction, load_certificates

BRACKETS_FILE = DATA_DIR / "linear_brackets.json"
WEIGHTS = ("uniform", "top")
CRITERIA = ("horizon", "monotone")
N_MAX = 12
DEFAULT_STARTS = tuple(np.linspace(0.5, 40.0, 200))


def frozen_weights(K: int, which: str, tau: float = 1.0) -> np.ndarray:
    """``"uniform"`` (1/K, the Ht -> 0 limit) or ``"top"`` (Ht = 1) weights of the core."""
    check_choice("weights", which, WEIGHTS)
    return cascade_weights(0.0 if which == "uniform" else 1.0, K, tau)


# ----------------------------------------------------------------------------- PEP bracket

def pep_worst_cases(K: int, eta: float, which: str = "uniform", n_max: int = N_MAX) -> list:
    """PEPit's worst case :math:`w(N)`, N = 1..n_max (None where PEPit is unavailable)."""
    from .pep_emc import pepit_status, worst_case

    if not pepit_status()[0]:
        return [None] * n_max
    alpha = frozen_weights(K, which)
    return [worst_case("emc", N, eta, K=K, weights=alpha).value for N in range(1, n_max + 1)]


def decreases(values, criterion: str = "horizon") -> bool:
    """Whether a worst-case sequence ``w(1..N)`` decreases (see the module docstring)."""
    check_choice("criterion", criterion, CRITERIA)
    w = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(w)):
        return False
    if criterion == "monotone":
        return bool(np.all(np.diff(w) < 0))
    return bool(w[-1] < w[: len(w) // 2].min())


def pep_threshold(K: int, which: str = "uniform", criterion: str = "horizon", lo: float = 0.5,
                  hi: Optional[float] = None, iters: int = 8,
                  curves: Optional[dict] = None) -> dict:
    r"""Bisection on :math:`\eta` for the largest step whose worst case still decreases (``lo``
    must decrease; ``hi`` defaults to :math:`u^\star` of these weights). ``curves`` (a dict
    ``eta -> w(1..N)``) is a cache shared between calls with the same K and weights."""
    from .linear_stability import stability_threshold

    alpha = frozen_weights(K, which)
    u_star = stability_threshold(K, alpha)
    hi = u_star if hi is None else hi
    curves = {} if curves is None else curves

    def worst(eta):
        if eta not in curves:
            curves[eta] = pep_worst_cases(K, eta, which)
        return curves[eta]

    if not decreases(worst(lo), criterion):
        return {"K": K, "weights": which, "criterion": criterion, "eta_pep": None,
                "bracket": [lo, hi], "u_star": u_star, "curves": {}}
    for _ in range(iters):
        mid = (lo + hi) / 2
        if decreases(worst(mid), criterion):
            lo = mid
        else:
            hi = mid
    return {"K": K, "weights": which, "criterion": criterion, "eta_pep": lo, "bracket": [lo, hi],
            "u_star": u_star,
            "curves": {f"{e:.6g}": [round(v, 8) for v in w] for e, w in sorted(curves.items())}}


# ----------------------------------------------------------------------------- counterexample

def dead_zone_profile(a: float, w: float, eps: float) -> ScalarProfile:
    r""":math:`\rho'(t) = \varepsilon t` (:math:`|t| \le a`), :math:`\operatorname{sign}(t)
    (\varepsilon a + |t| - a)` (:math:`a < |t| \le a + w`), :math:`\pm(\varepsilon a + w)`
    beyond; :math:`\rho(0) = 0 = \min\rho`, :math:`\rho'' \in \{\varepsilon, 1, 0\}`."""
    top = eps * a + w

    def d1(t):
        s, r = np.sign(t), np.abs(t)
        return s * np.where(r <= a, eps * r, np.minimum(eps * a + (r - a), top))

    def rho(t):
        r = np.abs(t)
        inner = 0.5 * eps * np.minimum(r, a) ** 2
        mid = np.clip(r - a, 0.0, w)
        ramp = eps * a * mid + 0.5 * mid**2
        flat = top * np.maximum(r - a - w, 0.0)
        return inner + ramp + flat

    def d2(t):
        r = np.abs(t)
        return np.where(r <= a, eps, np.where(r <= a + w, 1.0, 0.0))

    return ScalarProfile(rho, d1, d2, 1.0, 0.0)


def dead_zone_huber(a: float = 0.5, w: float = 1.0, eps: float = 1e-2, d: int = 2,
                    scale: float = 1.0) -> SeparableProblem:
    r""":math:`f(x) = s \sum_i \rho(x_i)` with the profile of :func:`dead_zone_profile`
    (``scale`` :math:`= s = L`), minimiser 0, :math:`f^\star = 0`, :math:`\mu = 0`."""
    a, w, eps, scale = (float(check_positive(n, v)) for n, v in
                        (("a", a), ("w", w), ("eps", eps), ("scale", scale)))
    if eps >= 1:
        raise ValueError(f"eps must lie in (0, 1) (the soft zone's curvature), got {eps}")
    d = check_int("d", d, 2)
    params = {"a": a, "w": w, "eps": eps, "d": d, "scale": scale}
    return SeparableProblem("dead_zone_huber", params, dead_zone_profile(a, w, eps),
                            np.full(d, scale), np.zeros(d), None,
                            "given; exact (f >= 0 = f(0), unique as eps > 0)")


def embedded_start(r: float, which: str, d: int = 2) -> np.ndarray:
    """Start ``(r, 0, ...)`` (1-sparse gradient: uniform weights) or ``(r, r, ...)`` (equal
    gradient magnitudes: Ht = 1 weights)."""
    check_choice("weights", which, WEIGHTS)
    x0 = np.zeros(d)
    if which == "uniform":
        x0[0] = r
    else:
        x0[:] = r
    return x0


def classify_run(grad_norm: np.ndarray, status: str, iterates=None) -> dict:
    r"""One run's outcome by the toolkit's classifier (:func:`emc_theory.outcomes.classify_runs`)
    from its gradient-norm history (``grad_norm[t]``, t = 0..T; ``iterates``, shape (T + 1, d),
    to tell a symmetric orbit's period): ``{"class", ...}``, with ``period`` and ``amplitude``
    (the largest :math:`\|g\|` over the last period) for a ``"cycle"``."""
    iterates = None if iterates is None else np.asarray(iterates)[:, None]
    out = classify_runs(np.asarray(grad_norm, dtype=float), np.array([status]),
                        iterates=iterates)
    kind = str(out.kind[0])
    if kind != "cycle":
        return {"class": kind}
    return {"class": kind, "period": int(out.period[0]), "amplitude": float(out.amplitude[0])}


def run_counterexample(record: dict):
    """Run a counterexample record (problem params, K, lr, weights, x0, steps, tol) on the core."""
    problem = dead_zone_huber(**record["problem"]["params"])
    opt = EMC(K=record["K"], lr=record["lr"], reading="linear", tau=record.get("tau", 1.0))
    return minimize(opt, problem, np.asarray(record["x0"], dtype=float), record["steps"],
                    tol=record["tol"])


def replay_counterexample(record: dict) -> dict:
    """Re-run a counterexample record and classify it: ``{"class", ..., "matches": bool}``."""
    traj = run_counterexample(record)
    out = classify_run(traj.grad_norm, str(traj.status))
    out["matches"] = out["class"] == record["class"]
    return out


def find_cycle_counterexample(K: int, which: str, eta: float, *,
                              a_values=(0.05, 0.1, 0.25, 0.5, 1.0),
                              starts=DEFAULT_STARTS, steps: int = 4000,
                              tol: float = 1e-8, eps: float = 1e-2) -> Optional[dict]:
    """A core run of constant-step linear EMC on a dead-zone Huber that ends in a cycle (first
    found over ``a_values`` x ``starts``; batched runs, then the found start replayed alone)."""
    for a in a_values:
        problem = dead_zone_huber(a=a, eps=eps)
        starts = np.asarray(starts, dtype=float)
        x0 = np.stack([embedded_start(r, which) for r in starts])
        opt = EMC(K=K, lr=eta, reading="linear")
        traj = minimize(opt, problem, x0, steps, tol=tol)
        for i in np.argsort(starts):
            if classify_run(traj.grad_norm[:, i], str(traj.status[i]))["class"] != "cycle":
                continue
            record = {"kind": "linear_emc_cycle", "K": K, "lr": float(eta), "tau": 1.0,
                      "weights": which, "problem": problem.describe(),
                      "x0": embedded_start(float(starts[i]), which).tolist(), "steps": steps,
                      "tol": tol, "class": "cycle"}
            replayed = replay_counterexample(record)
            if replayed["matches"]:
                record["amplitude"] = replayed["amplitude"]
                return record
    return None


def cycle_threshold(K: int, which: str, lo: float, hi: float, iters: int = 6,
                    **kwargs) -> dict:
    r"""Bisection for the smallest step (between ``lo``, with no cycle found, and ``hi``, with one)
    at which the search finds a cycle counterexample; returns the record found nearest above."""
    best = find_cycle_counterexample(K, which, hi, **kwargs)
    if best is None:
        return {"K": K, "weights": which, "eta_cycle": None, "record": None}
    for _ in range(iters):
        mid = (lo + hi) / 2
        rec = find_cycle_counterexample(K, which, mid, **kwargs)
        if rec is None:
            lo = mid
        else:
            hi, best = mid, rec
    return {"K": K, "weights": which, "eta_cycle": hi, "no_cycle_found_at": lo, "record": best}


# ----------------------------------------------------------------------------- switching steps

def switching_growth(K: int, eta: float, max_len: int = 10, lams=None) -> dict:
    r"""Largest :math:`\rho(\Pi)^{1/n}` over products :math:`\Pi` of the frozen-uniform companion
    matrices :math:`M(0)` and :math:`M(\eta\lambda)` (:mod:`proofs.linear_stability`) of length
    :math:`n \le` ``max_len``, over curvatures ``lams``: above 1, repeating that pattern of steps
    (each 0 or :math:`\eta`) diverges on :math:`f = \lambda x^2/2`, so no certificate for *every*
    step sequence in :math:`[0, \eta]` exists (a lower bound of the joint spectral radius)."""
    from .linear_stability import companion_matrix

    lams = np.linspace(0.1, 1.0, 10) if lams is None else np.asarray(lams, dtype=float)
    alpha = frozen_weights(K, "uniform")
    best = {"growth": 0.0, "pattern": None, "lambda": None}
    for lam in lams:
        mats = [companion_matrix(K, alpha, 0.0), companion_matrix(K, alpha, eta * lam)]
        level = {(): np.eye(K + 1)}
        for n in range(1, max_len + 1):
            nxt = {}
            for pattern, prod in level.items():
                for i, m in enumerate(mats):
                    nxt[pattern + (i,)] = m @ prod
            keys = list(nxt)
            stack = np.array([nxt[k] for k in keys])
            growth = np.max(np.abs(np.linalg.eigvals(stack)), axis=1) ** (1.0 / n)
            j = int(np.argmax(growth))
            if growth[j] > best["growth"]:
                best = {"growth": float(growth[j]), "pattern": list(keys[j]),
                        "lambda": float(lam)}
            level = nxt
    return best


def switching_threshold(K: int, lo: float = 0.1, hi: float = 6.0, iters: int = 10,
                        max_len: int = 10) -> dict:
    r"""Bisection for the smallest :math:`\eta` at which some step pattern in :math:`\{0, \eta\}`
    (uniform weights) grows on a quadratic: an upper bracket of :math:`\eta_{cert}` (band 0
    certifies *every* step sequence in :math:`[0, \eta_{cert}]`)."""
    found = None
    for _ in range(iters):
        mid = (lo + hi) / 2
        res = switching_growth(K, mid, max_len)
        if res["growth"] > 1 + 1e-9:
            hi, found = mid, res
        else:
            lo = mid
    return {"K": K, "eta_switch": hi if found else None, "no_growth_at": lo,
            "witness": found, "max_len": max_len}


# ----------------------------------------------------------------------------- the table

def build_brackets(Ks=(1, 2, 3), path=BRACKETS_FILE) -> dict:
    """PEP thresholds (both criteria, both weight sets) and cycle counterexamples per K, stored
    as JSON (minutes of PEPit; run once, then read by :func:`bracket_table`)."""
    started = time.perf_counter()
    certs = {rec["K"]: rec for rec in load_certificates()}
    out = {"pep": [], "cycles": [], "switching": [switching_threshold(K) for K in Ks]}
    for K in Ks:
        eta_const = float(as_fraction(certs[K]["eta_const"])) if K in certs else 1.0
        for which in WEIGHTS:
            cache = {}
            for criterion in CRITERIA:
                out["pep"].append(pep_threshold(K, which, criterion, lo=0.25, iters=7,
                                                curves=cache))
            top = out["pep"][-2]["u_star"]
            out["cycles"].append(cycle_threshold(K, which, eta_const, top * 0.999))
    out["seconds"] = round(time.perf_counter() - started, 1)
    write_text(path, dumps(out))
    return out


def load_brackets(path=BRACKETS_FILE) -> dict:
    return json.loads(Path(path).read_text())


def bracket_table(brackets: Optional[dict] = None, certificates=None) -> dict:
    r"""Per K: :math:`\eta_{cert} \le \eta_{const} \le \eta_{cycle}` and :math:`\eta_{PEP}`
    (horizon and monotone) beside :math:`u^\star`, for the uniform and the top weights, and whether
    the ordering :math:`\eta_{cert} \le \eta_{PEP} \le u^\star` holds (JSON-ready)."""
    brackets = load_brackets() if brackets is None else brackets
    certificates = load_certificates() if certificates is None else certificates
    certs = {rec["K"]: rec for rec in certificates}
    rows = []
    for K in sorted(certs):
        row = {"K": K, "eta_cert": float(as_fraction(certs[K]["eta_cert"])),
               "eta_const": float(as_fraction(certs[K]["eta_const"]))}
        for which in WEIGHTS:
            for item in brackets["pep"]:
                if item["K"] == K and item["weights"] == which:
                    row[f"eta_pep_{item['criterion']}_{which}"] = item["eta_pep"]
                    row[f"u_star_{which}"] = item["u_star"]
            for item in brackets["cycles"]:
                if item["K"] == K and item["weights"] == which:
                    row[f"eta_cycle_{which}"] = item["eta_cycle"]
        for item in brackets.get("switching", []):
            if item["K"] == K:
                row["eta_switch"] = item["eta_switch"]
        peps = [row.get(f"eta_pep_horizon_{w}") for w in WEIGHTS]
        stars = [row.get(f"u_star_{w}") for w in WEIGHTS]
        row["eta_pep"] = None if None in peps else min(peps)
        row["u_star"] = None if None in stars else min(stars)
        row["ordered"] = (None if row["eta_pep"] is None or row["u_star"] is None else
                          bool(row["eta_cert"] <= row["eta_pep"] <= row["u_star"]))
        cycles = [row.get(f"eta_cycle_{w}") for w in WEIGHTS]
        row["eta_const_below_cycles"] = (None if None in cycles else
                                         bool(row["eta_const"] < min(cycles)))
        rows.append(row)
    return {"L": 1, "rows": rows,
            "note": "eta_cert: any step sequence in [0, eta_cert]; eta_const: every constant step "
                    "(certified chain of bands); eta_pep: PEPit frozen-weight worst case still "
                    "decreasing over N = 1..12 (horizon criterion; min over uniform and top "
                    "weights); eta_cycle: smallest step found with a replayable cycle on a "
                    "dead-zone Huber; eta_switch: smallest step at which a periodic pattern of "
                    "steps in {0, eta} grows on a quadratic (an upper bracket of eta_cert); "
                    "u_star: quadratic threshold."}
