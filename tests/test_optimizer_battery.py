"""One battery over every optimizer (EMC under each reading and every baseline), in the style of
optax's optimizer tests: init/update shapes, purity (no input or state array is written unless
``inplace=True``), a batch of B runs equals B single runs, float32 in gives float32 out, the
describe -> rebuild -> replay round trip, and the checks at the boundary (a state from another
optimizer or corrupted, an empty batch, complex or mistyped input, a per-run lr of the wrong
length), each naming the parameter.

The gradients are iterate-dependent (a separable quadratic written out here), so a batched run
that mixed up its rows, or a float32 run that silently went through float64, would show."""
import itertools
import json

import numpy as np
import pytest

from emc_theory import EMC, READINGS, Schedule, inv_sqrt, minimize
from emc_theory.baselines import BASELINES, Adam, GradientDescent, HeavyBall, Lion, Nesterov
from emc_theory.optimizers import OPTIMIZERS, make_optimizer
from emc_theory.problems import quadratic
from emc_theory.replay import replay, run_spec

FACTORIES = {
    **{f"emc_{reading}": (lambda lr, r=reading: EMC(K=3, lr=lr, reading=r))
       for reading in READINGS},
    "emc_l1_tau": lambda lr: EMC(K=4, lr=lr, reading="root", entropy="l1", tau=0.5),
    "gd": lambda lr: GradientDescent(lr),
    "heavy_ball": lambda lr: HeavyBall(lr, beta=0.7),
    "nesterov": lambda lr: Nesterov(lr, beta=0.7),
    "adam": lambda lr: Adam(lr, b1=0.8, b2=0.95),
    "lion": lambda lr: Lion(lr, b1=0.8, b2=0.95),
    "lion_weight_decay": lambda lr: Lion(lr, weight_decay=0.3),
    "lion_tanh": lambda lr: Lion(lr, transform="tanh", tanh_scale=0.5),
}
NAMES = sorted(FACTORIES)
D = 5
CURVATURE = np.linspace(1.0, 4.0, D)   # f(x) = 0.5 sum_i c_i (x_i - 1)^2


def grad(x):
    """The quadratic's gradient, in ``x``'s dtype."""
    return CURVATURE.astype(x.dtype) * (x - x.dtype.type(1))


def run(opt, x0, steps=4):
    """``steps`` updates from ``x0`` along the quadratic; returns the updates and the last state."""
    x = np.array(x0)
    state, out = opt.init(x), []
    for _ in range(steps):
        u, state = opt.update(grad(x), state, x)
        x = x + u
        out.append(u)
    return np.stack(out), state


def arrays(state):
    """The arrays of a state (its buffers)."""
    return [a for a in state if isinstance(a, np.ndarray)]


def start(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def test_the_battery_covers_every_optimizer_and_reading():
    built = [FACTORIES[name](0.1) for name in NAMES]
    assert {opt.name for opt in built} == set(OPTIMIZERS) == {"emc", *BASELINES}
    assert {opt.reading for opt in built if isinstance(opt, EMC)} == set(READINGS)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(D,), (3, D), (2, 3, D)])
def test_init_and_update_shapes(name, shape):
    opt = FACTORIES[name](0.05)
    x = start(shape)
    state = opt.init(x)
    assert state.count == 0
    if isinstance(opt, EMC):
        assert state.momenta.shape == (opt.K,) + shape
    else:
        assert all(a.shape == shape for a in arrays(state))
    updates, new = opt.update(grad(x), state, x)
    assert updates.shape == shape and np.all(np.isfinite(updates))
    assert new.count == 1 and [a.shape for a in arrays(new)] == [a.shape for a in arrays(state)]


@pytest.mark.parametrize("name", NAMES)
def test_update_is_pure(name):
    opt = FACTORIES[name](0.05)
    x = start((3, D))
    _, state = run(opt, x, steps=2)
    g = grad(x)
    inputs = arrays(state) + [g, x]
    saved = [a.copy() for a in inputs]
    for a in inputs:
        a.setflags(write=False)   # an in-place write would raise
    updates, new = opt.update(g, state, x)
    for a, s in zip(inputs, saved):
        np.testing.assert_array_equal(a, s)
    assert state.count == 2 and new.count == 3
    for fresh in arrays(new) + [updates]:   # nothing returned aliases an input
        assert not any(np.shares_memory(fresh, a) for a in inputs)


@pytest.mark.parametrize("reading", READINGS)
def test_emc_inplace_writes_the_state_and_gives_the_pure_result(reading):
    opt = EMC(K=3, lr=0.05, reading=reading)
    x = start((3, D))
    _, state = run(opt, x, steps=2)
    before = state.momenta.copy()
    pure_updates, pure = opt.update(grad(x), state, x)
    np.testing.assert_array_equal(state.momenta, before)
    updates, new = opt.update(grad(x), state, x, inplace=True)
    np.testing.assert_array_equal(updates, pure_updates)
    np.testing.assert_array_equal(new.momenta, pure.momenta)
    assert np.shares_memory(new.momenta, state.momenta)
    assert not np.array_equal(state.momenta, before)   # in place: the old buffers moved on


@pytest.mark.parametrize("name", NAMES)
def test_a_batch_of_runs_equals_the_runs_one_by_one(name):
    lrs = np.array([0.02, 0.05, 0.1, 0.2])
    kinds = np.array(["constant", "inv_sqrt", "inv_t", "inv_sqrt"])
    x0 = start((lrs.size, D), seed=3)
    batched, _ = run(FACTORIES[name](Schedule(lrs, kinds)), x0, steps=5)
    for b in range(lrs.size):
        single, _ = run(FACTORIES[name](Schedule(float(lrs[b]), str(kinds[b]))), x0[b], steps=5)
        np.testing.assert_allclose(batched[:, b], single, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lr", [0.05, inv_sqrt(np.array([0.05, 0.1, 0.02]))],
                         ids=["scalar_lr", "per_run_schedule"])
