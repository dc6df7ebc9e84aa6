r"""Lyapunov certificates, found by semidefinite programming and verified in exact arithmetic,
that linear EMC drives the gradient to zero on every convex :math:`L`-smooth function bounded below,
for every weight sequence EMC can produce and every step sequence in a certified range.

**The method.** Reading ``"linear"``, weights :math:`\alpha_t` and steps :math:`\eta_t` arbitrary
(chosen by an adversary at every step):

.. math::
    g_t = \nabla f(x_t),\quad m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1-\beta_k) g_t,\quad
    x_{t+1} = x_t - \sum_k u_{t,k}\, m^{(k)}_t,\qquad u_t = \eta_t \alpha_t \in \mathbb{R}^K.

*Normalisation.* :math:`L = 1`: for :math:`L`-smooth :math:`f`, :math:`\tilde f(y) = L f(y/L)` is
1-smooth and the iterates map as :math:`y_t = L x_t` with the same momenta and the step
:math:`\eta L`; so every statement below holds for general :math:`L` with :math:`\eta` replaced
by :math:`\eta L`.

*Weights.* EMC's weights are
:math:`\alpha(\tilde H) = \operatorname{softmax}(\lambda \tilde H/\tau)`, :math:`\lambda_k = k/K`,
:math:`\tilde H \in [0, 1]`. Along this curve
:math:`\alpha_{k+1}/\alpha_k = e^{\tilde H/(K\tau)} \in [1, r]`, :math:`r = e^{1/(K\tau)}`, so the
curve lies in the polytope :math:`\mathcal{A} = \{\alpha \in \Delta: \alpha_k \le \alpha_{k+1} \le
\bar r \alpha_k\}` for any rational :math:`\bar r \ge r` (:func:`exp_upper` gives one with a proof:
Taylor's sum plus the remainder bound :math:`e^y y^{N+1}/(N+1)! \le 3 y^{N+1}/(N+1)!`,
:math:`0 \le y \le 1`). Its vertices have each ratio at 1 or :math:`\bar r`:
:math:`\alpha \propto (1, \rho_1, \rho_1\rho_2, \dots)`, :math:`\rho_k \in \{1, \bar r\}`
(:math:`2^{K-1}` of them: a vertex needs :math:`K-1` active constraints and the two of one pair
cannot both be active). ``polytope="simplex"`` (all convex weights, vertices :math:`e_k`) is also
offered. A band of steps :math:`[\eta_{lo}, \eta_{hi}]` gives the set
:math:`U = \{\eta\alpha: \eta \in [\eta_{lo}, \eta_{hi}], \alpha \in \mathcal{A}\}
= \operatorname{conv}(\eta_{lo}\mathcal{V} \cup \eta_{hi}\mathcal{V})` (:math:`\mathcal{V}` the
vertices; for :math:`\eta_{lo} = 0` this is :math:`\operatorname{conv}(\{0\} \cup
\eta_{hi}\mathcal{V})`).

*Lyapunov function* (window of ``h`` past steps):

.. math::
    V_t = \sum_{j=0}^{h} a_j \big(f(x_{t-j}) - f_\star\big) + z_t^\top P z_t,\qquad
    z_t = \big(m^{(1..K)}_{t-h-1},\ g_{t-h}, \dots, g_t\big),

:math:`f_\star = \inf f`. The one-step condition
:math:`V_{t+1} - V_t \le -c\,\eta_t \|g_t\|^2` (:math:`\eta_t = \sum_k u_{t,k}`) is proved, as in
performance estimation (Taylor, Van Scoy, Lessard 2018; PEPit's interpolation conditions), by
multipliers :math:`\lambda_{ij} \ge 0` of the inequalities
:math:`f_j - f_i + \langle g_j, x_i - x_j\rangle + \tfrac12\|g_i - g_j\|^2 \le 0` between every
ordered pair of the window's points :math:`x_{t-h}, \dots, x_{t+1}` (valid for every convex
1-smooth :math:`f`): in the Gram basis
:math:`e = (m_{t-h-1}, g_{t-h}, \dots, g_{t+1})` (the differences :math:`x_{s+1} - x_s =
-\sum_k u_{s,k} m^{(k)}_s` are linear in :math:`e`),

.. math::
    C(u) = Z_1^\top P Z_1 - Z_0^\top P Z_0 + c\,(\textstyle\sum_k u_{t,k})\, g_t g_t^\top
    - \sum_{ij} \lambda_{ij} M_{ij}(u) \preceq 0,

and the function-value coefficients of :math:`V_{t+1} - V_t - \sum \lambda_{ij} Q_{ij}` vanish
(exact linear equalities, independent of :math:`u`). Then for every Gram matrix of every actual
run the left side is :math:`\le 0`, which is the one-step condition.

*Why checking vertices proves it on all of* :math:`U^{h+1}`: :math:`Z_0, Z_1` do not depend on
:math:`u` (the momenta do not), and each :math:`M_{ij}(u)` is affine in :math:`(u_{t-h}, \dots,
u_t)` (the :math:`x`-differences are sums of :math:`-u_s \cdot m_s`; no products of different
steps). So :math:`C` is affine, in particular matrix-convex, in the joint step vector, the set
where :math:`C \preceq 0` is convex, and it contains the product of the :math:`U`'s once it
contains the products of their vertices. :math:`P` and the multipliers are common to all
vertices (required for the affinity).

*Why no* :math:`x - x^\star` *terms.* With :math:`\eta_t = 0` allowed, the vertex :math:`u = 0`
forces every coefficient coupling :math:`x_t - x^\star` to the momenta or gradients to vanish
(the momenta move while :math:`x` does not), and then every :math:`x`-term (the
:math:`(x, x)` entry of :math:`C` is identically 0, so its row must vanish at every vertex); with
two or more distinct step vectors (weight vertices, or the two ends of a band) the row's
:math:`u`-dependent part forces the same. Hence the function-value terms, and hence no minimiser is
needed: only :math:`f_\star = \inf f > -\infty`. At the all-zero vertex the steady state
(:math:`m^{(k)} = g_s` for all levels and times) is a kernel direction of every feasible
:math:`C`, so there :math:`P` is parametrised as :math:`T^\top Q T`, :math:`T z =
(m^{(k)} - g_t, g_{t-j} - g_t)`, and the exact test accepts the exact kernel.

*Boundedness.* Using :math:`f(x) - f_\star \ge \|\nabla f(x)\|^2/2`, the exact test of
:math:`P + \sum_j \tfrac{a_j}{2} E_{g_{t-j}} - \tfrac{a_0}{4} E_{g_t} \succeq 0` gives
:math:`V_t \ge \tfrac{a_0}{4}\|g_t\|^2 \ge 0`.

**Consequence (the theorem for the linear reading).** Summing the one-step condition from any
time :math:`t_0` after which :math:`\eta_t \in [\eta_{lo}, \eta_{hi}]/L` and the weights lie in
:math:`\mathcal{A}`: :math:`c \sum_{t \ge t_0} \eta_t \|g_t\|^2 \le V_{t_0}`, and
:math:`\|g_t\|^2 \le 4V_{t_0}/a_0`. With band 0 (:math:`\eta_{lo} = 0`, :math:`\eta_{hi} =
\eta_{cert}`): every schedule that ends below :math:`\eta_{cert}/L` with :math:`\sum \eta_t =
\infty` has :math:`\liminf \|g_t\| = 0`; since moreover :math:`\|g_{t+1} - g_t\| \le L\eta_t
\sup_s \|g_s\|` (the aggregate is a convex combination of past gradients), the standard
lemma (Bertsekas & Tsitsiklis 2000, Prop. 1) gives :math:`g_t \to 0`, and
:math:`\min_{s \le t}\|g_s\|^2 \le V_{t_0}/(c\sum_{s \le t}\eta_s)`. Constant steps below it give
:math:`\sum_t \|g_t\|^2 < \infty`. Bands above band 0 (:math:`\eta_{lo} > 0`) certify every step
sequence inside the band, in particular every constant step up to the top of the chain,
:math:`\eta_{const}`.

**Exact verification.** The solver's :math:`P` and multipliers are rounded to rationals (denominator
:math:`10^{9}`), the :math:`a_j` are then solved exactly from the equalities (they are determined by
the multipliers), :math:`c` is rounded down, and every vertex condition is decided by an exact
:math:`LDL^\top` test over :class:`fractions.Fraction` (:func:`is_psd_exact`); a solver failure or
an inaccurate solution is never a certificate. :func:`verify_certificate` re-derives everything
(polytope, vertices, matrices) from a stored record and answers yes or no.

**Strongly convex functions.** :func:`rate_certificate` proves
:math:`V_{t+1} \le \rho V_t` for :math:`\mu`-strongly convex :math:`f` at a constant step,
weights in :math:`\mathcal{A}`, with :math:`V = a(f - f_\star) + z^\top P z`,
:math:`z = (x_t - x^\star, m_{t-1}, g_t)`, :math:`P \succeq 0`; the strong-convexity inequality is
used only between :math:`x_t` and :math:`x^\star` (it is :math:`u`-free there; elsewhere its
:math:`\mu\|x_i - x_j\|^2` term would be concave in :math:`u`), so :math:`C(u)` is matrix-convex
in :math:`u` (:math:`P \succeq 0`, :math:`Z_1` affine in :math:`u`) and vertices suffice again.
Beside it, :func:`pep_rate` gives PEPit's finite-horizon worst-case ratio of the frozen-weight
method (an estimate, not a bound: it approaches the asymptotic rate from above as the horizon
grows) and :func:`quadratic_rate` the frozen-weight rate on quadratics (a lower bound of the
frozen method's worst rate, hence of any certified switching rate).
"""
from __future__ import annotations

