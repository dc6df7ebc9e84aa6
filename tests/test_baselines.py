"""Baselines against their published update rules, written out by hand in scalar arithmetic."""
import dataclasses
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emc_theory.baselines import BASELINES, Adam, GradientDescent, HeavyBall, Lion, Nesterov
from emc_theory.optimizers import make_optimizer
from emc_theory.schedules import inv_sqrt, inv_t

GRADS = [(1.0, -2.0), (0.5, 3.0), (-1.5, 0.25)]  # a fixed 3-step gradient sequence in R^2
LR = 0.1


def run(opt, grads_seq, x0=None):
    """Updates produced by feeding ``grads_seq`` to ``opt`` (iterate unused unless x0 given)."""
    x = np.zeros(np.shape(grads_seq[0])) if x0 is None else np.asarray(x0, float)
    state, out = opt.init(x), []
    for g in grads_seq:
        u, state = opt.update(np.asarray(g, float), state, params=x)
        x = x + u
        out.append(u)
    return np.array(out)


# ---- first three steps against the published rules, unrolled per coordinate ----------------

def test_gd_three_steps():
    expected = [[-LR * g[i] for i in range(2)] for g in GRADS]
    np.testing.assert_allclose(run(GradientDescent(LR), GRADS), expected, rtol=1e-15)


def test_heavy_ball_three_steps_unrolled():
    b = 0.7
    (a1, a2), (b1, b2), (c1, c2) = GRADS
    expected = [
        [-LR * a1, -LR * a2],
        [-LR * (b * a1 + b1), -LR * (b * a2 + b2)],
        [-LR * (b * b * a1 + b * b1 + c1), -LR * (b * b * a2 + b * b2 + c2)],
    ]
    np.testing.assert_allclose(run(HeavyBall(LR, beta=b), GRADS), expected, rtol=1e-14)


def test_nesterov_three_steps_unrolled():
    # torch SGD(nesterov=True): buf_t = b buf_{t-1} + g_t, step = g_t + b buf_t
    b = 0.7
    (a1, a2), (b1, b2), (c1, c2) = GRADS
    v1 = [a1, a2]
    v2 = [b * a1 + b1, b * a2 + b2]
    v3 = [b * b * a1 + b * b1 + c1, b * b * a2 + b * b2 + c2]
    expected = [[-LR * (g[i] + b * v[i]) for i in range(2)]
                for g, v in zip(GRADS, (v1, v2, v3))]
    np.testing.assert_allclose(run(Nesterov(LR, beta=b), GRADS), expected, rtol=1e-14)


def test_adam_three_steps_algorithm_1():
    b1, b2, eps = 0.8, 0.95, 1e-3
    expected = []
    m, v = [0.0, 0.0], [0.0, 0.0]
    for t, g in enumerate(GRADS, start=1):
        row = []
        for i in range(2):
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            m_hat = m[i] / (1 - b1**t)
            v_hat = v[i] / (1 - b2**t)
            row.append(-LR * m_hat / (math.sqrt(v_hat) + eps))
        expected.append(row)
    np.testing.assert_allclose(run(Adam(LR, b1=b1, b2=b2, eps=eps), GRADS), expected, rtol=1e-13)


@pytest.mark.parametrize("transform", ["sign", "tanh"])
def test_lion_three_steps(transform):
    b1, b2, scale = 0.8, 0.95, 2.0
    phi = (lambda c: math.copysign(1.0, c)) if transform == "sign" else (
        lambda c: math.tanh(scale * c))
    expected, m = [], [0.0, 0.0]
    for g in GRADS:
        row = []
        for i in range(2):
            c = b1 * m[i] + (1 - b1) * g[i]
            row.append(-LR * phi(c))
            m[i] = b2 * m[i] + (1 - b2) * g[i]
        expected.append(row)
    opt = Lion(LR, b1=b1, b2=b2, transform=transform, tanh_scale=scale)
    np.testing.assert_allclose(run(opt, GRADS), expected, rtol=1e-14)


