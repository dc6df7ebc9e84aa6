"""The EMC core against values derived independently: scalar hand arithmetic of the paper's
formulas, closed forms, explicit sums, and the heavy-ball reduction."""
import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import emc_theory as et
from emc_theory.baselines import HeavyBall
from emc_theory.problems import quadratic
from emc_theory.replay import replay, run_spec


def scalar_emc_steps(x, curvatures, K, lr, reading, steps):
    """EMC on f = 0.5 sum_i c_i x_i^2 written with Python scalars and the math module only."""
    d = len(x)
    m = [[0.0] * d for _ in range(K)]
    out = []
    for _ in range(steps):
        g = [c * xi for c, xi in zip(curvatures, x)]
        s = sum(gi * gi for gi in g)
        p = [gi * gi / s for gi in g]
        h = -sum(pi * math.log(pi) for pi in p if pi > 0)
        ht = h / math.log(d)
        for k in range(K):
            beta = 1 - 2.0 ** -(k + 1)
            m[k] = [beta * mk + (1 - beta) * gi for mk, gi in zip(m[k], g)]
        z = [math.exp((k + 1) / K * ht) for k in range(K)]
        alpha = [zk / sum(z) for zk in z]
        mt = [sum(alpha[k] * m[k][i] for k in range(K)) for i in range(d)]
        gamma = 2 - ht
        e = {"power": gamma, "root": 1 / gamma, "linear": 1.0}[reading]
        x = [xi - lr * math.copysign(abs(v) ** e, v) for xi, v in zip(x, mt)]
        out.append(list(x))
    return out


@pytest.mark.parametrize("reading", et.READINGS)
@pytest.mark.parametrize("K", [1, 2, 3])
def test_first_three_steps_match_hand_arithmetic(reading, K):
    curv = np.array([1.0, 4.0])
    x0 = [1.0, -0.5]
    expected = scalar_emc_steps(x0, curv, K, 0.1, reading, 3)
    opt = et.EMC(K=K, lr=0.1, reading=reading)
    x = np.array(x0)
    state = opt.init(x)
    for want in expected:
        upd, state = opt.update(curv * x, state)
        x = x + upd
        np.testing.assert_allclose(x, want, rtol=1e-13, atol=1e-15)


def test_first_step_literal_value():
    # g = (1, 4): p = (1/17, 16/17); K = 1 so alpha = 1, m = g/2; linear reading: x1 = x0 - lr g/2
    opt = et.EMC(K=1, lr=0.5, reading="linear")
    upd, _ = opt.update(np.array([1.0, 4.0]), opt.init(np.zeros(2)))
    np.testing.assert_allclose(upd, [-0.25, -1.0], rtol=1e-15)
    h = et.gradient_entropy(np.array([1.0, 4.0]))
    assert h == pytest.approx(math.log(17) - 16 / 17 * math.log(16), rel=1e-14)


