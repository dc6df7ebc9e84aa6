"""The derivations of the companion claims (EG1, LN1, DL1), checked against independent numbers:
the entropy gap of explicit spectra and finite differences, the posterior by direct evaluation
and the closed-form sign information, and the heavy-ball scheme evaluated on a smooth curve."""
import json

import numpy as np
import pytest
import sympy as sp
from scipy.special import ndtr

import proofs
from claims import eg1, ln1
from proofs import entropy_gap, lion_information, momentum_path
from proofs.derivation import Derivation

MODULES = {"entropy_gap": entropy_gap, "lion_information": lion_information,
           "momentum_path": momentum_path}


@pytest.fixture(scope="module")
def derivs():
    return {name: module.derive() for name, module in MODULES.items()}


def test_registered_and_well_formed(derivs):
    for name, d in derivs.items():
        assert name in proofs.NAMES and name in proofs.DERIVATIONS
        assert isinstance(d, Derivation) and d.name == name
        data = json.loads(json.dumps(d.to_json(), allow_nan=False))
        assert set(data["results"]) == set(d.results)
        tex = d.to_latex()
        assert tex.count("{") == tex.count("}")


def test_every_result_is_established(derivs):
    for name, d in derivs.items():
        for key, item in d.results.items():
            assert item.status in ("proved", "computed"), (name, key)
            assert item.value not in (None, False), (name, key)


def test_claims_read_every_result_they_report(derivs):
    assert set(eg1.SYMBOLIC_KEYS) == set(derivs["entropy_gap"].results)
    assert set(ln1.SYMBOLIC_KEYS) == set(derivs["lion_information"].results)


# --- entropy_gap ----------------------------------------------------------------------------

def _gap(eigenvalues):
    lam = np.asarray(eigenvalues, dtype=float)
    p = lam / lam.sum()
    return np.log(lam.size) + np.sum(p * np.log(p))


@pytest.mark.parametrize("n, m, k", [(4, 2, 1.5), (10, 3, 2.5), (7, 1, 40.0)])
def test_vertex_gap_is_the_gap_of_the_spectrum(n, m, k):
    g = sp.lambdify((entropy_gap.N, entropy_gap.M, entropy_gap.K), entropy_gap.vertex_gap(
        entropy_gap.M))
    assert g(n, m, k) == pytest.approx(_gap([k] * m + [1.0] * (n - m)), rel=1e-12)
    middle = sp.lambdify((entropy_gap.K, entropy_gap.N), entropy_gap.middle_bound())
    assert middle(k, n) == pytest.approx(_gap([k] + [1.0] * (n - 1)), rel=1e-12)


@pytest.mark.parametrize("n, m", [(4, 2), (10, 5), (10, 1)])
def test_second_order_coefficient_by_finite_differences(n, m):
    """g_m(1 + e) / e^2 -> m(n-m)/(2n^2) as e -> 0 (gap of explicit spectra)."""
    e = 1e-4
    coefficient = _gap([1 + e] * m + [1.0] * (n - m)) / e**2
    assert coefficient == pytest.approx(m * (n - m) / (2 * n**2), rel=1e-3)


@pytest.mark.parametrize("n, k", [(3, 1.2), (50, 1e3)])
def test_second_inequality_terms(n, k):
    middle = k / (k + n - 1) * np.log(k) - np.log((n + k - 1) / n)
    first, second = (n - 1) / (k + n - 1) * np.log(k), np.log1p((k - 1) / n)
    assert np.log(k) - middle == pytest.approx(first + second, rel=1e-12)
    assert first >= 0 and second >= 0


# --- lion_information -----------------------------------------------------------------------

def test_posterior_mean_is_tanh_by_evaluation():
    likelihood = lion_information.likelihoods()
    mean = sp.lambdify((lion_information.X, lion_information.MU, lion_information.SIGMA),
                       (likelihood[1] - likelihood[-1]) / (likelihood[1] + likelihood[-1]))
    x = np.linspace(-3, 3, 13)
    for mu, sigma in [(0.7, 1.3), (2.0, 0.5)]:
        np.testing.assert_allclose(mean(x, mu, sigma), np.tanh(mu * x / sigma**2), rtol=1e-12,
                                   atol=1e-15)


def test_sign_information_at_small_snr_from_the_closed_form():
    def info_sign(s):
        p = ndtr(-s)
        return np.log(2) + p * np.log(p) + (1 - p) * np.log(1 - p)

    assert info_sign(1e-3) / 1e-6 == pytest.approx(1 / np.pi, rel=1e-5)


# --- momentum_path --------------------------------------------------------------------------

def test_expansion_coefficients(derivs):
    results = derivs["momentum_path"].results
    assert results["order0"].value == "W1 + W2*lambda + g"
    assert results["first_correction"].value == "-W2*lambda/2"
    assert results["limit_is_ode"].value is True


def test_first_correction_on_a_smooth_curve():
    """[W(t+h) - W(t) - beta (W(t) - W(t-h)) + gamma g]/gamma - (W' + lam W'' + g), for
    W = sin at t = 0.4, is -eps lam W''/2 + O(eps^2) (evaluated directly, no sympy)."""
    lam, t, g = 0.7, 0.4, 0.3
    errors = []
    for eps in (1e-2, 5e-3):
        h, gamma, beta = lam * eps, lam * eps**2, 1 - eps
        scheme = (np.sin(t + h) - np.sin(t) - beta * (np.sin(t) - np.sin(t - h)) + gamma * g)
        residual = scheme / gamma - (np.cos(t) - lam * np.sin(t) + g)
        predicted = -eps * lam * (-np.sin(t)) / 2
        errors.append(abs(residual - predicted))
        assert residual == pytest.approx(predicted, rel=0.05)
    assert errors[1] < errors[0] / 3  # the remainder is O(eps^2)