def test_lion_weight_decay_on_quadratic():
    # f(x) = 0.5 * sum a_i x_i^2, gradient a_i x_i; decoupled decay uses x_t (before the step)
    a, x0, b1, b2, wd = [1.0, 4.0], [1.0, -0.5], 0.9, 0.99, 0.3
    x, m, expected = list(x0), [0.0, 0.0], []
    for _ in range(3):
        row = []
        for i in range(2):
            g = a[i] * x[i]
            c = b1 * m[i] + (1 - b1) * g
            row.append(-LR * (math.copysign(1.0, c) + wd * x[i]))
            m[i] = b2 * m[i] + (1 - b2) * g
        x = [x[i] + row[i] for i in range(2)]
        expected.append(row)
    opt = Lion(LR, b1=b1, b2=b2, weight_decay=wd)
    state, xs, got = opt.init(x0), np.array(x0), []
    for _ in range(3):
        u, state = opt.update(np.array(a) * xs, state, params=xs)
        xs = xs + u
        got.append(u)
    np.testing.assert_allclose(got, expected, rtol=1e-14)


# ---- longer runs against second algorithms -------------------------------------------------

A = np.array([[3.0, 1.0], [1.0, 2.0]])
X_STAR = np.array([1.0, -1.0])


def quad_grad(x):
    return A @ (x - X_STAR)


def test_heavy_ball_equals_two_term_polyak_recursion():
    eta, beta, x0 = 0.15, 0.8, np.array([4.0, 3.0])
    prev, cur, polyak = x0, x0, [x0]
    for _ in range(50):
        prev, cur = cur, cur - eta * quad_grad(cur) + beta * (cur - prev)
        polyak.append(cur)
    opt, x = HeavyBall(eta, beta=beta), x0
    state, ours = opt.init(x0), [x0]
    for _ in range(50):
        u, state = opt.update(quad_grad(x), state)
        x = x + u
        ours.append(x)
    np.testing.assert_allclose(ours, polyak, rtol=1e-11, atol=1e-12)
    assert np.linalg.norm(ours[-1] - X_STAR) < 1e-2  # converges on this well-posed quadratic


def test_nesterov_equals_torch_sgd_source_semantics():
    # torch.optim.SGD: on the first step buf = clone(g); later buf = momentum*buf + (1-damp)*g;
    # with nesterov the direction is g + momentum*buf; p -= lr * direction.
    lr, momentum, x0 = 0.1, 0.9, np.array([4.0, 3.0])
    p, buf, torch_path = x0.copy(), None, []
    for _ in range(20):
        g = quad_grad(p)
        buf = g.copy() if buf is None else momentum * buf + g
        p = p - lr * (g + momentum * buf)
        torch_path.append(p)
    opt, x = Nesterov(lr, beta=momentum), x0
    state, ours = opt.init(x0), []
    for _ in range(20):
        u, state = opt.update(quad_grad(x), state)
        x = x + u
        ours.append(x)
    np.testing.assert_allclose(ours, torch_path, rtol=1e-12, atol=1e-14)


@given(st.lists(st.floats(1e-2, 1e3) | st.floats(-1e3, -1e-2), min_size=1, max_size=6))
@settings(max_examples=30, deadline=None)
def test_adam_first_step_is_minus_lr_sign(g):
    # m_hat_1 = g, v_hat_1 = g^2, so the step is -lr g / (|g| + eps) ~ -lr sign(g)
    g = np.array(g)
    u, _ = Adam(LR).update(g, Adam(LR).init(np.zeros_like(g)))
    np.testing.assert_allclose(u, -LR * np.sign(g), rtol=1e-5)


finite_nonzero = st.floats(0.01, 5.0) | st.floats(-5.0, -0.01)


@given(st.lists(st.lists(finite_nonzero, min_size=3, max_size=3), min_size=1, max_size=5))
@settings(max_examples=30, deadline=None)
def test_lion_sign_steps_are_exactly_lr_and_tanh_steps_smaller(grads_seq):
    sign_steps = run(Lion(LR), grads_seq)
    assert np.all(np.abs(sign_steps) == LR)
    tanh_steps = run(Lion(LR, transform="tanh"), grads_seq)
    assert np.all(np.abs(tanh_steps) < LR)  # |c| <= 5 here; tanh rounds to 1.0 only past ~19.0