import itertools
import json
import math
import time
import warnings
from fractions import Fraction
from pathlib import Path
from typing import Optional

import numpy as np

from emc_theory.records import dumps, write_text
from emc_theory.validation import check_choice, check_int

from .sdp import import_cvxpy

DATA_DIR = Path(__file__).parent / "data"
CERTIFICATE_FILE = DATA_DIR / "linear_certificates.json"
DENOMINATOR = 10**9          # rounding grid of the solver's matrices and multipliers
SDP_MARGIN = 1e-6            # strict margin the SDP asks for, so that rounding keeps PSD
SOLVERS = ("CLARABEL", "SCS")
POLYTOPES = ("curve", "simplex")
RECORD_KIND = "emc_linear_lyapunov"
RATE_KIND = "emc_linear_rate"


# ----------------------------------------------------------------------------- exact helpers

def as_fraction(value) -> Fraction:
    """``Fraction`` from a Fraction, int, ``"p/q"`` string or float (floats exactly)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise TypeError(f"expected a rational number, got {value!r}")
    if isinstance(value, (int, str)):
        return Fraction(value)
    if isinstance(value, float) and math.isfinite(value):
        return Fraction(value)
    raise TypeError(f"expected a rational number (int, 'p/q' string, Fraction or finite float), "
                    f"got {value!r}")


def fraction_str(q: Fraction) -> str:
    """``"p/q"`` (or ``"p"``) of a Fraction, the JSON form of exact rationals."""
    return str(Fraction(q))


def round_fraction(x: float, denominator: int = DENOMINATOR) -> Fraction:
    """Nearest rational with the given denominator."""
    return Fraction(round(float(x) * denominator), denominator)


def exact_betas(K: int) -> list[Fraction]:
    r""":math:`\beta_k = 1 - 2^{-k}` exactly."""
    return [1 - Fraction(1, 2**k) for k in range(1, K + 1)]


def exp_upper(x: Fraction, terms: int = 20) -> Fraction:
    r"""A rational upper bound of :math:`e^x`, :math:`x \ge 0`, with its proof in the arithmetic:
    :math:`x = n y`, :math:`0 \le y \le 1`, :math:`e^y \le \sum_{i \le N} y^i/i! + 3 y^{N+1}/(N+1)!`
    (Lagrange remainder with :math:`e^{\xi} \le e < 3`), raised to the power :math:`n`."""
    x = as_fraction(x)
    if x < 0:
        raise ValueError(f"x must be >= 0 for exp_upper, got {x}")
    n = max(1, math.ceil(x))
    y = x / n
    total, term = Fraction(0), Fraction(1)
    for i in range(terms + 1):
        total += term
        term = term * y / (i + 1)
    return (total + 3 * term) ** n


def is_psd_exact(matrix) -> bool:
    r"""Exact test that a symmetric rational matrix is positive semidefinite: symmetric Gaussian
    elimination (:math:`LDL^\top`) with the largest positive diagonal as pivot; when no diagonal is
    positive, the matrix is PSD iff every remaining entry is zero (a PSD matrix with a zero diagonal
    entry has that row zero; a negative diagonal entry refutes PSD)."""
    a = [[as_fraction(v) for v in row] for row in matrix]
    n = len(a)
    if any(len(row) != n for row in a):
        raise ValueError("matrix must be square")
    if any(a[i][j] != a[j][i] for i in range(n) for j in range(i)):
        raise ValueError("matrix must be exactly symmetric")
    idx = list(range(n))
    while idx:
        diag = [(a[i][i], i) for i in idx]
        if any(d < 0 for d, _ in diag):
            return False
        d, p = max(diag)
        if d == 0:
            return all(a[i][j] == 0 for i in idx for j in idx)
        idx.remove(p)
        row = a[p]
        for i in idx:
            if row[i] == 0:
                continue
            f = row[i] / d
            ai = a[i]
            for j in idx:
                if row[j]:
                    ai[j] -= f * row[j]
    return True


# ----------------------------------------------------------------------------- weight polytope

def weight_polytope(K: int, tau=1, kind: str = "curve", ratio_upper=None) -> dict:
    r"""The polytope of weights certified: ``"curve"`` (contains EMC's weight curve, see the module
    docstring; ``ratio_upper`` :math:`\bar r \ge e^{1/(K\tau)}`, default a 6-digit rational bound
    from :func:`exp_upper`) or ``"simplex"``. Returns ``{"kind", "ratio_upper", "vertices"}``
    with exact vertices."""
    K = check_int("K", K, 1)
    check_choice("polytope kind", kind, POLYTOPES)
    tau = as_fraction(tau)
    if tau <= 0:
        raise ValueError(f"tau must be > 0, got {tau}")
    if kind == "simplex":
        verts = [[Fraction(int(i == k)) for i in range(K)] for k in range(K)]
        return {"kind": kind, "tau": tau, "ratio_upper": None, "vertices": verts}
    if ratio_upper is None:
        bound = exp_upper(1 / (K * tau))
        ratio_upper = Fraction(math.ceil(bound * 10**6), 10**6)
    ratio_upper = as_fraction(ratio_upper)
    verts = []
    for choice in itertools.product((Fraction(1), ratio_upper), repeat=K - 1):
        w = [Fraction(1)]
        for rho in choice:
            w.append(w[-1] * rho)
        total = sum(w)
        verts.append([v / total for v in w])
    return {"kind": kind, "tau": tau, "ratio_upper": ratio_upper, "vertices": verts}


def polytope_contains_curve(polytope: dict, K: int) -> bool:
    r"""Exact check that the polytope contains EMC's weight curve: the simplex always; the ratio
    polytope iff :math:`\bar r \ge e^{1/(K\tau)}`, decided by :math:`\bar r \ge` the rational upper
    bound :func:`exp_upper` (sufficient) — no float comparison."""
    if polytope["kind"] == "simplex":
        return True
    r = polytope["ratio_upper"]
    return r is not None and r >= exp_upper(1 / (K * polytope["tau"]))


# ----------------------------------------------------------------------------- the step model

def _eye(n: int, exact: bool):
    if exact:
        out = np.empty((n, n), dtype=object)
        for i in range(n):
            for j in range(n):
                out[i, j] = Fraction(int(i == j))
        return out
    return np.eye(n)


def _sym(a, b):
    return (np.outer(a, b) + np.outer(b, a)) / 2


def window_model(K: int, h: int, us, exact: bool = False) -> dict:
    r"""Rows (over the Gram basis :math:`e = (m^{(1..K)}_{t-h-1}, g_{t-h}, \dots, g_{t+1})`) of the
    window's gradients ``G`` and points ``X`` (relative to :math:`x_{t-h}`), and :math:`Z_0, Z_1`,
    for the step vectors ``us`` = :math:`(u_{t-h}, \dots, u_t)`. Exact (object arrays of
    Fractions) or float."""
    n = K + h + 2
    E = _eye(n, exact)
    b = exact_betas(K) if exact else [1 - 2.0**-k for k in range(1, K + 1)]
    G = [E[K + j] for j in range(h + 2)]
    m = [E[k] for k in range(K)]
    X = [E[0] * 0]
    first = None
    for j in range(h + 1):
        m = [b[k] * m[k] + (1 - b[k]) * G[j] for k in range(K)]
        if first is None:
            first = m
        step = X[j] * 0
        for k in range(K):
            step = step - us[j][k] * m[k]
        X.append(X[j] + step)
    Z0 = np.array([E[k] for k in range(K)] + G[: h + 1])
    Z1 = np.array(list(first) + G[1:])
    return {"G": G, "X": X, "Z0": Z0, "Z1": Z1, "n": n, "npts": h + 2}


def pairs(h: int) -> list[tuple[int, int]]:
    """Ordered pairs of the window's point indices ``0..h+1``."""
    return [(i, j) for i in range(h + 2) for j in range(h + 2) if i != j]


