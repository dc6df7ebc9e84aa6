r"""EG1 (Tan & Huang, Theorem 2.2): a bound on the entropy gap in terms of the condition number.

Claim: for a positive definite :math:`H \in \mathbb{R}^{n\times n}` with condition number
:math:`k`,

.. math:: \log n - H_1(H) \;\le\; B(k, n) := \frac{k}{k+n-1}\log k - \log\frac{n+k-1}{n}
          \;\le\; \log k,

where :math:`H_1(H) = -\sum_i p_i \log p_i`, :math:`p_i = \lambda_i / \operatorname{tr} H`.
The seed (a table-of-contents scrape) lists a proof but gives no text (proof status
``not_in_source``).

The gap depends only on the spectrum and is scale-invariant, so we take
:math:`\lambda \in [1, k]^n` with :math:`\min = 1`, :math:`\max = k` pinned. The gap is
:math:`\mathrm{KL}(p \,\|\, \text{uniform})`, convex in :math:`p`, and
:math:`p = \lambda/\sum\lambda` is linear-fractional, so the gap is quasi-convex in
:math:`\lambda` and its maximum over the box is at a vertex: :math:`m` eigenvalues at :math:`k`,
:math:`n-m` at 1, :math:`m = 1..n-1`. With :math:`S = mk + n - m`, that gap is
:math:`g_m = \log n - \log S + \tfrac{mk}{S}\log k`, and :math:`B = g_1`.

What we check, each inequality separately, with the bound a parameter of one search
(:func:`search_spectra`):

* inequality 1 (:math:`\log n - H_1 \le B`), numerically: (a) the vertex search over :math:`m`
  (exact by the argument above), (b) L-BFGS-B over the free eigenvalues from seeded starts (an
  independent check that no interior spectrum does better), (c) random spectra from four
  distributions; n = 2..50, k on a log grid up to :math:`10^6`;
* symbolically (the derivation :mod:`proofs.entropy_gap`): :math:`B = g_1`; the expansion
  :math:`g_m = \tfrac{m(n-m)}{2n^2}(k-1)^2 + O((k-1)^3)`, whose coefficient exceeds that of
  :math:`g_1` by :math:`(m-1)(n-m-1)/(2n^2) > 0` for :math:`2 \le m \le n-2` (so inequality 1
  fails near :math:`k = 1` for every :math:`n \ge 4`);
  with :math:`m = tn` the gap does not depend on :math:`n`, while
  :math:`0 \le B \le k\log k/(k+n-1) \to 0` as :math:`n\to\infty` (so it fails for every
  :math:`k > 1` once :math:`n` is large);
* inequality 2 (:math:`B \le \log k`): sympy shows
  :math:`\log k - B = \tfrac{n-1}{k+n-1}\log k + \log(1 + \tfrac{k-1}{n})`, both terms
  :math:`\ge 0` for :math:`k, n \ge 1`; and numerically on the grid;
* the outer bound :math:`\log n - H_1 \le \log k` by the same search;
* the search can fail: the same machinery must flag the wrong bounds :math:`B/2` and
  :math:`\log k / 10`;
* the paper's lemma relating the gap to the total variation from uniform is not in the seed:
  recorded as unavailable evidence.

Rule (written before running): inequality 1 *fails* when any search finds a spectrum with
gap :math:`- B >` ``VIOLATION_TOL``, *holds* when none does and the search flags both wrong bounds,
else *undecided*; inequality 2 *fails* on a grid violation, *holds* when proved symbolically or
never violated, else *undecided*. The statement *fails* if either inequality fails, *holds* if both
hold, else *undecided*. Proof: *none* (no proof text in the seed).

The subject (``config.subject``) is a :class:`MiddleBound` in place of :math:`B`, searched and
judged by the same rule (the symbolic facts are about the paper's :math:`B` and are left
undetermined for another bound). Controls, each verdict known without the search:
:math:`\min(\log n, \log k)` *holds* (:math:`H_1 \ge 0` gives gap :math:`\le \log n`;
:math:`n p_i \le nk/(k+n-1) \le k` gives gap :math:`\le \log k`; and it is at most
:math:`\log k`); :math:`B/2` *fails* inequality 1 (at :math:`n = 2` the spectrum
:math:`\{1, k\}` has gap exactly :math:`B > B/2` for :math:`k > 1`); :math:`\log n` *fails*
inequality 2 (it exceeds :math:`\log k` whenever :math:`n > k`) while satisfying inequality 1.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy.optimize import minimize as scipy_minimize

from emc_theory import gradient_entropy
from emc_theory.validation import check_choice, check_int

from .support.base import (
    CheckConfig,
    Claim,
    Control,
    Counterexample,
    Evidence,
    Gathered,
    Proof,
    Source,
    Verdict,
)
from .support.symbolic import derivation_result

ID = "EG1"
TITLE = "Entropy gap bounded via the condition number"
WHERE = "Theorem 2.2"
SOURCE = Source("001_efec067ef178dacf.txt", "Information-theoretic perspectives on optimizers",
                "Tan & Huang", WHERE)
STATEMENT = ("Suppose the Hessian matrix H in R^{n x n} is positive definite and k is the "
             "condition number of it, then the following bound holds: log n - H_1(H) <= "
             "k/(k+n-1) log k - log((n+k-1)/n) <= log k.")
PROOF = Proof(status="not_in_source")
SYMBOLIC = ("entropy_gap",)  # derivations of proofs/ this check reads
SYMBOLIC_KEYS = ("middle_is_single_max_gap", "gap_flat_at_k_1", "second_order_coefficient",
                 "excess_coefficient_factorises", "split_gap_free_of_n",
                 "middle_upper_bound_vanishes", "log_k_minus_middle_decomposes",
                 "both_terms_nonnegative")
"""The results of :mod:`proofs.entropy_gap` the check reports, in its order."""

VIOLATION_TOL = 1e-10
"""A spectrum violates a bound when its gap exceeds the bound by more than this (float64 entropy
error is ~1e-15 log n)."""
MATRIX_MAX_N = 8
"""Counterexamples up to this n also store the full rotated matrix; larger ones its spectrum and
rotation seed."""
DISTRIBUTIONS = ("uniform", "log_uniform", "arcsine", "wishart")
_SHOWN_N = (3, 4, 5, 10, 20, 50)


def entropy_gap(eigenvalues) -> np.ndarray:
    r""":math:`\log n - H_1`, :math:`H_1 = -\sum_i p_i\log p_i`, :math:`p = \lambda/\sum\lambda`,
    over the last axis (positive eigenvalues, so the l1 weights are the trace weights)."""
    eigenvalues = np.asarray(eigenvalues, dtype=float)
    return np.log(eigenvalues.shape[-1]) - gradient_entropy(eigenvalues, kind="l1")


def middle_bound(k, n):
    r""":math:`B(k, n) = \frac{k}{k+n-1}\log k - \log\frac{n+k-1}{n}`."""
    k = np.asarray(k, dtype=float)
    return k / (k + n - 1) * np.log(k) - np.log1p((k - 1) / n)


def log_bound(k, n):
    r""":math:`\log k` (broadcast against ``n``)."""
    return np.log(np.asarray(k, dtype=float)) * np.ones_like(np.asarray(n, dtype=float))


def half_middle_bound(k, n):
    r""":math:`B(k, n)/2` (too small: at :math:`n = 2` the gap of :math:`\{1, k\}` is :math:`B`)."""
    return middle_bound(k, n) / 2


def min_log_bound(k, n):
    r""":math:`\min(\log n, \log k)`: a true bound on the gap that is at most :math:`\log k`."""
    return np.minimum(np.log(np.asarray(n, dtype=float)), np.log(np.asarray(k, dtype=float)))


def log_n_bound(k, n):
    r""":math:`\log n` (broadcast against ``k``): bounds the gap, but exceeds :math:`\log k`
    when :math:`n > k`."""
    return np.log(np.asarray(n, dtype=float)) * np.ones_like(np.asarray(k, dtype=float))


BOUNDS = {"middle": middle_bound, "log_k": log_bound}
WRONG_BOUNDS = {"middle/2": half_middle_bound,
                "log_k/10": lambda k, n: log_bound(k, n) / 10}


@dataclass(frozen=True)
class MiddleBound:
    """The subject of EG1: a bound ``bound(k, n)`` (broadcasting) in the place of :math:`B` in
    ``log n - H_1 <= bound <= log k``; ``name`` keys it in counterexample records."""

    name: str
    description: str
    bound: Callable


PAPER_BOUND = MiddleBound("middle", "the paper's B(k, n)", middle_bound)
CONTROL_BOUNDS = {
    "min_log_n_log_k": MiddleBound("min_log_n_log_k", "min(log n, log k)", min_log_bound),
    "middle_half": MiddleBound("middle_half", "B(k, n)/2", half_middle_bound),
    "log_n": MiddleBound("log_n", "log n", log_n_bound),
}
NAMED_BOUNDS = {**BOUNDS, **{b.name: b.bound for b in CONTROL_BOUNDS.values()}}
"""Every bound a counterexample record may name (``replay`` looks it up here)."""


def vertex_spectra(n: int, ks) -> np.ndarray:
    """Shape ``(len(ks), n-1, n)``: row ``m-1`` has ``m`` eigenvalues at ``k`` and ``n-m`` at 1."""
    ks = np.asarray(ks, dtype=float)
    at_k = np.arange(n)[None, :] < np.arange(1, n)[:, None]
    return np.where(at_k, ks[:, None, None], 1.0)


def random_spectra(rng: np.random.Generator, distribution: str, n: int, ks, samples: int):
    """Shape ``(len(ks), samples, n)``: ``1`` and ``k`` pinned, ``n-2`` free eigenvalues drawn
    uniform, log-uniform or arcsine on [1, k], or (``wishart``) the log-affine image in [1, k] of
    the spectrum of a Wishart matrix :math:`G G^\\top`, :math:`G \\in \\mathbb{R}^{n\\times 2n}`."""
    check_choice("distribution", distribution, DISTRIBUTIONS)
    ks = np.asarray(ks, dtype=float)[:, None, None]
    if distribution == "wishart":
        g = rng.standard_normal((samples, n, 2 * n))
        logw = np.log(np.linalg.eigvalsh(g @ g.transpose(0, 2, 1)))
        u = (logw - logw[:, :1]) / (logw[:, -1:] - logw[:, :1])
        return ks ** u[None]
    u = rng.random((ks.shape[0], samples, n - 2))
    if distribution == "uniform":
        free = 1 + (ks - 1) * u
    elif distribution == "log_uniform":
        free = ks ** u
    else:
        free = 1 + (ks - 1) * np.sin(0.5 * np.pi * u) ** 2
    ones = np.ones(free.shape[:-1] + (1,))
    return np.concatenate([ones, ks * ones, free], axis=-1)


def optimised_spectrum(n: int, k: float, starts: np.ndarray):
    r"""Maximise the gap over the free eigenvalues :math:`\lambda_j = k^{u_j}`,
    :math:`u \in [0, 1]^{n-2}` (L-BFGS-B on :math:`H_1`, gradient
    :math:`\partial H_1/\partial \lambda_j
    = (\sum_i \lambda_i\log\lambda_i / S - \log\lambda_j)/S`),
    from each row of ``starts``; return the best spectrum found."""
    logk = np.log(k)

    def entropy_and_grad(u):
        lam = np.concatenate([[1.0, k], np.exp(u * logk)])
        s = lam.sum()
        mean_log = (lam * np.log(lam)).sum() / s
        h = np.log(s) - mean_log
        grad = (mean_log - np.log(lam[2:])) / s * lam[2:] * logk
        return h, grad

    best = None
    for u0 in starts:
        res = scipy_minimize(entropy_and_grad, u0, jac=True, method="L-BFGS-B",
                             bounds=[(0.0, 1.0)] * (n - 2))
        lam = np.concatenate([[1.0, k], np.exp(res.x * logk)])
        if best is None or entropy_gap(lam) > entropy_gap(best):
            best = lam
    return best


def _worst(excess: np.ndarray, spectra: np.ndarray, n: int, ks) -> dict:
    """The spectrum of largest excess among ``spectra[i, j]`` (``i`` indexes ``ks``)."""
    i, j = np.unravel_index(np.argmax(excess), excess.shape)
    return {"excess": float(excess[i, j]), "n": n, "k": float(ks[i]),
            "eigenvalues": spectra[i, j].tolist()}


def _better(a, b):
    return b if a is None or b["excess"] > a["excess"] else a


def search_spectra(bound, ns, ks, rng: np.random.Generator, *, samples: int,
                   optimiser_ns, optimiser_ks, starts: int) -> dict:
    r"""Largest :math:`\text{gap} - \text{bound}(k, n)` found by each method: ``vertex``
    (all :math:`m`), ``random`` (each distribution, ``samples`` spectra per (n, k)) and
    ``optimised`` (L-BFGS-B on the ``optimiser_ns`` x ``optimiser_ks`` grid). Also the vertex
    excess table over (n, k), the maximising :math:`m`, and the largest amount by which an
    optimised gap beats the vertex maximum at the same (n, k) (positive would refute the vertex
    argument)."""
    ks = np.asarray(ks, dtype=float)
    vertex_table = np.empty((len(ns), len(ks)))
    best_m = np.empty((len(ns), len(ks)), dtype=int)
    found = {"vertex": None, "random": None, "optimised": None}
    for row, n in enumerate(ns):
        limit = bound(ks, n)
        spectra = vertex_spectra(n, ks)
        excess = entropy_gap(spectra) - limit[:, None]
        vertex_table[row] = excess.max(axis=1)
        best_m[row] = excess.argmax(axis=1) + 1
        found["vertex"] = _better(found["vertex"], _worst(excess, spectra, n, ks))
        if n < 3:
            continue
        for dist in DISTRIBUTIONS:
            spectra = random_spectra(rng, dist, n, ks, samples)
            excess = entropy_gap(spectra) - limit[:, None]
            found["random"] = _better(found["random"], _worst(excess, spectra, n, ks))
    optimiser_over_vertex = -np.inf
    for n in optimiser_ns:
        check_int("optimiser n (free eigenvalues need n >= 3)", n, 3)
        for k in optimiser_ks:
            lam = optimised_spectrum(n, float(k), rng.random((starts, n - 2)))
            gap = float(entropy_gap(lam))
            vertex_gap = float(entropy_gap(vertex_spectra(n, [k])).max())
            optimiser_over_vertex = max(optimiser_over_vertex, gap - vertex_gap)
            case = {"excess": gap - float(bound(k, n)), "n": n, "k": float(k),
                    "eigenvalues": lam.tolist()}
            found["optimised"] = _better(found["optimised"], case)
    return {"worst": found, "vertex_table": vertex_table, "best_m": best_m,
            "optimiser_over_vertex": optimiser_over_vertex}


def rotated_matrix(eigenvalues, rotation_seed: int) -> np.ndarray:
    r""":math:`Q \operatorname{diag}(\lambda) Q^\top` with a Haar orthogonal :math:`Q` from
    ``default_rng(rotation_seed)`` (QR of a Gaussian, signs of diag(R) fixed), symmetrised."""
    lam = np.asarray(eigenvalues, dtype=float)
    q, r = np.linalg.qr(np.random.default_rng(rotation_seed).standard_normal((lam.size,) * 2))
    q = q * np.sign(np.diag(r))
    h = (q * lam) @ q.T
    return 0.5 * (h + h.T)


def _outcome(spec: dict, bound) -> dict:
    matrix = (np.asarray(spec["matrix"], dtype=float) if "matrix" in spec
              else rotated_matrix(spec["eigenvalues"], spec["rotation_seed"]))
    lam = np.linalg.eigvalsh(matrix)
    n, cond = lam.size, float(lam[-1] / lam[0])
    gap = float(entropy_gap(lam))
    limit = float(bound(cond, n))
    return {"n": n, "condition_number": cond, "gap": gap, "bound": limit,
            "excess": gap - limit, "violated": bool(gap - limit > VIOLATION_TOL)}


def replay(spec: dict) -> dict:
    """Recompute a counterexample from its record: the eigenvalues of the stored (or rebuilt)
    matrix, its condition number, gap, the named bound and whether the gap exceeds it."""
    check_choice("bound", spec["bound"], tuple(NAMED_BOUNDS))
    return _outcome(spec, NAMED_BOUNDS[spec["bound"]])


def _counterexample(case: dict, bound_name: str, bound, seed: int,
                    description: str) -> Counterexample:
    spec = {"n": case["n"], "k": case["k"], "eigenvalues": case["eigenvalues"],
            "rotation_seed": seed, "bound": bound_name}
    if case["n"] <= MATRIX_MAX_N:
        spec["matrix"] = rotated_matrix(case["eigenvalues"], seed).tolist()
    return Counterexample(ID, description, spec, _outcome(spec, bound))


@dataclass(frozen=True)
class Facts:
    """What the rule of EG1 reads (``None``: not established; the symbolic facts are about the
    paper's :math:`B` and are ``None`` for another subject)."""

    ineq1_violated: Optional[bool]
    ineq1_max_excess: Optional[float]
    ineq1_vertex_max_excess: Optional[float]
    ineq1_random_max_excess: Optional[float]
    ineq1_optimised_max_excess: Optional[float]
    ineq1_smallest_failing_n: Optional[int]
    single_max_is_maximiser: Optional[bool]
    optimiser_over_vertex: Optional[float]
    ineq2_proved_symbolically: Optional[bool]
    ineq2_violated: Optional[bool]
    ineq2_min_margin: Optional[float]
    outer_violated: Optional[bool]
    outer_max_excess: Optional[float]
    outer_max_gap_over_log_k: Optional[float]
    middle_is_single_max_gap_symbolic: Optional[bool]
    small_k_expansion_favours_split: Optional[bool]
    search_detects_wrong_bounds: Optional[bool]
    lemma_tv_available: Optional[bool]


def _symbolic_facts() -> dict:
    """The results of :mod:`proofs.entropy_gap` (decision, or ``None`` when undecided)."""
    symbolic = derivation_result("entropy_gap")
    return {key: symbolic.value(key) for key in SYMBOLIC_KEYS}


def gather(config: CheckConfig) -> Gathered[Facts]:
    subject = PAPER_BOUND if config.subject is None else config.subject
    if not isinstance(subject, MiddleBound):
        raise TypeError(f"EG1's subject must be a MiddleBound or None, got {subject!r}")
    rng = np.random.default_rng(config.seed)
    if config.quick:
        ns, ks = [2, 3, 4, 5, 10, 50], 10 ** np.linspace(0.02, 6, 10)
        samples, opt_ns, opt_ks, starts = 8, [4, 10], [1.5, 100.0], 2
    else:
        ns, ks = list(range(2, 51)), 10 ** np.linspace(0.02, 6, 31)
        samples, opt_ns, opt_ks, starts = 32, [3, 4, 6, 10, 20, 50], [1.2, 2, 5, 30, 1e3, 1e6], 3
    search = dict(samples=samples, optimiser_ns=opt_ns, optimiser_ks=opt_ks, starts=starts)
    parameters = {
        "n": ns, "k_grid": f"10**linspace(0.02, 6, {len(ks)})",
        "random_distributions": list(DISTRIBUTIONS),
        "random_samples_per_n_k_distribution": samples, "optimiser": "L-BFGS-B, u in [0,1]^(n-2)",
        "optimiser_n": opt_ns, "optimiser_k": opt_ks, "optimiser_starts": starts,
        "violation_tol": VIOLATION_TOL, "seed": config.seed,
        "wrong_bounds": list(WRONG_BOUNDS),
        "wrong_bound_search": "n in [2, 3, 10], every 3rd k, 4 samples, L-BFGS-B at n=4, k=10"}
    if config.subject is not None:
        parameters["subject"] = subject.description
    evidence, counterexamples = [], []

    bounds = {subject.name: subject.bound, "log_k": log_bound}
    results = {name: search_spectra(bound, ns, ks, rng, **search) for name, bound in bounds.items()}
    wrong_rng = np.random.default_rng(config.seed)
    wrong_flagged = {name: max(w["excess"] for w in search_spectra(
        bound, [2, 3, 10], ks[::3], wrong_rng, samples=4, optimiser_ns=[4], optimiser_ks=[10.0],
        starts=1)["worst"].values()) > VIOLATION_TOL for name, bound in WRONG_BOUNDS.items()}

    worst = {name: max(res["worst"].values(), key=lambda w: w["excess"])
             for name, res in results.items()}
    middle = results[subject.name]
    table, best_m = middle["vertex_table"], middle["best_m"]
    failing_rows = np.flatnonzero((table > VIOLATION_TOL).any(axis=1))
    fail_by_n = {int(ns[r]): [float(ks[table[r] > VIOLATION_TOL].min()),
                              float(ks[table[r] > VIOLATION_TOL].max())] for r in failing_rows}

    single_max_everywhere = bool(np.all(table <= VIOLATION_TOL))
    optimiser_over_vertex = max(res["optimiser_over_vertex"] for res in results.values())
    outer_ratio = float((1 + results["log_k"]["vertex_table"] / np.log(ks)[None, :]).max())
    middle_k = subject.bound(ks[None, :], np.asarray(ns)[:, None])
    ineq2_margin = float((np.log(ks)[None, :] - middle_k).min())

    for name, res in results.items():
        w = res["worst"]
        evidence.append(Evidence(
            "numerical", f"spectrum search against {name}",
            f"largest gap - {name}: vertex search {w['vertex']['excess']:.3e} "
            f"(n={w['vertex']['n']}, k={w['vertex']['k']:.3g}), random "
            f"{w['random']['excess']:.3e}, L-BFGS-B {w['optimised']['excess']:.3e}",
            {method: {key: case[key] for key in ("excess", "n", "k")}
             for method, case in w.items()}))
    evidence.append(Evidence(
        "numerical", "where inequality 1 fails",
        f"vertex search: violations at {len(failing_rows)} of {len(ns)} n; smallest failing n = "
        f"{int(ns[failing_rows[0]]) if failing_rows.size else None}; maximiser m > 1 at "
        f"{int((best_m > 1).sum())} of {best_m.size} (n, k)",
        {"violating_k_range_by_n": {str(n): fail_by_n.get(n) for n in _SHOWN_N if n in ns},
         "maximising_m_at_largest_n": best_m[-1].tolist()}))
    evidence.append(Evidence(
        "independent", "search self-check with wrong bounds",
        "the same search flags " + ", ".join(f"{k}: {v}" for k, v in wrong_flagged.items()),
        {"flagged": wrong_flagged}))
    evidence.append(Evidence(
        "numerical", "tightness of the outer bound",
        f"vertex search: max over (n, k) of (log n - H_1)/log k = {outer_ratio:.4f}",
        {"max_gap_over_log_k": outer_ratio}))
    evidence.append(Evidence(
        "numerical", "inequality 2 on the grid",
        f"min over the grid of log k - B(k, n) = {ineq2_margin:.3e}",
        {"min_margin": ineq2_margin}))
    sym = dict.fromkeys(SYMBOLIC_KEYS)
    if config.subject is None:  # the derivation is about the paper's B
        sym = _symbolic_facts()
        evidence.append(Evidence(
            "symbolic", "sympy: middle term, small-k expansion, inequality 2",
            "B = gap of one eigenvalue at k; g_m = m(n-m)/(2n^2)(k-1)^2 + O((k-1)^3), exceeding "
            "g_1 by (m-1)(n-m-1)/(2n^2); g_{tn} free of n, 0 <= B <= k log k/(k+n-1) -> 0; "
            "log k - B = (n-1)/(k+n-1) log k + log(1+(k-1)/n) >= 0: "
            + ", ".join(f"{key}={value}" for key, value in sym.items()), sym))
    evidence.append(Evidence(
        "symbolic", "lemma: entropy gap vs total variation from uniform",
        "could not be recovered from the seed (the seed lists Lemmas 2.5, 2.6 without text)",
        {}, available=False))

    for name, case in worst.items():
        if case["excess"] > VIOLATION_TOL:
            counterexamples.append(_counterexample(
                case, name, bounds[name], config.seed,
                f"largest gap - {name} found: n={case['n']}, k={case['k']:.4g}"))
    if failing_rows.size:
        r = failing_rows[0]
        i = int(np.argmax(table[r]))
        n = int(ns[r])
        lam = vertex_spectra(n, ks[i:i + 1])[0, best_m[r, i] - 1]
        case = {"n": n, "k": float(ks[i]), "eigenvalues": lam.tolist()}
        counterexamples.append(_counterexample(
            case, subject.name, subject.bound, config.seed,
            f"smallest n violating inequality 1: n={n}, k={ks[i]:.4g}, "
            f"{best_m[r, i]} eigenvalues at k (B is the gap with one)"))

    paper = config.subject is None
    facts = Facts(
        ineq1_violated=bool(worst[subject.name]["excess"] > VIOLATION_TOL),
        ineq1_max_excess=worst[subject.name]["excess"],
        ineq1_vertex_max_excess=middle["worst"]["vertex"]["excess"],
        ineq1_random_max_excess=middle["worst"]["random"]["excess"],
        ineq1_optimised_max_excess=middle["worst"]["optimised"]["excess"],
        ineq1_smallest_failing_n=int(ns[failing_rows[0]]) if failing_rows.size else None,
        single_max_is_maximiser=single_max_everywhere if paper else None,
        optimiser_over_vertex=optimiser_over_vertex,
        ineq2_proved_symbolically=(sym["log_k_minus_middle_decomposes"]
                                   and sym["both_terms_nonnegative"]) or None,
        ineq2_violated=bool(ineq2_margin < -VIOLATION_TOL),
        ineq2_min_margin=ineq2_margin,
        outer_violated=bool(worst["log_k"]["excess"] > VIOLATION_TOL),
        outer_max_excess=worst["log_k"]["excess"],
        outer_max_gap_over_log_k=outer_ratio,
        middle_is_single_max_gap_symbolic=sym["middle_is_single_max_gap"],
        small_k_expansion_favours_split=(sym["gap_flat_at_k_1"]
                                         and sym["second_order_coefficient"]
                                         and sym["excess_coefficient_factorises"]) or None,
        search_detects_wrong_bounds=all(wrong_flagged.values()),
        lemma_tv_available=False,
    )
    return Gathered(facts=facts, evidence=evidence, counterexamples=counterexamples,
                    parameters=parameters)


def _inequality(violated, supported) -> str:
    if violated:
        return "fails"
    if violated is False and supported:
        return "holds"
    return "undecided"


def decide(g: Gathered[Facts]) -> Verdict:
    f = g.facts
    first = _inequality(f.ineq1_violated, f.search_detects_wrong_bounds)
    second = _inequality(f.ineq2_violated,
                         f.ineq2_proved_symbolically or f.ineq2_violated is False)
    verdicts = {first, second}
    statement = ("fails" if "fails" in verdicts else
                 "holds" if verdicts == {"holds"} else "undecided")
    reason = (f"inequality 1 (gap <= B) {first} (largest gap - B = "
              f"{f.ineq1_max_excess}); inequality 2 (B <= log k) {second}")
    conditions = [f"inequality 1: {first}", f"inequality 2: {second}"]
    if f.outer_violated is not None:
        conditions.append("outer bound log n - H_1 <= log k: "
                          + ("violated" if f.outer_violated else "never violated"))
    if f.single_max_is_maximiser is False:
        conditions.append("the spectrum with one eigenvalue at k is not the gap maximiser: "
                          "more eigenvalues at k give a larger gap")
    if f.ineq1_smallest_failing_n is not None:
        conditions.append(f"inequality 1 fails from n = {f.ineq1_smallest_failing_n} on the "
                          "grid")
    return Verdict(statement, "none", reason,
                   "the seed lists a proof of Theorem 2.2 but gives no text",
                   conditions=conditions)


CLAIM = Claim(
    id=ID, title=TITLE, source=SOURCE, statement=STATEMENT, proof=PROOF, kind="inequality",
    facts=Facts, gather=gather, decide=decide, derivations=SYMBOLIC, replay=replay,
    controls=(
        Control("true bound min(log n, log k)",
                "H_1 >= 0 gives gap <= log n and n p_i <= nk/(k+n-1) <= k gives gap <= log k, "
                "and min(log n, log k) <= log k: both inequalities hold",
                CONTROL_BOUNDS["min_log_n_log_k"], "holds", "positive"),
        Control("planted bound B/2",
                "at n = 2 the spectrum {1, k} has gap exactly B > B/2 for k > 1: inequality 1 "
                "fails", CONTROL_BOUNDS["middle_half"], "fails", "negative"),
        Control("bound log n",
                "log n bounds the gap (H_1 >= 0) but exceeds log k whenever n > k: "
                "inequality 2 fails", CONTROL_BOUNDS["log_n"], "fails", "negative"),
    ),
)