# ---- batching, purity, schedules --------------------------------------------------------

OPTIMIZERS = [
    lambda lr: GradientDescent(lr),
    lambda lr: HeavyBall(lr, beta=0.6),
    lambda lr: Nesterov(lr, beta=0.6),
    lambda lr: Adam(lr, b1=0.7, b2=0.9),
    lambda lr: Lion(lr, b1=0.7, b2=0.9, weight_decay=0.1),
    lambda lr: Lion(lr, transform="tanh", tanh_scale=0.5),
]


@pytest.mark.parametrize("make", OPTIMIZERS)
@given(data=st.data())
@settings(max_examples=15, deadline=None)
def test_batched_runs_equal_separate_runs(make, data):
    batch = tuple(data.draw(st.lists(st.integers(1, 3), min_size=1, max_size=2), label="batch"))
    d = data.draw(st.integers(1, 4), label="d")
    steps = 3
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    lrs = rng.uniform(1e-3, 1.0, size=batch)
    grads = rng.normal(size=(steps,) + batch + (d,))
    x0 = rng.normal(size=batch + (d,))
    # iterate-dependent gradients would also work; fixed ones keep the reference simple
    batched = run(make(inv_sqrt(lrs)), list(grads), x0)
    for idx in np.ndindex(batch):
        single = run(make(inv_sqrt(float(lrs[idx]))), [g[idx] for g in grads], x0[idx])
        np.testing.assert_allclose(batched[(slice(None),) + idx], single, rtol=1e-13, atol=0)


@pytest.mark.parametrize("make", OPTIMIZERS)
def test_update_is_pure(make):
    opt = make(LR)
    x = np.array([[1.0, -2.0], [0.5, 0.25]])
    state = opt.init(x)
    for g in ([[1.0, 2.0], [-3.0, 0.5]], [[0.2, -1.0], [1.0, 1.0]]):
        _, state = opt.update(np.array(g), state, params=x)
    arrays = [a for a in state if isinstance(a, np.ndarray)]
    snapshot = [a.copy() for a in arrays]
    for a in arrays:
        a.setflags(write=False)  # any in-place write would raise
    grads = np.array([[0.3, 0.4], [-0.5, 2.0]])
    grads_copy, x_copy = grads.copy(), x.copy()
    _, new_state = opt.update(grads, state, params=x)
    for a, s in zip(arrays, snapshot):
        np.testing.assert_array_equal(a, s)
    np.testing.assert_array_equal(grads, grads_copy)
    np.testing.assert_array_equal(x, x_copy)
    assert state.count == 2 and new_state.count == 3


@pytest.mark.parametrize("schedule, decay",
                         [(inv_sqrt, lambda t: t**-0.5), (inv_t, lambda t: 1 / t)])
def test_decaying_schedules_shrink_steps(schedule, decay):
    g = np.array([2.0, -1.0])
    steps = run(GradientDescent(schedule(0.5)), [g] * 5)
    for t, u in enumerate(steps, start=1):
        np.testing.assert_allclose(u, -0.5 * decay(t) * g, rtol=1e-15)
    # heavy ball: eta_t multiplies the whole velocity v_t = sum_s beta^{t-s} g
    hb = run(HeavyBall(schedule(0.5), beta=0.5), [g] * 3)
    for t, u in enumerate(hb, start=1):
        np.testing.assert_allclose(u, -0.5 * decay(t) * sum(0.5**k for k in range(t)) * g)


def test_callable_schedule_sees_one_based_steps():
    seen = []

    def eta(t):
        seen.append(t)
        return 1.0 / (t * t)

    steps = run(GradientDescent(eta), [[1.0]] * 3)
    assert seen == [1, 2, 3]
    np.testing.assert_allclose(steps[:, 0], [-1.0, -0.25, -1 / 9])