def interpolation_matrix(model: dict, i: int, j: int):
    r"""Gram part of :math:`Q_{ij} = f_j - f_i + \langle g_j, x_i - x_j\rangle +
    \tfrac12\|g_i - g_j\|^2` (:math:`L = 1`)."""
    G, X = model["G"], model["X"]
    return _sym(G[j], X[i] - X[j]) + np.outer(G[i] - G[j], G[i] - G[j]) / 2


def difference_map(K: int, h: int) -> np.ndarray:
    r""":math:`T`: :math:`z \mapsto (m^{(k)} - g_t, g_{t-j} - g_t)`, shape ``(K+h, K+h+1)``."""
    nz = K + h + 1
    T = np.zeros((K + h, nz))
    for i in range(K + h):
        T[i, i], T[i, nz - 1] = 1.0, -1.0
    return T


def band_step_vectors(lo: Fraction, hi: Fraction, vertices) -> list:
    """The vertices of U for one step: ``{0}`` or ``lo * V``, and ``hi * V``."""
    base = [[lo * v for v in vert] for vert in vertices] if lo > 0 else [[lo] * len(vertices[0])]
    return base + [[hi * v for v in vert] for vert in vertices]


def f_coefficient_rows(h: int) -> tuple[list, dict]:
    r"""The function-value coefficients of :math:`V_{t+1} - V_t - \sum\lambda_{ij}Q_{ij}` per point
    index: ``a_rows[i]`` (coefficient of each :math:`a_j`) and ``lam_rows[i]`` (of each
    :math:`\lambda_{ij}`)."""
    npts = h + 2
    a_rows = [[0] * (h + 1) for _ in range(npts)]
    for j in range(h + 1):
        a_rows[npts - 1 - j][j] += 1      # V_{t+1}: a_j f_{t+1-j}
        a_rows[npts - 2 - j][j] -= 1      # V_t:     a_j f_{t-j}
    lam_rows = [{} for _ in range(npts)]
    for (i, j) in pairs(h):               # -lam_ij (f_j - f_i)
        lam_rows[j][(i, j)] = lam_rows[j].get((i, j), 0) - 1
        lam_rows[i][(i, j)] = lam_rows[i].get((i, j), 0) + 1
    return a_rows, lam_rows


