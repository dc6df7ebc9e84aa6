"""The sympy derivations (``proofs``) against the NumPy core and against independent arithmetic.

Symbolic expressions are turned into functions (``lambdify``) and compared with the core at
seeded random points, as sympy's ``verify_numerically`` does; exact claims are checked by
recomputing them another way (closed forms written here, finite differences, eigenvalues, plain
recursions, the EMC optimizer itself).
"""
import json
import re
import shutil
import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

import proofs
from emc_theory import (
    EMC,
    cascade_weights,
    effective_memory,
    entropy_power,
    gradient_entropy,
    level_timescales,
    normalized_entropy,
)
from emc_theory.entropy import gradient_weights
from emc_theory.render import ACRONYMS, derivation_latex
from proofs import effective_memory as em
from proofs import entropy_bounds as eb
from proofs import gamma_range as gr
from proofs import linear_stability as ls
from proofs import softmax_limits as sl
from proofs.derivation import (
    HT,
    STATUSES,
    TAU,
    Derivation,
    ResultItem,
    decide_zero,
    decided_status,
    sign_of,
)

RNG_SEED = 20240611


@pytest.fixture(scope="module")
def derivs():
    """Every derivation, run once for the module."""
    return proofs.run_all()


def values(derivs, name):
    return {key: item.value for key, item in derivs[name].results.items()}


def rng():
    return np.random.default_rng(RNG_SEED)


# --- the machinery ---------------------------------------------------------------------------

def test_decide_zero_true_false_and_undecided():
    x = sp.Symbol("x", real=True)
    f, g = sp.Function("f"), sp.Function("g")
    assert decide_zero((x + 1)**2 - x**2 - 2 * x - 1) is True
    assert decide_zero(sp.sin(x)**2 + sp.cos(x)**2 - 1) is True
    assert decide_zero(x - 1) is False
    assert decide_zero(sp.pi - sp.Rational(355, 113)) is False
    # nothing is known about f and g: sympy cannot decide, and the machinery says so
    undecided = decide_zero(f(x) - g(x))
    assert undecided is None
    assert decided_status([True, undecided]) == "undecided"
    assert decided_status([True, True]) == "proved"
    with pytest.raises(ArithmeticError):
        decided_status([True, False])
    item = ResultItem.of(f(x) - g(x), None, decided_status([undecided]), "unknown functions")
    assert item.to_json()["status"] == "undecided"


def test_sign_of_is_certified():
    assert sign_of(sp.pi - sp.Rational(355, 113)) == "-"        # 355/113 exceeds pi by 2.7e-7
    assert sign_of(sp.E - sp.Rational(2718281, 1000000)) == "+"
    assert sign_of(sp.sqrt(2) * sp.sqrt(3) - sp.sqrt(6)) == "0"
    assert sign_of(sp.Symbol("y", positive=True) + 1) == "+"


def test_result_item_rejects_bad_status_and_values():
    with pytest.raises(ValueError, match="status"):
        ResultItem(None, "", 1.0, "maybe")
    with pytest.raises(ValueError):
        ResultItem(None, "", float("nan"), "computed")
    with pytest.raises(TypeError):
        ResultItem(None, "", {1, 2}, "computed")


def test_registry_and_bad_names():
    assert set(proofs.DERIVATIONS) == set(proofs.NAMES)
    with pytest.raises(ValueError, match="derivation name"):
        proofs.run_all(["no_such_derivation"])


def test_every_derivation_is_well_formed(derivs):
    assert set(derivs) == set(proofs.NAMES)
    for name, d in derivs.items():
        assert isinstance(d, Derivation) and d.name == name and d.results
        data = json.loads(json.dumps(d.to_json(), allow_nan=False))
        assert data["name"] == name
        for key, item in data["results"].items():
            assert item["status"] in STATUSES, (name, key)
            assert set(item) == {"expr", "latex", "value", "status", "note"}
        tex = d.to_latex()
        assert r"\section" not in tex and r"\subsection" not in tex
        for env in ("itemize",):
            assert tex.count(rf"\begin{{{env}}}") == tex.count(rf"\end{{{env}}}")
        assert tex.count("{") == tex.count("}")


def test_write_outputs_is_deterministic(derivs, tmp_path):
    first = (tmp_path / "a.json", tmp_path / "a.tex")
    second = (tmp_path / "b" / "b.json", tmp_path / "b" / "b.tex")
    proofs.write_outputs(derivs, *first)
    proofs.write_outputs(dict(reversed(list(derivs.items()))), *second)
    assert first[0].read_bytes() == second[0].read_bytes()
    assert first[1].read_bytes() == second[1].read_bytes()
    data = json.loads(first[0].read_text())
    assert list(data) == sorted(data)