@pytest.mark.parametrize("kind", et.ENTROPY_KINDS)
@pytest.mark.parametrize("d", [2, 3, 10, 1000])
def test_entropy_of_uniform_and_one_hot(kind, d):
    assert et.gradient_entropy(np.full(d, -2.5), kind) == pytest.approx(math.log(d), rel=1e-14)
    assert et.normalized_entropy(np.full(d, 3.0), kind) == pytest.approx(1.0, rel=1e-14)
    one_hot = np.zeros(d)
    one_hot[d // 2] = 7.0
    assert et.gradient_entropy(one_hot, kind) == 0.0


def test_l1_reading_differs_from_l2_by_closed_form():
    g = np.array([1.0, 3.0])
    p_l1, p_l2 = np.array([0.25, 0.75]), np.array([0.1, 0.9])
    assert et.gradient_entropy(g, "l1") == pytest.approx(-(p_l1 * np.log(p_l1)).sum(), rel=1e-14)
    assert et.gradient_entropy(g, "l2") == pytest.approx(-(p_l2 * np.log(p_l2)).sum(), rel=1e-14)


def test_entropy_is_scale_invariant_at_extreme_magnitudes():
    g = np.array([1.0, 2.0, 3.0])
    ref = et.gradient_entropy(g)
    for scale in (1e-300, 1e-160, 1e160, 1e300):
        assert et.gradient_entropy(g * scale) == pytest.approx(ref, rel=1e-12)


def test_zero_gradient_rule_and_d_equal_one():
    assert et.normalized_entropy(np.zeros(5)) == 1.0
    with pytest.raises(ValueError, match="d .*>= 2"):
        et.normalized_entropy(np.ones(1))
    with pytest.raises(ValueError, match="d .*>= 2"):
        et.EMC().init(np.ones(1))


@pytest.mark.parametrize("K", range(1, 9))
def test_weights_at_zero_and_one_against_exact_expressions(K):
    np.testing.assert_allclose(et.cascade_weights(0.0, K), np.full(K, 1 / K), rtol=1e-15)
    k = np.arange(1, K + 1)
    exact = np.exp(k / K) / np.exp(k / K).sum()
    np.testing.assert_allclose(et.cascade_weights(1.0, K), exact, rtol=1e-14)
    # effective memory at Ht = 0 is the mean timescale (2^{K+1} - 2) / K
    assert et.effective_memory(et.cascade_weights(0.0, K)) == pytest.approx(
        (2 ** (K + 1) - 2) / K, rel=1e-14)


def test_temperature_limits():
    np.testing.assert_allclose(et.cascade_weights(1.0, 4, tau=1e9), np.full(4, 0.25), rtol=1e-8)
    np.testing.assert_allclose(et.cascade_weights(1.0, 4, tau=1e-4), [0, 0, 0, 1], atol=1e-12)


def test_buffers_equal_explicit_weighted_sums_of_past_gradients():
    rng = np.random.default_rng(3)
    K, T, d = 4, 9, 5
    grads = rng.normal(size=(T, d))
    opt = et.EMC(K=K, lr=0.1)
    state = opt.init(np.zeros(d))
    for g in grads:
        _, state = opt.update(g, state)
    for k in range(1, K + 1):
        beta = 1 - 2.0 ** -k
        explicit = sum((1 - beta) * beta ** (T - 1 - s) * grads[s] for s in range(T))
        np.testing.assert_allclose(state.momenta[k - 1], explicit, rtol=1e-13, atol=1e-15)
    assert state.count == T


def test_k1_linear_reduces_to_heavy_ball():
    # m_t = (1-b) v_t with v_t = b v_{t-1} + g_t and b = 1/2: EMC(lr) == HeavyBall(lr/2, 1/2)
    prob = quadratic(6, cond=30.0, seed=1)
    x0 = np.random.default_rng(0).normal(size=6)
    a = et.minimize(et.EMC(K=1, lr=0.05, reading="linear"), prob, x0, 200)
    b = et.minimize(HeavyBall(lr=0.025, beta=0.5), prob, x0, 200)
    np.testing.assert_allclose(a.f_gap, b.f_gap, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(a.params, b.params, rtol=1e-10, atol=1e-14)


@given(ht=hnp.arrays(float, hnp.array_shapes(max_dims=2, max_side=5),
                     elements=st.floats(0, 1)),
       K=st.integers(1, 9), tau=st.floats(0.05, 50))
def test_weights_positive_and_sum_to_one(ht, K, tau):
    w = et.cascade_weights(ht, K, tau)
    assert w.shape == ht.shape + (K,)
    assert np.all(w > 0)
    np.testing.assert_allclose(w.sum(-1), 1.0, rtol=1e-12)


@given(g=hnp.arrays(float, hnp.array_shapes(min_dims=1, max_dims=3, min_side=2, max_side=6),
                    elements=st.floats(-1e6, 1e6)),
       kind=st.sampled_from(et.ENTROPY_KINDS))
def test_entropy_bounds_and_gamma_range(g, kind):
    h = et.gradient_entropy(g, kind)
    assert np.all(h >= 0) and np.all(h <= np.log(g.shape[-1]) * (1 + 1e-12))
    gamma = et.entropy_power(et.normalized_entropy(g, kind))
    assert np.all((gamma >= 1 - 1e-12) & (gamma <= 2 + 1e-12))


@given(B=st.integers(1, 5), d=st.integers(2, 6), K=st.integers(1, 4),
       reading=st.sampled_from(et.READINGS), seed=st.integers(0, 2**16))
def test_batched_equals_per_run(B, d, K, reading, seed):
    rng = np.random.default_rng(seed)
    grads = rng.normal(size=(3, B, d))
    lrs = rng.uniform(0.01, 1.0, size=B)
    batched = et.EMC(K=K, lr=lrs, reading=reading)
    state = batched.init(np.zeros((B, d)))
    outs = []
    for g in grads:
        u, state = batched.update(g, state)
        outs.append(u)
    for b in range(B):
        single = et.EMC(K=K, lr=lrs[b], reading=reading)
        s = single.init(np.zeros(d))
        for t, g in enumerate(grads):
            u, s = single.update(g[b], s)
            np.testing.assert_allclose(u, outs[t][b], rtol=1e-12, atol=1e-300)


def test_update_is_pure_unless_inplace():
    opt = et.EMC(K=3, lr=0.1)
    state = opt.init(np.zeros(4))
    state.momenta.flags.writeable = False
    _, new = opt.update(np.arange(1.0, 5.0), state)
    assert np.all(state.momenta == 0) and np.any(new.momenta != 0)


def test_diagnostics_match_formulas():
    g = np.array([3.0, 4.0, 0.0])
    opt = et.EMC(K=3, lr=0.1)
    _, _, diag = opt.update_with_diagnostics(g, opt.init(np.zeros(3)))
    p = np.array([9, 16]) / 25
    h = -(p * np.log(p)).sum()
    assert diag.entropy == pytest.approx(h)
    assert diag.gamma == pytest.approx(2 - h / np.log(3))
    assert diag.effective_memory == pytest.approx(diag.weights @ [2, 4, 8])


@pytest.mark.parametrize("kwargs, name", [
    ({"K": 0}, "K"), ({"K": 2.5}, "K"), ({"lr": 0.0}, "lr"), ({"lr": -1.0}, "lr"),
    ({"lr": float("nan")}, "lr"), ({"lr": float("inf")}, "lr"), ({"reading": "cube"}, "reading"),
    ({"entropy": "l3"}, "entropy"), ({"tau": 0.0}, "tau"),
])
def test_bad_hyper_parameters_name_the_parameter(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        et.EMC(**kwargs)


def test_bad_gradients_name_the_parameter():
    opt = et.EMC(K=2, lr=0.1)
    state = opt.init(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="grads must have shape"):
        opt.update(np.zeros((3, 3)), state)
    with pytest.raises(et.NonFiniteGradientError, match="grads must be finite"):
        opt.update(np.array([[1.0, np.nan, 0.0], [1.0, 1.0, 1.0]]), state)
    with pytest.raises(ValueError, match="lr schedule value"):
        bad = et.EMC(K=2, lr=lambda t: -1.0)
        bad.update(np.ones(3), bad.init(np.zeros(3)))


@pytest.mark.parametrize("schedule, factor", [(et.inv_sqrt, 1 / math.sqrt(3)),
                                              (et.inv_t, 1 / 3)])
def test_schedules_scale_the_third_step(schedule, factor):
    g = np.array([1.0, 1.0])  # uniform: Ht = 1, gamma = 1, all buffers move alike
    const, dec = et.EMC(K=1, lr=1.0, reading="linear"), et.EMC(K=1, lr=schedule(1.0),
                                                                  reading="linear")
    s1, s2 = const.init(np.zeros(2)), dec.init(np.zeros(2))
    for _ in range(3):
        u1, s1 = const.update(g, s1)
        u2, s2 = dec.update(g, s2)
    np.testing.assert_allclose(u2, u1 * factor, rtol=1e-14)


def test_diverging_run_ends_with_status_and_step_without_warnings(recwarn):
    prob = quadratic(4, cond=10.0, seed=0)
    x0 = np.full(4, 1e3)
    tr = et.minimize(et.EMC(K=3, lr=1.0, reading="power"), prob, x0, 500)
    assert tr.status in ("diverged", "non-finite")
    assert 0 < tr.stop_step < 500
    assert np.isnan(tr.f_gap[tr.stop_step + 1:]).all()
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_runner_statuses_in_one_batch():
    prob = quadratic(3, cond=4.0, seed=2)  # L = 4: GD converges for lr < 2/L = 0.5
    x0 = np.tile(prob.x_star + 1.0, (3, 1))
    from emc_theory.baselines import GradientDescent
    tr = et.minimize(GradientDescent(lr=np.array([0.2, 0.6, 0.001])), prob, x0, 300, tol=1e-8)
    assert list(tr.status) == ["converged", "diverged", "max_steps"]
    assert tr.stop_step[2] == 300


def test_replay_from_json_gives_the_same_outcome():
    prob = quadratic(5, cond=100.0, seed=4)
    opt = et.EMC(K=3, lr=et.inv_sqrt(0.02), reading="root")
    x0 = np.linspace(-1, 1, 5)
    spec = json.loads(json.dumps(run_spec(opt, prob, x0, 150, tol=1e-9)))
    first, again = et.minimize(opt, prob, x0, 150, tol=1e-9), replay(spec)
    assert first.status == again.status and first.stop_step == again.stop_step
    assert first.final_grad_norm == again.final_grad_norm