# ----------------------------------------------------------------------------- SDP search

def _solve(problem, solver: str) -> str:
    """Solve with ``solver``; returns cvxpy's status, or ``"error"`` if the solver raised (an
    exception, or Clarabel's Rust panic, pyo3's PanicException, which is not an Exception)."""
    options = {"max_iters": 20000} if solver == "SCS" else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            problem.solve(solver=solver, **options)
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:   # noqa: B036 - see the docstring
        return "error"
    return str(problem.status)


def solve_band(K: int, h: int, lo, hi, vertices, solver: str = "CLARABEL",
               margin: float = SDP_MARGIN) -> dict:
    """Float SDP for one band: ``{"status", "solution"}``, the solution (floats) only when the
    solver reports ``optimal`` with ``c > 0``."""
    cp = import_cvxpy()

    lo, hi = float(lo), float(hi)
    verts = [np.array([float(v) for v in vert]) for vert in vertices]
    n, nz = K + h + 2, K + h + 1
    if lo == 0:
        Q = cp.Variable((K + h, K + h), symmetric=True)
        T = difference_map(K, h)
        P = T.T @ Q @ T
    else:
        Q = None
        P = cp.Variable((nz, nz), symmetric=True)
    a = cp.Variable(h + 1, nonneg=True)
    lam = {p: cp.Variable(nonneg=True) for p in pairs(h)}
    c = cp.Variable()
    eg = [np.eye(nz)[K + j] for j in range(h + 1)]          # g_{t-h+j}
    bound = P + sum(a[h - j] / 2 * np.outer(eg[j], eg[j]) for j in range(h + 1)) \
        - a[0] / 4 * np.outer(eg[h], eg[h])
    cons = [bound >> 0, cp.sum(a) <= 1, cp.norm(P, "fro") <= 10]
    a_rows, lam_rows = f_coefficient_rows(h)
    for i in range(h + 2):
        cons.append(sum(a_rows[i][j] * a[j] for j in range(h + 1))
                    + sum(s * lam[p] for p, s in lam_rows[i].items()) == 0)
    base = ([np.zeros(K)] if lo == 0 else [lo * v for v in verts]) + [hi * v for v in verts]
    kernel = np.linalg.svd(np.ones((1, n)))[2][1:].T          # complement of the steady state
    for combo in itertools.product(range(len(base)), repeat=h + 1):
        model = window_model(K, h, [base[i] for i in combo])
        C = (model["Z1"].T @ P @ model["Z1"] - model["Z0"].T @ P @ model["Z0"]
             + c * float(base[combo[-1]].sum()) * np.outer(model["G"][h], model["G"][h]))
        for p in pairs(h):
            C = C - lam[p] * interpolation_matrix(model, *p)
        C = (C + C.T) / 2
        if lo == 0 and not any(combo):
            cons.append(-(kernel.T @ C @ kernel) >> margin * np.eye(n - 1))
        else:
            cons.append(-C >> margin * np.eye(n))
    problem = cp.Problem(cp.Maximize(c), cons)
    status = _solve(problem, solver)
    if status != "optimal" or c.value is None or c.value <= 0:
        return {"status": status, "solution": None}
    return {"status": status, "solution": {
        "Q": None if Q is None else Q.value, "P": None if Q is not None else P.value,
        "a": a.value, "lam": {p: v.value for p, v in lam.items()}, "c": float(c.value)}}


def rationalise_band(K: int, h: int, lo: Fraction, hi: Fraction, sol: dict,
                     denominator: int = DENOMINATOR) -> dict:
    """Exact band candidate from a float solution: P (or T^T Q T) and the multipliers rounded,
    the a_j solved exactly from the function-value equalities, c rounded down (the candidate
    still has to pass :func:`check_band`)."""
    if sol["Q"] is not None:
        Qr = [[round_fraction((sol["Q"][i, j] + sol["Q"][j, i]) / 2, denominator)
               for j in range(K + h)] for i in range(K + h)]
        T = [[Fraction(int(v)) for v in row] for row in difference_map(K, h)]
        nz = K + h + 1
        P = [[sum(T[r][i] * Qr[r][s] * T[s][j] for r in range(K + h) for s in range(K + h))
              for j in range(nz)] for i in range(nz)]
    else:
        Pf = sol["P"]
        P = [[round_fraction((Pf[i, j] + Pf[j, i]) / 2, denominator) for j in range(len(Pf))]
             for i in range(len(Pf))]
    lam = {p: max(Fraction(0), round_fraction(v, denominator)) for p, v in sol["lam"].items()}
    a_rows, lam_rows = f_coefficient_rows(h)
    a = [None] * (h + 1)
    npts = h + 2
    # row npts-1 holds a_0 only; row npts-1-j holds a_j (+) and a_{j-1} (-)
    for j in range(h + 1):
        row = npts - 1 - j
        rest = sum(s * lam[p] for p, s in lam_rows[row].items())
        rest += sum(a_rows[row][i] * a[i] for i in range(j) if a_rows[row][i])
        a[j] = -rest / a_rows[row][j]
    c = Fraction(math.floor(sol["c"] * (1 - 1e-3) * denominator), denominator)
    return {"h": h, "eta_lo": lo, "eta_hi": hi, "P": P, "a": a, "lam": lam, "c": c}