def test_cli_writes_outputs(tmp_path):
    json_path, tex_path = tmp_path / "d.json", tmp_path / "d.tex"
    cmd = [sys.executable, "-m", "proofs", "gamma_range", "--json", str(json_path),
           "--tex", str(tex_path)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    data = json.loads(json_path.read_text())
    assert list(data) == ["gamma_range"]
    assert data["gamma_range"]["results"]["range"]["value"] == [1, 2]
    assert tex_path.read_text().count(r"\paragraph{") == 1
    bad = subprocess.run([sys.executable, "-m", "proofs", "nope"], capture_output=True,
                         timeout=120)
    assert bad.returncode != 0 and b"unknown derivation" in bad.stderr


TYPESET = ("effective_memory", "lion_information", "momentum_path", "entropy_gap",
           "entropy_gap_tight")
"""Derivations whose results display the statement proved and whose words are plain prose."""
TRUTH_VALUES = {r"\text{True}", r"\text{False}", "True", "False"}


def test_latex_is_the_renderers(derivs):
    """``to_latex`` is :func:`emc_theory.render.derivation_latex` of the record: formulas in
    math mode, never the ASCII of the plain text."""
    for name, d in derivs.items():
        tex = d.to_latex()
        assert tex == derivation_latex(d.to_json()), name
        assert r"\textasciicircum" not in tex and "**" not in tex, name


@pytest.mark.parametrize("name", TYPESET)
def test_results_display_the_statement_proved(derivs, name):
    d = derivs[name]
    for key, item in d.results.items():
        assert item.latex.strip() not in TRUTH_VALUES, (name, key)
    for text in [d.title, d.statement] + [item.note for item in d.results.values()]:
        assert "KEY FINDING" not in text, (name, text)
        shouted = set(re.findall(r"\b[A-Z]{3,}\b", text)) - ACRONYMS - {"LN1", "DL1", "EG1"}
        assert not shouted, (name, shouted, text)
    data = d.to_json()
    assert data["title_tex"].count("$") % 2 == 0 and data["statement_tex"].count("$") % 2 == 0


def test_the_identities_once_shown_as_true_are_displayed():
    r"""The three results whose sympy equation evaluates to ``True`` display the identity:
    the timescale :math:`1/(1-\beta_k) = 2^k`, the cancelled Jacobian giving
    :math:`I(T;Y) = I(X;Y)`, heavy ball divided by :math:`\gamma` equal to the ODE."""
    from proofs import lion_information, momentum_path

    memory = em.derive().results["larger_k_longer_memory"].latex
    assert r"\beta_k" in memory and "2^{k}" in memory
    jacobian = lion_information.derive().results["jacobian_cancels"].latex
    assert r"x'(t)" in jacobian and "I(T;Y) = I(X;Y)" in jacobian
    ode = momentum_path.derive().results["limit_is_ode"].latex
    assert r"\ddot W" in ode and r"\nabla F(W)" in ode and r"O(1-\beta)" in ode


def test_latex_forms_are_written_only_when_set():
    plain = Derivation("n", "a title", "a statement", {"r": ResultItem(None, "x", 1, "proved")})
    assert not {"title_tex", "statement_tex"} & set(plain.to_json())
    typeset = Derivation("n", "a title", "a statement", dict(plain.results), title_tex="$T$",
                         statement_tex="$S$")
    assert (typeset.to_json()["title_tex"], typeset.to_json()["statement_tex"]) == ("$T$", "$S$")
    assert r"\paragraph{$T$}" in typeset.to_latex() and "$S$" in typeset.to_latex()


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not installed")
def test_latex_fragment_compiles(derivs, tmp_path):
    proofs.write_outputs(derivs, tmp_path / "d.json", tmp_path / "derivations.tex")
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\n\\usepackage{amsmath,amssymb,booktabs}\n"
        "\\begin{document}\n\\input{derivations.tex}\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "main.tex"],
                         cwd=tmp_path, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stdout.decode(errors="replace")[-2000:]
    assert (tmp_path / "main.pdf").exists()


# --- softmax_limits ---------------------------------------------------------------------------

def test_symbolic_weights_match_core_at_random_points():
    r = rng()
    for K in sl.K_RANGE:
        f = sp.lambdify((HT, TAU), sl.softmax_weights(K), "numpy")
        ht, tau = r.uniform(0, 1, 20), r.uniform(0.05, 5, 20)
        for h, t in zip(ht, tau):
            np.testing.assert_allclose(f(h, t), cascade_weights(h, K, t), rtol=1e-12)


def test_symbolic_k_closed_form_matches_core(derivs):
    closed = derivs["softmax_limits"].results["weights_symbolic_K"].expr.rhs
    f = sp.lambdify((sl.K_SYM, sl.k_SYM, HT, TAU), closed, "numpy")
    r = rng()
    for K in range(2, 12):
        h, t = r.uniform(0.01, 1), r.uniform(0.1, 3)
        np.testing.assert_allclose([f(K, k, h, t) for k in range(1, K + 1)],
                                   cascade_weights(h, K, t), rtol=1e-12)


def test_weights_at_ht_one_and_ratio(derivs):
    v = values(derivs, "softmax_limits")
    for K, alphas in v["weights_at_Ht_1_tau_1"]:
        np.testing.assert_allclose(alphas, cascade_weights(1.0, K), rtol=1e-14)
    for K, a1, aK, ratio in v["alpha_1_alpha_K_at_Ht_1"]:
        w = cascade_weights(1.0, K)
        np.testing.assert_allclose([a1, aK, ratio], [w[0], w[-1], w[-1] / w[0]], rtol=1e-14)
        assert ratio == pytest.approx(np.exp((K - 1) / K), rel=1e-14) and ratio < np.e
    symbolic_ratio = sp.lambdify((sl.K_SYM, TAU),
                                 derivs["softmax_limits"].results["ratio_K_to_1_at_Ht_1"].expr)
    for K, tau in [(3, 0.5), (7, 2.0)]:
        w = cascade_weights(1.0, K, tau)
        assert symbolic_ratio(K, tau) == pytest.approx(w[-1] / w[0], rel=1e-13)


def test_limits_against_core():
    for K in sl.K_RANGE:
        np.testing.assert_allclose(cascade_weights(0.0, K), np.full(K, 1 / K), rtol=1e-15)
        for ht in (0.2, 0.7, 1.0):
            one_hot = np.eye(K)[-1]
            np.testing.assert_allclose(cascade_weights(ht, K, tau=1e-4), one_hot, atol=1e-12)
            np.testing.assert_allclose(cascade_weights(ht, K, tau=1e9), np.full(K, 1 / K),
                                       rtol=1e-8)


def test_weight_derivatives_by_finite_differences(derivs):
    step = 1e-6
    signs = {K: (at0, at1) for K, at0, at1 in values(derivs, "softmax_limits")["sign_pattern_K2_8"]}
    for K in sl.K_RANGE:
        lam = np.arange(1, K + 1) / K
        for ht, expected in ((0.0, signs[K][0]), (1.0, signs[K][1])):
            fd = (cascade_weights(ht + step, K) - cascade_weights(ht - step, K)) / (2 * step)
            w = cascade_weights(ht, K)
            np.testing.assert_allclose(fd, w * (lam - w @ lam), atol=1e-9)
            for d, s in zip(fd, expected):
                assert (d > 1e-8, d < -1e-8, abs(d) < 1e-8)[("+", "-", "0").index(s)]
        grid = np.linspace(0, 1, 101)
        w = cascade_weights(grid, K)
        assert np.all(np.diff(w[:, 0]) < 0) and np.all(np.diff(w[:, -1]) > 0)


def test_softmax_statuses(derivs):
    results = derivs["softmax_limits"].results
    for key in ("limit_Ht_to_0_symbolic_K", "limit_tau_to_0_symbolic_K",
                "limit_tau_to_inf_symbolic_K", "derivative_identity_K2_8", "geometric_sum"):
        assert results[key].status == "proved", key
    assert decide_zero(results["limit_Ht_to_0_symbolic_K"].expr - 1 / sl.K_SYM)
    assert results["sign_d_alpha_1"].value == "-" and results["sign_d_alpha_K"].value == "+"


# --- effective_memory -------------------------------------------------------------------------

def test_memory_closed_form_matches_core():
    f = sp.lambdify((sl.K_SYM, HT, TAU),
                    em.T_CLOSED.subs(sl.R, sp.exp(HT / (sl.K_SYM * TAU))), "numpy")
    r = rng()
    for K in range(2, 12):
        for ht, tau in zip(r.uniform(0.01, 1, 5), r.uniform(0.1, 4, 5)):
            core = effective_memory(cascade_weights(ht, K, tau))
            assert f(K, ht, tau) == pytest.approx(core, rel=1e-11)


def test_memory_values_and_derivative(derivs):
    v = values(derivs, "effective_memory")
    for K, t0, t1, ratio in v["T_at_Ht_0_and_1_K2_8"]:
        assert t0 == pytest.approx((2**(K + 1) - 2) / K, rel=1e-15)
        assert t1 == pytest.approx(effective_memory(cascade_weights(1.0, K)), rel=1e-14)
        assert ratio == pytest.approx(t1 / t0, rel=1e-14) and ratio > 1
    r, step = rng(), 1e-6
    for K in sl.K_RANGE:
        cov = sp.lambdify((sl.R, TAU), em.covariance_form(K), "numpy")
        lam, c = np.arange(1, K + 1) / K, level_timescales(K)
        for ht, tau in zip(r.uniform(0, 1, 4), r.uniform(0.2, 3, 4)):
            w = cascade_weights(ht, K, tau)
            fd = (effective_memory(cascade_weights(ht + step, K, tau))
                  - effective_memory(cascade_weights(ht - step, K, tau))) / (2 * step)
            covariance = (w @ (lam * c) - (w @ lam) * (w @ c)) / tau
            assert fd == pytest.approx(covariance, rel=1e-6) and fd > 0
            assert cov(np.exp(ht / (K * tau)), tau) == pytest.approx(covariance, rel=1e-10)


def test_memory_key_finding(derivs):
    v = values(derivs, "effective_memory")
    assert v["dT_dHt_sign"] == "+" and v["memory_increasing_in_entropy"] is True
    assert v["larger_k_longer_memory"] is True and v["prop2_parenthetical_consistent"] is False
    assert v["low_entropy_favours_longer_memory"] is False
    assert np.all(np.diff(level_timescales(8)) > 0)
    grid = np.linspace(0, 1, 201)
    for K in sl.K_RANGE:
        assert np.all(np.diff(effective_memory(cascade_weights(grid, K))) > 0)


# --- gamma_range ------------------------------------------------------------------------------

def test_gamma_matches_core_and_range(derivs):
    results = derivs["gamma_range"].results
    f = sp.lambdify(HT, results["gamma_of_normalised_entropy"].expr.rhs.subs(gr.H_MAX, 2.5))
    r = rng()
    ht = r.uniform(0, 1, 50)
    np.testing.assert_allclose(f(ht), entropy_power(ht), rtol=1e-15)
    g = r.standard_normal((200, 5)) * r.uniform(0.01, 100, (200, 1)) ** r.integers(0, 3, (200, 5))
    gamma = entropy_power(normalized_entropy(g))
    lo, hi = results["range"].value
    assert np.all((gamma >= lo) & (gamma <= hi))
    assert results["dgamma_dH"].value == "-" and results["endpoint_values"].value == [2, 1]


def test_gamma_d1_gap(derivs):
    v = values(derivs, "gamma_range")
    assert v["d1_undefined"] is None
    assert v["d1_path_limits"] == [2.0, 1.5, 1.0, 2.0]
    with pytest.raises(ValueError, match="d"):
        normalized_entropy(np.array([3.0]))


# --- entropy_bounds ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_entropy_extremes_against_core(kind):
    r = rng()
    for d in (2, 3, 7, 50):
        equal = r.choice([-1.0, 1.0], d) * 3.7
        one_hot = np.zeros(d)
        one_hot[r.integers(d)] = -2.0
        assert gradient_entropy(equal, kind) == pytest.approx(np.log(d), rel=1e-14)
        assert gradient_entropy(one_hot, kind) == pytest.approx(0.0, abs=1e-15)
        h = gradient_entropy(r.standard_normal((100, d)), kind)
        assert np.all((h >= 0) & (h <= np.log(d) + 1e-12))


@pytest.mark.parametrize("kind", ["l2", "l1"])
def test_quadratic_entropy_closed_forms(derivs, kind):
    r = rng()
    v = r.standard_normal((20, 6))
    scale = r.uniform(-50, 50, (20, 1))
    np.testing.assert_allclose(normalized_entropy(scale * v, kind), normalized_entropy(v, kind),
                               rtol=1e-12)
    ht = sp.lambdify(eb.KAPPA, eb.normalized_entropy_d2(kind), "numpy")
    for kappa, c in zip(r.uniform(1, 1e3, 20), r.uniform(-5, 5, 20)):
        g = np.diag([1.0, kappa]) @ np.full(2, c)       # g = A (x - x*) with x - x* = c 1
        assert ht(kappa) == pytest.approx(normalized_entropy(g, kind), rel=1e-11)
    p_closed = derivs["entropy_bounds"].results["diagonal_quadratic_ones_direction"].expr
    lam = sp.symbols("l1:4", positive=True)
    spectrum = r.uniform(0.1, 10, 3)
    if kind == "l2":
        np.testing.assert_allclose(sp.lambdify(lam, p_closed)(*spectrum),
                                   gradient_weights(spectrum * 1.7, kind), rtol=1e-13)
    kappas = np.linspace(1, 50, 200)
    curve = normalized_entropy(np.stack([np.ones_like(kappas), kappas], -1), kind)
    assert curve[0] == pytest.approx(1.0) and np.all(np.diff(curve) < 0)
    assert normalized_entropy(np.array([1.0, 1e9]), kind) < 1e-7
    res = derivs["entropy_bounds"].results
    assert res[f"Ht_limits_d2_{kind}"].value == [1.0, 0.0]
    assert res[f"dHt_dkappa_d2_{kind}"].value == "-"


def test_eg1_bound_is_tight_in_two_dimensions(derivs):
    assert derivs["entropy_bounds"].results["eg1_bound_tight_d2"].status == "proved"
    for kappa in (1.5, 10.0, 1e4):
        h1 = gradient_entropy(np.array([1.0, kappa]), "l1")   # entropy of eigenvalues / trace
        bound = kappa / (kappa + 1) * np.log(kappa) - np.log((kappa + 1) / 2)
        assert np.log(2) - h1 == pytest.approx(bound, rel=1e-10)


# --- linear_stability -------------------------------------------------------------------------

def _closed_form_threshold(alpha):
    k = np.arange(1, len(alpha) + 1)
    return 2 / np.sum(np.asarray(alpha) / (2.0 ** (k + 1) - 1))


def test_companion_matrix_matches_symbolic_and_char_poly():
    r = rng()
    for K in range(1, 6):
        alpha = r.dirichlet(np.ones(K))
        u = r.uniform(0.1, 20)
        exact = ls.symbolic_matrix([sp.Float(a, 30) for a in alpha], ls.exact_betas(K), sp.Float(u))
        m = ls.companion_matrix(K, alpha, u)
        np.testing.assert_allclose(m, np.array(exact.evalf(), dtype=float), rtol=1e-14, atol=1e-15)
        A, B = ls.char_poly_parts(alpha, 1 - 2.0 ** -np.arange(1, K + 1))
        coeffs = np.array(A, dtype=float) + u * np.append(np.array(B, dtype=float), 0)
        np.testing.assert_allclose(np.sort_complex(np.roots(coeffs[::-1])),
                                   np.sort_complex(np.linalg.eigvals(m)), atol=1e-8)
    alphas, us = r.dirichlet(np.ones(3), size=(4, 2)), np.array([1.0, 8.0])
    batch = ls.companion_matrix(3, alphas, us)
    assert batch.shape == (4, 2, 4, 4)
    for i in range(4):
        for j in range(2):
            np.testing.assert_array_equal(batch[i, j], ls.companion_matrix(3, alphas[i, j], us[j]))


def test_heavy_ball_threshold_k1(derivs):
    assert ls.stability_threshold(1, [1.0]) == 6.0          # 2 (1 + 1/2) / (1 - 1/2)
    v = values(derivs, "linear_stability")
    assert v["heavy_ball_K1"] == 6.0
    assert v["threshold_uniform"][0] == [1, 6.0] and v["threshold_top_entropy"][0] == [1, 6.0]


def test_thresholds_against_closed_form_and_core(derivs):
    v = values(derivs, "linear_stability")
    for key, ht in (("threshold_uniform", 0.0), ("threshold_top_entropy", 1.0)):
        for K, u_star in v[key]:
            alpha = cascade_weights(ht, K)
            assert u_star == pytest.approx(_closed_form_threshold(alpha), rel=1e-13)
            assert ls.stability_threshold(K, alpha) == pytest.approx(u_star, rel=1e-12)
    exact = derivs["linear_stability"].results["threshold_uniform"].expr
    assert [sp.Rational(x) for x in exact] == [6, sp.Rational(42, 5), sp.Rational(210, 19),
                                              sp.Rational(1085, 78), sp.Rational(97650, 5771)]
    for _K, below, above in v["numeric_check"]:
        assert below[0] < 1 < below[1] and above[0] < 1 < above[1]


def _linear_emc_final_size(K, alpha, eta, lam, steps):
    """Plain recursion of linear EMC with frozen weights on f = lam x^2 / 2 (unscaled buffers)."""
    beta = [1 - 0.5 ** k for k in range(1, K + 1)]
    x, m = 1.0, [0.0] * K
    for _ in range(steps):
        g = lam * x
        m = [b * mk + (1 - b) * g for b, mk in zip(beta, m)]
        x = x - eta * sum(a * mk for a, mk in zip(alpha, m))
    return abs(x) + eta * max(abs(mk) for mk in m)


@pytest.mark.parametrize("K", [1, 2, 3])
@pytest.mark.parametrize("ht", [0.0, 1.0])
def test_frozen_weight_recursion_decays_below_and_grows_above(K, ht):
    alpha = list(cascade_weights(ht, K))
    u_star = ls.stability_threshold(K, alpha)
    lam = 3.0
    below = _linear_emc_final_size(K, alpha, u_star * 0.99 / lam, lam, 600)
    above = _linear_emc_final_size(K, alpha, u_star * 1.01 / lam, lam, 600)
    assert below < 1e-6 and above > 1e6


@pytest.mark.parametrize("K", [2, 3])
def test_emc_optimizer_linear_reading_has_the_threshold(K):
    """On f = lam |x|^2/2 from x0 = (1, 1) the gradient keeps equal entries, so Ht = 1 and the
    real EMC optimizer runs with frozen Ht = 1 weights; tau = 1e9 freezes them at uniform."""
    lam = 2.0
    for tau, ht in ((1.0, 1.0), (1e9, 0.0)):
        u_star = ls.stability_threshold(K, cascade_weights(ht, K))
        sizes = []
        for factor in (0.99, 1.01):
            opt = EMC(K=K, lr=factor * u_star / lam, reading="linear", tau=tau)
            x = np.ones(2)
            state = opt.init(x)
            for _ in range(600):
                step, state = opt.update(lam * x, state)
                x = x + step
            sizes.append(np.abs(x).max())
        assert sizes[0] < 1e-6 and sizes[1] > 1e6


def test_spectral_radius_below_one_up_to_threshold():
    r = rng()
    for K in range(2, 6):
        alpha = r.dirichlet(np.ones(K))
        u_star = ls.stability_threshold(K, alpha)
        assert u_star == pytest.approx(_closed_form_threshold(alpha), rel=1e-12)
        rho = [np.abs(np.linalg.eigvals(ls.companion_matrix(K, alpha, u))).max()
               for u in np.linspace(1e-3, u_star * (1 - 1e-6), 300)]
        assert max(rho) < 1
        above = np.abs(np.linalg.eigvals(ls.companion_matrix(K, alpha, u_star * 1.0001))).max()
        assert above > 1


def test_complex_crossings_are_real_unit_circle_roots():
    """With signed weights complex crossings exist; each must put an eigenvalue on |z| = 1."""
    r = rng()
    found = 0
    for _ in range(15):
        K = int(r.integers(2, 5))
        alpha = r.normal(size=K)
        alpha /= alpha.sum()
        crossings = ls.unit_circle_crossings([Fraction(a) for a in alpha],
                                             [1 - Fraction(1, 2**k) for k in range(1, K + 1)])
        for u in crossings:
            z = np.linalg.eigvals(ls.companion_matrix(K, alpha, float(sp.N(u, 20))))
            assert np.min(np.abs(np.abs(z) - 1)) < 1e-7
            found += 1
    assert found > 0


def test_stability_threshold_rejects_bad_input():
    with pytest.raises(ValueError, match="K"):
        ls.stability_threshold(0, [])
    with pytest.raises(ValueError, match="alpha"):
        ls.stability_threshold(2, [0.5, 0.3, 0.2])
    with pytest.raises(ValueError, match="alpha"):
        ls.stability_threshold(2, [1.5, -0.5])
    with pytest.raises(ValueError, match="sum to 1"):
        ls.stability_threshold(2, [0.5, 0.6])
    with pytest.raises(ValueError, match="alpha"):
        ls.companion_matrix(3, [0.5, 0.5], 1.0)