def test_float32_in_gives_float32_out(name, lr):
    opt = FACTORIES[name](lr)
    x32 = start((3, D), seed=1, dtype=np.float32)
    updates, state = run(opt, x32)
    assert updates.dtype == np.float32
    floating = [a for a in arrays(state) if a.dtype.kind == "f"]
    assert len(floating) == len(arrays(state)) - (name == "adam" and state[-1] is not None)
    assert all(a.dtype == np.float32 for a in floating)
    # and the float32 run is the float64 run to float32 precision
    updates64, _ = run(opt, x32.astype(np.float64))
    np.testing.assert_allclose(updates, updates64, rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_describe_rebuilds_the_optimizer(name):
    for lr in (0.05, inv_sqrt(0.3), Schedule(np.array([0.1, 0.2]), ["constant", "inv_t"])):
        opt = FACTORIES[name](lr)
        spec = json.loads(json.dumps(opt.describe()))
        rebuilt = make_optimizer(spec)
        assert type(rebuilt) is type(opt) and rebuilt.describe() == opt.describe()
        x0 = start((2, D), seed=2)
        np.testing.assert_array_equal(run(rebuilt, x0)[0], run(opt, x0)[0])


@pytest.mark.parametrize("name", NAMES)
def test_replay_of_a_run_record_is_identical(name):
    problem = quadratic(D, cond=10.0, seed=1)
    opt = FACTORIES[name](inv_sqrt(0.05))
    x0 = problem.x_star + start(D, seed=4)
    first = minimize(opt, problem, x0, 40, tol=1e-9)
    again = replay(json.loads(json.dumps(run_spec(opt, problem, x0, 40, tol=1e-9))))
    assert (again.status, again.stop_step) == (first.status, first.stop_step)
    np.testing.assert_array_equal(again.params, first.params)
    np.testing.assert_array_equal(again.f_gap, first.f_gap)
    assert again.optimizer == first.optimizer


# ---- the boundary: each bad input raises naming the parameter --------------------------------

def _state_kind(opt):
    return (type(opt.init(np.zeros(D))).__name__, getattr(opt, "K", None))


@pytest.mark.parametrize("name, other", [
    pair for pair in itertools.permutations(NAMES, 2)
    if _state_kind(FACTORIES[pair[0]](0.1)) != _state_kind(FACTORIES[pair[1]](0.1))])
def test_a_state_from_another_optimizer_is_refused_naming_state(name, other):
    # heavy ball and Nesterov share MomentumState (the same velocity), so that pair is not here
    opt, foreign = FACTORIES[name](0.1), FACTORIES[other](0.1)
    x = start((2, D))
    with pytest.raises((TypeError, ValueError), match=r"\bstate\b"):
        opt.update(grad(x), foreign.init(x), x)


@pytest.mark.parametrize("name", NAMES)
def test_a_corrupted_state_is_refused_naming_state(name):
    opt = FACTORIES[name](0.1)
    x = start((2, D))
    state = opt.init(x)
    corrupted = [state._replace(count=-1), state._replace(count="3"),
                 state._replace(count=1.5)]
    for field in state._fields[1:]:
        buffer = getattr(state, field)
        if isinstance(buffer, np.ndarray):
            corrupted += [state._replace(**{field: buffer[..., :-1]}),
                          state._replace(**{field: buffer.tolist()}),
                          state._replace(**{field: buffer.astype(int)})]
    for bad in corrupted:
        with pytest.raises((TypeError, ValueError), match=r"\bstate\b"):
            opt.update(grad(x), bad, x)


@pytest.mark.parametrize("name", NAMES)
def test_an_empty_batch_is_refused_naming_grads(name):
    opt = FACTORIES[name](0.1)
    x = np.zeros((0, D))
    state = opt.init(x)   # an empty batch can be set up (the runner does) but not updated
    with pytest.raises(ValueError, match=r"\bgrads\b.*empty"):
        opt.update(np.zeros((0, D)), state, x)


@pytest.mark.parametrize("name", NAMES)
def test_complex_params_and_grads_are_refused_naming_them(name):
    opt = FACTORIES[name](0.1)
    x = start((2, D))
    with pytest.raises(TypeError, match=r"\bparams\b.*complex"):
        opt.init(x + 1j)
    with pytest.raises(TypeError, match=r"\bgrads\b.*complex"):
        opt.update(grad(x) + 0.5j, opt.init(x), x)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("lr", [[0.1, 0.2], (0.1,), "0.1", b"0.1", True, 0.1 + 0j])
def test_lr_of_a_wrong_type_is_refused_naming_lr(name, lr):
    with pytest.raises(TypeError, match=r"\blr\b"):
        FACTORIES[name](lr)


@pytest.mark.parametrize("name", NAMES)
def test_per_run_lr_of_the_wrong_length_is_refused(name):
    x = start((2, D))
    opt = FACTORIES[name](np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"per-run lr .*\(2,\).*\(3,\)"):
        opt.init(x)
    # a schedule whose length only shows at a step (a callable) is caught there
    opt = FACTORIES[name](lambda t: np.array([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match=r"per-run lr .*\(2,\).*\(3,\)"):
        opt.update(grad(x), opt.init(x), x)