# ----------------------------------------------------------------------------- exact verification

def check_band(K: int, band: dict, vertices) -> dict:
    """Exact verification of one band; returns ``{"ok": bool, "reason": str, "matrices": n}``."""
    h, lo, hi = band["h"], band["eta_lo"], band["eta_hi"]
    P, a, lam, c = band["P"], band["a"], band["lam"], band["c"]
    nz = K + h + 1

    def fail(reason):
        return {"ok": False, "reason": reason, "matrices": 0}

    if not (0 <= lo < hi):
        return fail("need 0 <= eta_lo < eta_hi")
    if len(P) != nz or any(len(row) != nz for row in P):
        return fail(f"P must be {nz}x{nz}")
    if any(P[i][j] != P[j][i] for i in range(nz) for j in range(i)):
        return fail("P not symmetric")
    if len(a) != h + 1 or any(x < 0 for x in a) or a[0] <= 0:
        return fail("need a_j >= 0 and a_0 > 0")
    if set(lam) != set(pairs(h)) or any(v < 0 for v in lam.values()):
        return fail("need one multiplier >= 0 per ordered pair")
    if c <= 0:
        return fail("need c > 0")
    a_rows, lam_rows = f_coefficient_rows(h)
    for i in range(h + 2):
        if (sum(a_rows[i][j] * a[j] for j in range(h + 1))
                + sum(s * lam[p] for p, s in lam_rows[i].items())) != 0:
            return fail(f"function-value coefficient of point {i} is not exactly zero")
    bound = [row[:] for row in P]
    for j in range(h + 1):
        bound[K + j][K + j] += a[h - j] / 2
    bound[K + h][K + h] -= a[0] / 4
    if not is_psd_exact(bound):
        return fail("V >= a_0 |g_t|^2 / 4 not proved (matrix not PSD)")
    Pm = np.array(P, dtype=object)
    base = band_step_vectors(lo, hi, vertices)
    count = 0
    for combo in itertools.product(range(len(base)), repeat=h + 1):
        us = [base[i] for i in combo]
        model = window_model(K, h, us, exact=True)
        g = model["G"][h]
        C = (model["Z1"].T.dot(Pm).dot(model["Z1"]) - model["Z0"].T.dot(Pm).dot(model["Z0"])
             + c * sum(us[-1]) * np.outer(g, g))
        for p in pairs(h):
            C = C - lam[p] * interpolation_matrix(model, *p)
        count += 1
        if not is_psd_exact((-C).tolist()):
            return {"ok": False, "reason": f"vertex {combo}: -C(u) not PSD", "matrices": count}
    return {"ok": True, "reason": "", "matrices": count}


def find_band(K: int, h: int, lo, hi, polytope: dict) -> Optional[dict]:
    """Solve, rationalise and verify one band; ``None`` if no certificate passes the exact check.
    Clarabel first; SCS only if Clarabel errs or reports an inaccurate solution (an answer of
    "infeasible" is taken as: no certificate of this form)."""
    lo, hi = as_fraction(lo), as_fraction(hi)
    for solver in SOLVERS:
        out = solve_band(K, h, lo, hi, polytope["vertices"], solver=solver)
        sol = out["solution"]
        if sol is not None:
            band = rationalise_band(K, h, lo, hi, sol)
            if check_band(K, band, polytope["vertices"])["ok"]:
                band["solver"] = solver
                return band
        if out["status"] in ("infeasible", "unbounded", "optimal"):
            return None
    return None


def largest_band(K: int, h: int, lo, polytope: dict, top: float = 12.0, iters: int = 10,
                 grid: int = 1000) -> Optional[dict]:
    r"""Bisection for the largest :math:`\eta_{hi}` (a multiple of ``1/grid``) with a verified band
    certificate :math:`[\eta_{lo}, \eta_{hi}]`; returns that band's certificate."""
    lo = as_fraction(lo)
    a, b = float(lo), float(top)
    best = None
    for _ in range(iters):
        mid = Fraction(math.floor((a + b) / 2 * grid), grid)
        if mid <= lo:
            break
        band = find_band(K, h, lo, mid, polytope)
        if band is not None:
            best, a = band, float(mid)
        else:
            b = float(mid)
    return best


def certificate_chain(K: int, tau=1, *, polytope_kind: str = "curve", h0: int = 1, h: int = 0,
                      max_bands: int = 8, min_gain: float = 0.02, top: float = 12.0,
                      iters: int = 10) -> dict:
    r"""Band 0 (:math:`[0, \eta_{cert}]`, window ``h0``) and then bands (window ``h``) each starting
    at the previous top, until the gain is below ``min_gain`` (relative) or ``max_bands``."""
    polytope = weight_polytope(K, tau, polytope_kind)
    started = time.perf_counter()
    bands = []
    first = largest_band(K, h0, 0, polytope, top=min(top, 4.0), iters=iters)
    if first is not None:
        bands.append(first)
        while len(bands) < max_bands:
            lo = bands[-1]["eta_hi"]
            nxt = largest_band(K, h, lo, polytope, top=top, iters=iters)
            if nxt is None or nxt["eta_hi"] <= lo * (1 + Fraction(min_gain).limit_denominator()):
                if nxt is not None:
                    bands.append(nxt)
                break
            bands.append(nxt)
    return certificate_record(K, polytope, bands, seconds=time.perf_counter() - started)


# ----------------------------------------------------------------------------- records

