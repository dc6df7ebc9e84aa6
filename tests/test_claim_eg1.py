"""EG1 (Tan & Huang, Theorem 2.2): the rule on typed facts, the entropy-gap machinery against
hand-derived values, the search's power to flag wrong bounds, the theory behind the controls, and
a quick gather whose counterexamples replay from JSON."""
import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims import eg1
from claims.support.base import CheckConfig, Gathered


def _gap_by_hand(eigenvalues):
    r""":math:`\log n + \sum_i p_i \log p_i`, :math:`p = \lambda/\sum\lambda` (the definition)."""
    lam = np.asarray(eigenvalues, dtype=float)
    p = lam / lam.sum()
    return np.log(lam.size) + np.sum(p * np.log(p))


def _vertex_gap_closed_form(n, m, k):
    r""":math:`g_m = \log n - \log S + \tfrac{mk}{S}\log k`, :math:`S = mk + n - m`."""
    s = m * k + n - m
    return np.log(n) - np.log(s) + m * k / s * np.log(k)


# ----------------------------------------------------------------------------- the rule

HOLDS = eg1.Facts(
    ineq1_violated=False, ineq1_max_excess=-0.1, ineq1_vertex_max_excess=-0.1,
    ineq1_random_max_excess=-0.2, ineq1_optimised_max_excess=-0.15,
    ineq1_smallest_failing_n=None, single_max_is_maximiser=True, optimiser_over_vertex=0.0,
    ineq2_proved_symbolically=True, ineq2_violated=False, ineq2_min_margin=0.05,
    outer_violated=False, outer_max_excess=-0.05, outer_max_gap_over_log_k=0.5,
    middle_is_single_max_gap_symbolic=True, small_k_expansion_favours_split=True,
    search_detects_wrong_bounds=True, lemma_tv_available=False)


def _decide(facts):
    return eg1.decide(Gathered(facts=facts))


@pytest.mark.parametrize("change, expected", [
    ({}, "holds"),
    ({"ineq1_violated": True, "ineq1_max_excess": 0.45}, "fails"),
    ({"ineq2_violated": True}, "fails"),
    ({"ineq2_violated": True, "ineq2_proved_symbolically": True}, "fails"),
    ({"ineq2_proved_symbolically": None}, "holds"),  # never violated on the grid suffices
    ({"search_detects_wrong_bounds": False}, "undecided"),
    ({"ineq1_violated": None}, "undecided"),
    ({"ineq2_violated": None, "ineq2_proved_symbolically": None}, "undecided"),
])
def test_rule_reaches_every_verdict_it_can_give(change, expected):
    """The rule gives holds / fails / undecided (never conditional: the theorem is universal)."""
    verdict = _decide(dataclasses.replace(HOLDS, **change))
    assert verdict.statement == expected
    # the seed lists a proof without its text: a false statement's proof is a gap not located
    assert verdict.proof == ("gap" if expected == "fails" else "none")
    assert verdict.proof_reason.startswith(
        "gap, not located: the proof is not in the source" if expected == "fails"
        else "not assessed: the proof is not in the source")


def test_rule_a_violation_is_never_read_as_holds():
    """A wrong input (a found violation) lands on the failing side, whatever else holds."""
    facts = dataclasses.replace(HOLDS, ineq1_violated=True, single_max_is_maximiser=False,
                                ineq1_smallest_failing_n=4, outer_violated=False)
    verdict = _decide(facts)
    assert verdict.statement == "fails"
    # the results are in the reason; conditions hold hypotheses only (none here)
    reason = verdict.statement_reason
    assert "inequality 1 (gap <= B) fails" in reason
    assert "inequality 2 (B <= log k) holds" in reason
    assert "log k is never violated" in reason
    assert "fails from n = 4" in reason
    assert "not the gap maximiser" in reason
    assert verdict.conditions == []


def test_facts_are_typed():
    with pytest.raises(TypeError):
        dataclasses.replace(HOLDS, ineq1_violatd=True)


def test_claim_words_and_source():
    claim = eg1.CLAIM
    assert claim.source.label == ("001_efec067ef178dacf.txt (Tan & Huang, Information-theoretic "
                                  "perspectives on optimizers)")
    assert claim.proof.status == "not_in_source" and claim.proof.text is None
    assert claim.kind == "inequality" and claim.derivations == ("entropy_gap",)


# ----------------------------------------------------------------------------- the machinery

@pytest.mark.parametrize("n, m, k", [(2, 1, 3.0), (4, 2, 1.5), (10, 5, 2.0), (50, 25, 16.0),
                                     (7, 3, 1e6)])