# ---- describe / make_optimizer -------------------------------------------------------------

@pytest.mark.parametrize("make", OPTIMIZERS)
@pytest.mark.parametrize("lr", [0.05, inv_t(0.3), inv_sqrt(np.array([0.1, 0.2]))])
def test_describe_round_trips(make, lr):
    opt = make(lr)
    spec = json.loads(json.dumps(opt.describe()))
    assert spec["name"] in BASELINES and BASELINES[spec["name"]] is type(opt)
    rebuilt = make_optimizer(spec)
    assert rebuilt.describe() == opt.describe()
    grads = [np.array([[1.0, -2.0], [0.5, 3.0]])] * 2
    np.testing.assert_array_equal(run(rebuilt, grads, np.ones((2, 2))),
                                  run(opt, grads, np.ones((2, 2))))


def test_describe_lists_hyper_parameters():
    assert Adam(0.01).describe() == {
        "name": "adam", "lr": {"kind": "constant", "eta0": 0.01},
        "b1": 0.9, "b2": 0.999, "eps": 1e-8}
    assert set(Lion(0.01).describe()) == {
        "name", "lr", "b1", "b2", "weight_decay", "transform", "tanh_scale"}


def test_replacing_lr_rebuilds_the_schedule():
    # the runner narrows per-run step sizes with dataclasses.replace(opt, lr=...)
    opt = dataclasses.replace(HeavyBall(np.array([0.1, 0.2]), beta=0.5), lr=inv_t(0.4))
    assert opt.schedule.describe() == {"kind": "inv_t", "eta0": 0.4} and opt.beta == 0.5


def test_make_optimizer_rejects_unknown_name_and_callable_lr():
    with pytest.raises(ValueError, match="optimizer name"):
        make_optimizer({"name": "sgdw", "lr": {"kind": "constant", "eta0": 0.1}})
    with pytest.raises(ValueError, match="callable"):
        make_optimizer(GradientDescent(lambda t: 0.1).describe())


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("build, param", [
    (lambda: GradientDescent(-0.1), "lr"),
    (lambda: HeavyBall(0.1, beta=1.0), "beta"),
    (lambda: Nesterov(0.1, beta=-0.1), "beta"),
    (lambda: Adam(0.1, b1=1.0), "b1"),
    (lambda: Adam(0.1, b2=1.5), "b2"),
    (lambda: Adam(0.1, eps=0.0), "eps"),
    (lambda: Lion(0.1, b2=1.0), "b2"),
    (lambda: Lion(0.1, weight_decay=-1.0), "weight_decay"),
    (lambda: Lion(0.1, transform="relu"), "transform"),
    (lambda: Lion(0.1, transform="tanh", tanh_scale=0.0), "tanh_scale"),
])
def test_bad_hyper_parameters_name_the_parameter(build, param):
    with pytest.raises(ValueError, match=param):
        build()


@pytest.mark.parametrize("opt", [factory(LR) for factory in OPTIMIZERS])
def test_bad_grads_are_rejected(opt):
    state = opt.init(np.zeros((2, 3)))
    x = np.zeros((2, 3))
    if not isinstance(opt, GradientDescent):  # GD keeps no buffer to compare shapes against
        with pytest.raises(ValueError, match=r"grads.*\(2, 3\).*\(3,\)"):
            opt.update(np.ones(3), state, params=x)
    bad = np.ones((2, 3))
    bad[1, 0] = np.nan
    with pytest.raises(ValueError, match="grads must be finite"):
        opt.update(bad, state, params=x)


def test_per_run_lr_must_match_batch_axes():
    opt = GradientDescent(np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="lr"):
        opt.update(np.ones((2, 3)), opt.init(np.zeros((2, 3))))


def test_lion_weight_decay_needs_params():
    opt = Lion(0.1, weight_decay=0.1)
    with pytest.raises(ValueError, match="params"):
        opt.update(np.ones(2), opt.init(np.zeros(2)))


def test_scalar_params_are_rejected():
    with pytest.raises(ValueError, match="params"):
        HeavyBall(0.1).init(1.0)