def certificate_record(K: int, polytope: dict, bands: list, seconds: float = 0.0) -> dict:
    """JSON-ready record (exact rationals as ``"p/q"`` strings)."""
    def band_json(b):
        return {"h": b["h"], "eta_lo": fraction_str(b["eta_lo"]),
                "eta_hi": fraction_str(b["eta_hi"]),
                "P": [[fraction_str(v) for v in row] for row in b["P"]],
                "a": [fraction_str(v) for v in b["a"]],
                "lam": {f"{i},{j}": fraction_str(v) for (i, j), v in sorted(b["lam"].items())},
                "c": fraction_str(b["c"]), "solver": b.get("solver", "")}
    return {
        "kind": RECORD_KIND, "K": K, "tau": fraction_str(polytope["tau"]), "L": 1,
        "polytope": {"kind": polytope["kind"],
                     "ratio_upper": (None if polytope["ratio_upper"] is None
                                     else fraction_str(polytope["ratio_upper"])),
                     "vertices": [[fraction_str(v) for v in vert]
                                  for vert in polytope["vertices"]]},
        "bands": [band_json(b) for b in bands],
        "eta_cert": fraction_str(bands[0]["eta_hi"]) if bands else None,
        "eta_const": fraction_str(bands[-1]["eta_hi"]) if bands else None,
        "search_seconds": round(seconds, 1),
        "statement": ("L = 1 (scale: eta L). Band 0 [0, eta_cert]: every step sequence in it and "
                      "every weight sequence in the polytope give sum_t c eta_t |g_t|^2 <= V and "
                      "g_t -> 0 when sum eta_t = inf; band [lo, hi]: every step sequence inside it"
                      " (so every constant step up to eta_const)."),
    }


def _parse_band(b: dict) -> dict:
    lam = {}
    for key, v in b["lam"].items():
        i, j = (int(s) for s in key.split(","))
        lam[(i, j)] = as_fraction(v)
    return {"h": int(b["h"]), "eta_lo": as_fraction(b["eta_lo"]),
            "eta_hi": as_fraction(b["eta_hi"]),
            "P": [[as_fraction(v) for v in row] for row in b["P"]],
            "a": [as_fraction(v) for v in b["a"]], "lam": lam, "c": as_fraction(b["c"])}


def verify_record(record: dict) -> dict:
    """Re-verify a stored certificate record from scratch; details per band and the timing."""
    started = time.perf_counter()
    out = {"ok": False, "bands": [], "reason": ""}
    try:
        if record.get("kind") != RECORD_KIND:
            raise ValueError(f"record kind must be {RECORD_KIND!r}")
        K = check_int("K", record["K"], 1)
        spec = record["polytope"]
        polytope = weight_polytope(K, as_fraction(record["tau"]), spec["kind"],
                                   ratio_upper=spec["ratio_upper"])
        stored = [[as_fraction(v) for v in vert] for vert in spec["vertices"]]
        if stored != polytope["vertices"]:
            raise ValueError("stored vertices differ from the polytope's")
        if not polytope_contains_curve(polytope, K):
            raise ValueError("ratio bound below e^(1/(K tau)): polytope may miss the curve")
        bands = [_parse_band(b) for b in record["bands"]]
        if not bands or bands[0]["eta_lo"] != 0:
            raise ValueError("the first band must start at eta = 0")
        for prev, nxt in zip(bands, bands[1:]):
            if nxt["eta_lo"] > prev["eta_hi"]:
                raise ValueError("bands leave a gap")
        if as_fraction(record["eta_cert"]) != bands[0]["eta_hi"] or \
                as_fraction(record["eta_const"]) != max(b["eta_hi"] for b in bands):
            raise ValueError("eta_cert / eta_const do not match the bands")
        ok = True
        for b in bands:
            res = check_band(K, b, polytope["vertices"])
            out["bands"].append(res)
            ok = ok and res["ok"]
            if not ok:
                out["reason"] = res["reason"]
                break
        out["ok"] = ok
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        out["reason"] = f"malformed record: {exc}"
    out["seconds"] = time.perf_counter() - started
    return out


def verify_certificate(record: dict) -> bool:
    """Yes or no: the record is a valid exact certificate (:func:`verify_record`)."""
    return bool(verify_record(record)["ok"])


def load_certificates(path=CERTIFICATE_FILE) -> list[dict]:
    """The stored per-K certificate records."""
    return json.loads(Path(path).read_text())["certificates"]


def build_and_store(Ks=(1, 2, 3), tau=1, path=CERTIFICATE_FILE, **kwargs) -> list[dict]:
    """Search the chains for ``Ks`` and write them (with the rate certificates) as JSON."""
    records = [certificate_chain(K, tau, **kwargs) for K in Ks]
    path = Path(path)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["certificates"] = records
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, dumps(data))
    return records


def certificate_summary(records=None) -> dict:
    """Per K: eta_cert, eta_const, bands, and the verification result and time (JSON-ready)."""
    records = load_certificates() if records is None else records
    rows = []
    for rec in records:
        res = verify_record(rec)
        rows.append({"K": rec["K"], "tau": rec["tau"], "polytope": rec["polytope"]["kind"],
                     "eta_cert": float(as_fraction(rec["eta_cert"])),
                     "eta_const": float(as_fraction(rec["eta_const"])),
                     "eta_cert_exact": rec["eta_cert"], "eta_const_exact": rec["eta_const"],
                     "bands": [[float(as_fraction(b["eta_lo"])), float(as_fraction(b["eta_hi"])),
                                b["h"]] for b in rec["bands"]],
                     "verified": res["ok"], "verify_seconds": round(res["seconds"], 3),
                     "matrices_checked": sum(b["matrices"] for b in res["bands"])})
    return {"L": 1, "rows": rows}


# ----------------------------------------------------------------------------- strongly convex

RATE_PAIRS = [("0", "1"), ("1", "0"), ("1", "s"), ("s", "1"), ("0", "s"), ("s", "0")]
STRONG_PAIRS = (("0", "s"), ("s", "0"))   # the u-free pairs where strong convexity is used


def rate_model(K: int, u, exact: bool = False) -> dict:
    r"""Rows over :math:`e = (x_t - x^\star, m^{(1..K)}_{t-1}, g_t, g_{t+1})` of the points and
    gradients of :math:`x^\star = 0, x_t, x_{t+1}`, and :math:`Z_0, Z_1` for
    :math:`z = (x - x^\star, m, g)`."""
    n = K + 3
    E = _eye(n, exact)
    b = exact_betas(K) if exact else [1 - 2.0**-k for k in range(1, K + 1)]
    X0, G0, G1 = E[0], E[K + 1], E[K + 2]
    Mn = [b[k] * E[1 + k] + (1 - b[k]) * G0 for k in range(K)]
    X1 = X0.copy()
    for k in range(K):
        X1 = X1 - u[k] * Mn[k]
    zero = X0 * 0
    return {"pts": {"s": (zero, zero), "0": (X0, G0), "1": (X1, G1)},
            "Z0": np.array([X0] + [E[1 + k] for k in range(K)] + [G0]),
            "Z1": np.array([X1] + Mn + [G1])}