def test_entropy_gap_of_vertices_matches_closed_form(n, m, k):
    spectrum = eg1.vertex_spectra(n, [k])[0, m - 1]
    assert np.sum(spectrum == k) == m and np.sum(spectrum == 1.0) == n - m
    expected = _vertex_gap_closed_form(n, m, k)
    assert eg1.entropy_gap(spectrum) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert _gap_by_hand(spectrum) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_gap_is_measured_where_the_core_does_not_clip():
    """gradient_entropy clips H to [0, log n]; on the searched spectra H (by hand, unclipped)
    stays strictly inside, so the measured gap equals the unclipped one up to rounding."""
    ks = 10 ** np.linspace(0.02, 6, 31)
    for n in (2, 3, 4, 10, 50):
        lam = eg1.vertex_spectra(n, ks)
        p = lam / lam.sum(axis=-1, keepdims=True)
        unclipped_h = -np.sum(p * np.log(p), axis=-1)
        assert unclipped_h.min() > 0 and (np.log(n) - unclipped_h).min() > 1e-5
        np.testing.assert_allclose(eg1.entropy_gap(lam), np.log(n) - unclipped_h, atol=1e-13)


@pytest.mark.parametrize("n, k", [(2, 5.0), (3, 1.2), (20, 1e3), (50, 1e6)])
def test_middle_bound_is_gap_of_one_eigenvalue_at_k(n, k):
    assert eg1.middle_bound(k, n) == pytest.approx(_gap_by_hand([k] + [1.0] * (n - 1)),
                                                   rel=1e-12)


def test_hand_counterexample_n10_k2():
    """Five eigenvalues at 2 and five at 1: gap = log(10/15) + (2/3) log 2 = 0.0566 > B = 0.0307."""
    lam = [2.0] * 5 + [1.0] * 5
    gap = np.log(10 / 15) + (10 / 15) * np.log(2)
    bound = 2 / 11 * np.log(2) - np.log(11 / 10)
    assert _gap_by_hand(lam) == pytest.approx(gap, rel=1e-13)
    assert gap > bound + 0.02
    assert eg1.entropy_gap(lam) - eg1.middle_bound(2.0, 10) == pytest.approx(gap - bound, rel=1e-9)


@given(st.integers(2, 30), st.floats(1.0, 1e6), st.integers(0, 2**31))
def test_gap_never_exceeds_log_k(n, k, seed):
    """p_i n <= k n / S < k, so KL(p || uniform) < log k: the outer bound, on random spectra."""
    lam = np.random.default_rng(seed).uniform(1.0, k, size=n)
    lam[:2] = [1.0, k]
    assert _gap_by_hand(lam) <= np.log(k) + 1e-12


def test_rotated_matrix_keeps_the_spectrum():
    lam = np.array([1.0, 3.0, 3.0, 7.5, 40.0])
    h = eg1.rotated_matrix(lam, 3)
    np.testing.assert_allclose(h, h.T, atol=0)
    np.testing.assert_allclose(np.linalg.eigvalsh(h), np.sort(lam), rtol=1e-12)
    assert not np.allclose(h, np.diag(np.diag(h)))


def test_random_spectra_pin_the_extremes_and_stay_in_the_box():
    rng = np.random.default_rng(0)
    ks = np.array([1.5, 100.0])
    for dist in eg1.DISTRIBUTIONS:
        lam = eg1.random_spectra(rng, dist, 6, ks, 5)
        assert lam.shape == (2, 5, 6)
        np.testing.assert_allclose(lam.min(axis=-1), 1.0, rtol=1e-12)
        np.testing.assert_allclose(lam.max(axis=-1), np.repeat(ks[:, None], 5, axis=1),
                                   rtol=1e-12)


def test_optimiser_stays_in_box_and_never_beats_the_vertex_maximum():
    """Quasi-convexity: the maximum over the box is at a vertex, so L-BFGS-B cannot beat it."""
    rng = np.random.default_rng(1)
    for n, k in [(4, 1.5), (8, 30.0)]:
        lam = eg1.optimised_spectrum(n, k, rng.random((3, n - 2)))
        assert lam.min() >= 1.0 - 1e-12 and lam.max() <= k * (1 + 1e-12)
        vertex_max = max(_vertex_gap_closed_form(n, m, k) for m in range(1, n))
        assert _gap_by_hand(lam) <= vertex_max + 1e-12


def _search(bound, ns):
    """The search on n in ``ns`` (L-BFGS-B on the largest n)."""
    return eg1.search_spectra(bound, ns, 10 ** np.linspace(0.02, 3, 6),
                              np.random.default_rng(0), samples=4, optimiser_ns=[max(ns)],
                              optimiser_ks=[2.0], starts=2)


@pytest.mark.parametrize("name", sorted(eg1.WRONG_BOUNDS))
def test_search_flags_wrong_bounds(name):
    worst = _search(eg1.WRONG_BOUNDS[name], [2, 3, 10])["worst"]
    assert max(w["excess"] for w in worst.values()) > eg1.VIOLATION_TOL


def test_search_agrees_with_hand_analysis():
    """n <= 3: B is the maximum (equality at n = 2), so no violation; n = 4 violates near k = 1
    (second-order coefficient m(n-m)/(2n^2) is 4/32 at m = 2 against 3/32 at m = 1)."""
    small = _search(eg1.middle_bound, [2, 3])
    assert max(w["excess"] for w in small["worst"].values()) <= eg1.VIOLATION_TOL
    assert _search(eg1.middle_bound, [4])["vertex_table"][0, 0] > eg1.VIOLATION_TOL
    outer = _search(eg1.log_bound, [2, 3, 10, 50])["worst"]
    assert max(w["excess"] for w in outer.values()) < 0