def rate_pair_matrix(model: dict, pair, mu):
    r"""Gram part of the interpolation inequality of ``pair``: :math:`\mu`-strongly convex for
    the pairs of ``STRONG_PAIRS``, convex 1-smooth otherwise."""
    i, j = pair
    xi, gi = model["pts"][i]
    xj, gj = model["pts"][j]
    if pair not in STRONG_PAIRS:
        return _sym(gj, xi - xj) + np.outer(gi - gj, gi - gj) / 2
    dx, dg = xi - xj, gi - gj
    return (_sym(gj, xi - xj)
            + (np.outer(dg, dg) + mu * np.outer(dx, dx) - 2 * mu * _sym(gj - gi, xj - xi))
            / (2 * (1 - mu)))


def _rate_f_rows():
    """Function-value coefficients (points '0', '1') of each multiplier (f* = 0 drops out)."""
    rows = {"0": {}, "1": {}}
    for (i, j) in RATE_PAIRS:
        if j != "s":
            rows[j][(i, j)] = rows[j].get((i, j), 0) - 1
        if i != "s":
            rows[i][(i, j)] = rows[i].get((i, j), 0) + 1
    return rows


def solve_rate(K: int, eta, mu, rho, vertices, solver: str = "CLARABEL",
               margin: float = SDP_MARGIN) -> dict:
    """Float SDP of the rate condition at one ``rho``."""
    cp = import_cvxpy()

    n = K + 3
    P = cp.Variable((K + 2, K + 2), symmetric=True)
    a = cp.Variable(nonneg=True)
    lam = {p: cp.Variable(nonneg=True) for p in RATE_PAIRS}
    cons = [P >> margin * np.eye(K + 2), a + cp.trace(P) == 1]
    rows = _rate_f_rows()
    cons.append(a + sum(s * lam[p] for p, s in rows["1"].items()) == 0)
    cons.append(-rho * a + sum(s * lam[p] for p, s in rows["0"].items()) == 0)
    for vert in vertices:
        model = rate_model(K, [float(eta) * float(v) for v in vert])
        C = model["Z1"].T @ P @ model["Z1"] - rho * (model["Z0"].T @ P @ model["Z0"])
        for p in RATE_PAIRS:
            C = C - lam[p] * rate_pair_matrix(model, p, float(mu))
        cons.append(-(C + C.T) / 2 >> margin * np.eye(n))
    problem = cp.Problem(cp.Minimize(0), cons)
    status = _solve(problem, solver)
    if status != "optimal":
        return {"status": status, "solution": None}
    return {"status": status, "solution": {"P": P.value, "a": float(a.value),
                                           "lam": {p: float(v.value) for p, v in lam.items()}}}


def check_rate(K: int, cert: dict, vertices) -> dict:
    """Exact verification of a rate certificate (``P``, ``a``, ``lam``, ``rho``, ``eta``,
    ``mu``, exact)."""
    P, a, lam, rho, eta, mu = (cert[k] for k in ("P", "a", "lam", "rho", "eta", "mu"))
    if not (0 < mu < 1 and 0 < rho < 1 and eta > 0 and a >= 0):
        return {"ok": False, "reason": "need 0 < mu < 1, 0 < rho < 1, eta > 0, a >= 0"}
    if set(lam) != set(RATE_PAIRS) or any(v < 0 for v in lam.values()):
        return {"ok": False, "reason": "need one multiplier >= 0 per pair"}
    rows = _rate_f_rows()
    if a + sum(s * lam[p] for p, s in rows["1"].items()) != 0 or \
            -rho * a + sum(s * lam[p] for p, s in rows["0"].items()) != 0:
        return {"ok": False, "reason": "function-value coefficients not exactly zero"}
    if not is_psd_exact(P) or (a == 0 and all(v == 0 for row in P for v in row)):
        return {"ok": False, "reason": "P not PSD (or V = 0)"}
    Pm = np.array(P, dtype=object)
    for vert in vertices:
        model = rate_model(K, [eta * v for v in vert], exact=True)
        C = model["Z1"].T.dot(Pm).dot(model["Z1"]) - rho * model["Z0"].T.dot(Pm).dot(model["Z0"])
        for p in RATE_PAIRS:
            C = C - lam[p] * rate_pair_matrix(model, p, mu)
        if not is_psd_exact((-C).tolist()):
            return {"ok": False, "reason": f"vertex {vert}: -C not PSD"}
    return {"ok": True, "reason": ""}


def rationalise_rate(sol: dict, K: int, eta, mu, rho) -> dict:
    """Round P and the multipliers; a solved from the f_{t+1} equality and lam(s,0) from the f_t
    one (exactly)."""
    Pf = sol["P"]
    P = [[round_fraction((Pf[i, j] + Pf[j, i]) / 2) for j in range(K + 2)] for i in range(K + 2)]
    lam = {p: max(Fraction(0), round_fraction(v)) for p, v in sol["lam"].items()}
    rows = _rate_f_rows()
    a = -sum(s * lam[p] for p, s in rows["1"].items())
    others = sum(s * lam[p] for p, s in rows["0"].items() if p != ("s", "0"))
    lam[("s", "0")] = others - rho * a      # lam(s,0) enters the f_t row with coefficient -1
    return {"P": P, "a": a, "lam": lam, "rho": rho, "eta": eta, "mu": mu}


def rate_certificate(K: int, eta=1, mu=Fraction(1, 10), tau=1, polytope_kind: str = "curve",
                     iters: int = 12) -> Optional[dict]:
    r"""Smallest :math:`\rho` (bisection, multiples of 1/10^4) with an exactly verified certificate
    :math:`V_{t+1} \le \rho V_t` for constant step ``eta`` (times 1/L), every weight sequence in the
    polytope, every :math:`\mu`-strongly convex 1-smooth :math:`f` (``mu`` = :math:`\mu/L`)."""
    eta, mu = as_fraction(eta), as_fraction(mu)
    polytope = weight_polytope(K, tau, polytope_kind)
    lo, hi, best = 0.0, 1.0, None
    for _ in range(iters):
        rho = Fraction(math.ceil((lo + hi) / 2 * 10**4), 10**4)
        if rho >= 1:
            break
        found = None
        for solver in SOLVERS:
            out = solve_rate(K, eta, mu, float(rho), polytope["vertices"], solver=solver)
            if out["solution"] is not None:
                cert = rationalise_rate(out["solution"], K, eta, mu, rho)
                if check_rate(K, cert, polytope["vertices"])["ok"]:
                    found = cert
            if found is not None or out["status"] in ("infeasible", "optimal"):
                break
        if found is not None:
            best, hi = found, float(rho)
        else:
            lo = float(rho)
    if best is None:
        return None
    return rate_record(K, polytope, best)