# ----------------------------------------------------------------------------- controls

@given(st.integers(2, 30), st.floats(1.0, 1e6), st.integers(0, 2**31))
def test_positive_control_bound_holds_by_hand(n, k, seed):
    """min(log n, log k) bounds the gap (by hand, on random spectra) and is at most log k."""
    lam = np.random.default_rng(seed).uniform(1.0, k, size=n)
    lam[:2] = [1.0, k]
    bound = float(eg1.min_log_bound(k, n))
    assert _gap_by_hand(lam) <= bound + 1e-12
    assert bound <= np.log(k) + 1e-15


@pytest.mark.parametrize("k", [1.5, 10.0, 1e6])
def test_half_middle_control_is_beaten_at_n_2(k):
    """B/2 is beaten at n = 2 by {1, k}, whose gap is B (by hand)."""
    assert _gap_by_hand([1.0, k]) == pytest.approx(float(eg1.middle_bound(k, 2)), rel=1e-12)
    assert _gap_by_hand([1.0, k]) > float(eg1.half_middle_bound(k, 2)) + 1e-3


@pytest.mark.parametrize("n, k", [(3, 2.0), (50, 1.05)])
def test_log_n_control_bounds_the_gap_but_exceeds_log_k(n, k):
    lam = np.r_[1.0, k, np.full(n - 2, k)]
    assert _gap_by_hand(lam) <= float(eg1.log_n_bound(k, n))
    assert float(eg1.log_n_bound(k, n)) > np.log(k)


def test_controls_are_named_bounds_for_replay():
    for control in eg1.CLAIM.controls:
        assert eg1.NAMED_BOUNDS[control.subject.name] is control.subject.bound
    with pytest.raises(ValueError, match="bound"):
        eg1.replay({"bound": "no such bound", "eigenvalues": [1.0, 2.0], "rotation_seed": 0})


def test_gather_rejects_a_subject_of_another_type():
    with pytest.raises(TypeError, match="MiddleBound"):
        eg1.gather(CheckConfig(quick=True, subject=eg1.middle_bound))


def test_negative_control_counterexamples_replay():
    """A control's counterexamples name its bound, so they replay from JSON like the paper's."""
    subject = eg1.CONTROL_BOUNDS["middle_half"]
    gathered = eg1.gather(CheckConfig(quick=True, seed=0, subject=subject))
    assert gathered.facts.ineq1_violated is True
    assert gathered.facts.middle_is_single_max_gap_symbolic is None  # about the paper's B only
    assert gathered.counterexamples
    for cx in gathered.counterexamples:
        assert eg1.replay(json.loads(json.dumps(cx.replay)))["violated"] is True


# ----------------------------------------------------------------------------- gather (quick)

@pytest.fixture(scope="module")
def quick_findings():
    return eg1.gather(CheckConfig(quick=True, seed=0))


def test_gather_quick_evidence_and_facts(quick_findings):
    f = quick_findings
    assert {e.kind for e in f.evidence} == {"symbolic", "numerical", "independent"}
    lemma = [e for e in f.evidence if "total variation" in e.name]
    assert len(lemma) == 1 and lemma[0].available is False
    assert f.facts.lemma_tv_available is False
    for key, value in dataclasses.asdict(f.facts).items():
        assert value is None or isinstance(value, (bool, int, float)), key
    for key in ("ineq1_violated", "ineq2_violated", "outer_violated",
                "search_detects_wrong_bounds", "single_max_is_maximiser",
                "ineq2_proved_symbolically", "small_k_expansion_favours_split"):
        assert isinstance(getattr(f.facts, key), bool), key
    json.dumps(f.parameters)
    json.dumps([e.data for e in f.evidence], allow_nan=False)


def test_gather_is_deterministic(quick_findings):
    again = eg1.gather(CheckConfig(quick=True, seed=0))
    assert again.facts == quick_findings.facts
    assert [c.replay for c in again.counterexamples] == [
        c.replay for c in quick_findings.counterexamples]


def test_counterexamples_replay_from_json(quick_findings):
    for cx in quick_findings.counterexamples:
        spec = json.loads(json.dumps(cx.replay))
        outcome = eg1.replay(spec)
        assert outcome["violated"] == cx.outcome["violated"]
        for key in ("gap", "bound", "excess", "condition_number"):
            assert outcome[key] == pytest.approx(cx.outcome[key], rel=1e-12, abs=1e-15), key
        # and independently of the module: eigenvalues of the stored/rebuilt matrix, by hand
        matrix = (np.asarray(spec["matrix"]) if "matrix" in spec
                  else eg1.rotated_matrix(spec["eigenvalues"], spec["rotation_seed"]))
        lam = np.linalg.eigvalsh(matrix)
        assert _gap_by_hand(lam) == pytest.approx(outcome["gap"], rel=1e-9)
        assert lam[-1] / lam[0] == pytest.approx(spec["k"], rel=1e-9)