def rate_record(K: int, polytope: dict, cert: dict) -> dict:
    return {"kind": RATE_KIND, "K": K, "tau": fraction_str(polytope["tau"]), "L": 1,
            "polytope": {"kind": polytope["kind"],
                         "ratio_upper": (None if polytope["ratio_upper"] is None
                                         else fraction_str(polytope["ratio_upper"]))},
            "eta": fraction_str(cert["eta"]), "mu": fraction_str(cert["mu"]),
            "rho": fraction_str(cert["rho"]),
            "P": [[fraction_str(v) for v in row] for row in cert["P"]],
            "a": fraction_str(cert["a"]),
            "lam": {f"{i},{j}": fraction_str(v) for (i, j), v in cert["lam"].items()}}


def verify_rate_record(record: dict) -> bool:
    """Yes or no: a stored rate record is an exact certificate of V_{t+1} <= rho V_t."""
    try:
        if record.get("kind") != RATE_KIND:
            return False
        K = check_int("K", record["K"], 1)
        spec = record["polytope"]
        polytope = weight_polytope(K, as_fraction(record["tau"]), spec["kind"],
                                   ratio_upper=spec["ratio_upper"])
        if not polytope_contains_curve(polytope, K):
            return False
        lam = {tuple(k.split(",")): as_fraction(v) for k, v in record["lam"].items()}
        cert = {"P": [[as_fraction(v) for v in row] for row in record["P"]],
                "a": as_fraction(record["a"]), "lam": lam, "rho": as_fraction(record["rho"]),
                "eta": as_fraction(record["eta"]), "mu": as_fraction(record["mu"])}
        return bool(check_rate(K, cert, polytope["vertices"])["ok"])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return False


def pep_rate(K: int, eta: float, mu: float, which: str = "uniform", n1: int = 6,
             n2: int = 12) -> Optional[float]:
    r"""PEPit's worst-case rate of linear EMC with frozen weights on :math:`\mu`-strongly convex
    1-smooth functions: :math:`(w(n_2)/w(n_1))^{1/(n_2-n_1)}`, :math:`w(N) = \max f(x_N) - f_\star`
    over :math:`\|x_0 - x^\star\| \le 1` (None without PEPit)."""
    from emc_theory import cascade_weights

    from .pep_emc import pepit_status, sdp_solver

    if not pepit_status()[0]:
        return None
    import_cvxpy()
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    alpha = cascade_weights(0.0 if which == "uniform" else 1.0, K)
    betas = [1 - 2.0**-k for k in range(1, K + 1)]

    def worst(N):
        problem = PEP()
        f = problem.declare_function(SmoothStronglyConvexFunction, mu=mu, L=1.0)
        x_star = f.stationary_point()
        x = problem.set_initial_point()
        problem.set_initial_condition((x - x_star) ** 2 <= 1)
        m = [None] * K
        for _ in range(N):
            g = f.gradient(x)
            m = [(1 - b) * g if mk is None else b * mk + (1 - b) * g for b, mk in zip(betas, m)]
            agg = alpha[0] * m[0]
            for a_k, mk in zip(alpha[1:], m[1:]):
                agg = agg + a_k * mk
            x = x - eta * agg
        problem.set_performance_metric(f(x) - f(x_star))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return problem.solve(wrapper="cvxpy", solver=sdp_solver(), verbose=0)

    return float((worst(n2) / worst(n1)) ** (1.0 / (n2 - n1)))


def quadratic_rate(K: int, eta: float, mu: float, which: str = "uniform") -> float:
    r"""Lower bound of the frozen-weight worst rate of :math:`f - f_\star`: the largest
    :math:`\rho(M(\eta\lambda))^2` over curvatures :math:`\lambda \in [\mu, 1]` (quadratics; the
    companion matrix of :mod:`proofs.linear_stability`, 2001 curvatures)."""
    from emc_theory import cascade_weights

    from .linear_stability import companion_matrix

    alpha = cascade_weights(0.0 if which == "uniform" else 1.0, K)
    lams = np.linspace(mu, 1.0, 2001)
    mats = companion_matrix(K, np.broadcast_to(alpha, (lams.size, K)), eta * lams)
    return float(np.max(np.abs(np.linalg.eigvals(mats))) ** 2)


def build_rates(Ks=(1, 2, 3), eta=1, mu=Fraction(1, 10), path=CERTIFICATE_FILE) -> list[dict]:
    """Rate certificates and, beside them, PEPit's frozen-weight rates and the quadratic lower
    bounds; stored with the certificates."""
    rows = []
    for K in Ks:
        rec = rate_certificate(K, eta, mu)
        if rec is None:
            continue
        rec["pep_rate"] = {w: pep_rate(K, float(eta), float(mu), w, 10, 20)
                           for w in ("uniform", "top")}
        rec["quadratic_rate"] = {w: quadratic_rate(K, float(eta), float(mu), w)
                                 for w in ("uniform", "top")}
        rows.append(rec)
    path = Path(path)
    data = json.loads(path.read_text()) if path.exists() else {}
    data["rates"] = rows
    write_text(path, dumps(data))
    return rows


def rate_summary(records=None) -> dict:
    """Per K: certified rate rho (exact and float), PEPit's frozen-weight rates, the quadratic
    lower bounds and whether the stored certificate verifies (JSON-ready)."""
    if records is None:
        records = json.loads(CERTIFICATE_FILE.read_text()).get("rates", [])
    return {"L": 1, "rows": [
        {"K": r["K"], "eta": r["eta"], "mu": r["mu"], "rho": r["rho"],
         "rho_float": float(as_fraction(r["rho"])), "pep_rate": r.get("pep_rate"),
         "quadratic_rate": r.get("quadratic_rate"), "verified": verify_rate_record(r)}
        for r in records]}
