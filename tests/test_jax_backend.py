r"""The JAX backend (extra ``jax``) against the NumPy core, in float64.

Step by step: on every test-problem family of :mod:`emc_theory.problems` and every reading, the
NumPy core's own iterates, state and gradients are fed to the compiled optax EMC, and each output
is checked against a bound derived from the conditioning of what it computes (``EPS`` is the
float64 unit roundoff; the constants cover XLA's fused multiply-adds, reduction order and its own
``exp``/``log``, which are the differences between the two backends):

* the normalised entropy: :math:`|\Delta \tilde H| \le 8\,\varepsilon`;
* each buffer: :math:`|\Delta m_k| \le 2\varepsilon(\beta_k|m_k^{old}| + (1-\beta_k)|g|)` (one
  rounding of the fused multiply-add against two);
* the mix :math:`\tilde m = \sum_k \alpha_k m_k`: :math:`|\Delta \tilde m| \le \delta =
  (2K + 8)\varepsilon S` with
  :math:`S = \sum_k \alpha_k (|m_k| + \beta_k |m^{old}_k| + (1-\beta_k)|g|)`;
* the update :math:`u = -\eta\,\mathrm{sign}(\tilde m)|\tilde m|^e`: the error of
  :math:`|\tilde m|^e` propagated from :math:`\delta` (mean-value bound; where
  :math:`|\tilde m| \le \delta` the sign may differ and the bound is :math:`2(2\delta)^e`), from
  :math:`|\Delta e| \le 16\varepsilon` through :math:`|\tilde m|^e |\log|\tilde m||`, plus
  :math:`4\varepsilon(1 + e|\log|\tilde m||)` relative for ``exp``/``log``.

Trajectories (optax training loops, compiled batches of runs) accumulate these local
differences: the bounds for them are stated at each test.
"""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is not installed (pip install -e '.[jax]')")
optax = pytest.importorskip("optax", reason="optax is not installed (pip install -e '.[jax]')")

import jax.numpy as jnp  # noqa: E402

from emc_theory import EMC, NonFiniteGradientError, minimize  # noqa: E402
from emc_theory import jax_backend as jb  # noqa: E402
from emc_theory.cascade import level_betas  # noqa: E402
from emc_theory.entropy import gradient_entropy  # noqa: E402
from emc_theory.problems import (  # noqa: E402
    FACTORIES,
    StackedProblem,
    cauchy_loss,
    cosine_bowl,
    huber,
    log_sum_exp,
    logistic_regression,
    quadratic,
    smoothed_abs,
)
from emc_theory.schedules import Schedule  # noqa: E402

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
D = 6
FAMILIES = {
    "quadratic": quadratic(D, cond=50.0, seed=1),
    "logistic_regression": logistic_regression(40, D, seed=2),
    "log_sum_exp": log_sum_exp(D, 12, seed=3),
    "huber": huber(D, seed=4, rotate=True),
    "smoothed_abs": smoothed_abs(D, seed=5),
    "cauchy_loss": cauchy_loss(D, seed=6, rotate=True),
    "cosine_bowl": cosine_bowl(D, seed=7),
}
READINGS = ("power", "root", "linear")


def test_every_problem_family_is_covered():
    assert set(FAMILIES) == set(FACTORIES)


# ----------------------------------------------------------------------------- bounds


def mix_scale(alpha, m_new, m_old, g, K):
    """:math:`S` of the module docstring, per coordinate."""
    betas = level_betas(K)[:, None]
    return np.einsum("k,kd->d", alpha, np.abs(m_new) + betas * np.abs(m_old)
                     + (1 - betas) * np.abs(g))


def update_bound(reading, eta, alpha, gamma, m_new, m_old, g, u_np):
    """The bound of the module docstring on ``|u_jax - u_numpy|``, per coordinate."""
    K = alpha.size
    delta = (2 * K + 8) * EPS * mix_scale(alpha, m_new, m_old, g, K)
    if reading == "linear":
        return eta * delta + 4 * EPS * np.abs(u_np)
    e = gamma if reading == "power" else 1 / gamma
    a = np.abs(np.einsum("k,kd->d", alpha, m_new))
    lo, hi = np.maximum(a - delta, 0.0), a + delta
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope_point = hi if e >= 1 else lo
        mix = np.where(a > delta, e * slope_point ** (e - 1) * delta, 2 * (2 * delta) ** e)
        log_a = np.abs(np.log(np.maximum(lo, TINY)))
        own = hi**e * (16 * EPS * log_a + 4 * EPS * (1 + e * log_a))
    return eta * (mix + own) + 4 * EPS * np.abs(u_np)


def emc_state(tx_state, count, momenta):
    """The optax state of :func:`jb.emc` holding the NumPy core's ``count`` and buffers."""
    emc_part, lr_part = tx_state
    if "count" in getattr(lr_part, "_fields", ()):
        lr_part = lr_part._replace(count=jnp.asarray(count, jnp.int32))
    return (emc_part._replace(count=jnp.asarray(count, jnp.int32),
                              momenta=jnp.asarray(momenta)), lr_part)


# ----------------------------------------------------------------------------- step by step


@pytest.mark.parametrize("reading", READINGS)
def test_steps_match_numpy_core_on_every_problem_family(reading):
    """40 steps of the NumPy core per family (a 1/sqrt(t) schedule, a constant step size and one
    that diverges, so the entropy's rescaled path for huge gradients runs too); at each step the
    compiled ``scale_by_emc`` gets the same buffers and gradient, and its direction times
    :math:`-\\eta_t` (the last operation of both backends) is the update."""
    K, tau = 3, 0.8
    steps_checked = 0
    with jb.x64():
        def compiled(kind):   # the direction, new state and the entropy, in one program
            update = jb.scale_by_emc(K, reading, kind, tau).update
            return jax.jit(lambda g, s: (*update(g, s), jb.tree_entropy([g], kind)))

        directions = {kind: compiled(kind) for kind in ("l2", "l1")}
        for i, (name, problem) in enumerate(FAMILIES.items()):
            kind = ("l2", "l1")[i % 2]
            for lr in (Schedule(0.5 / problem.L, "inv_sqrt"), 0.3 / problem.L, 1e3 / problem.L):
                opt = EMC(K=K, lr=lr, reading=reading, entropy=kind, tau=tau)
                x = problem.x_star + 2.0 * np.random.default_rng(i).standard_normal(D)
                state = opt.init(x)
                for t in range(40):
                    with np.errstate(over="ignore", invalid="ignore"):
                        g = problem.grad(x)
                    if not np.abs(g).max() <= 1e150:   # far diverged: the point is made
                        break
                    u_np, new, diag = opt.update_with_diagnostics(g, state)
                    h, new_j, h_j = directions[kind](jnp.asarray(g), jb.ScaleByEMCState(
                        jnp.asarray(state.count, jnp.int32), jnp.asarray(state.momenta)))
                    eta = float(opt.schedule(t + 1))
                    u_j, m_j = np.asarray(h) * -eta, np.asarray(new_j.momenta)
                    assert int(new_j.count) == new.count
                    ht_j = float(h_j) / np.log(D)
                    assert abs(ht_j - diag.normalized_entropy) <= 8 * EPS, (name, t)
                    betas = level_betas(K)[:, None]
                    m_bound = 2 * EPS * (betas * np.abs(state.momenta) + (1 - betas) * np.abs(g))
                    assert np.all(np.abs(m_j - new.momenta) <= m_bound), (name, t)
                    bound = update_bound(reading, eta, diag.weights, float(diag.gamma),
                                         new.momenta, state.momenta, g, u_np)
                    err = np.abs(u_j - u_np)
                    assert np.all(err <= bound), (name, lr, t, err / bound)
                    x, state = x + u_np, new
                    steps_checked += 1
    assert steps_checked >= 7 * 2 * 40   # the converging runs ran their 40 steps


def test_update_bound_is_tight_enough_to_mean_something():
    """The bound of the update is a few hundred ulp of |u| where the mix is well conditioned:
    one wrong reading, a missing level or a wrong entropy would exceed it by far."""
    rng = np.random.default_rng(0)
    K = 3
    opt = EMC(K=K, lr=0.1, reading="power")
    state = opt.init(np.zeros(D))
    for _ in range(3):
        state = opt.update(rng.standard_normal(D), state)[1]
    g = rng.standard_normal(D)
    u, new, diag = opt.update_with_diagnostics(g, state)
    bound = update_bound("power", 0.1, diag.weights, float(diag.gamma), new.momenta,
                         state.momenta, g, u)
    assert np.median(bound / np.abs(u)) < 500 * EPS
    root = EMC(K=K, lr=0.1, reading="root").update(g, state)[0]
    assert np.all(np.abs(root - u) > 1e6 * bound)


def test_pytree_params_concatenate_leaves_for_the_entropy():
    """A pytree of three leaves is the NumPy core's flat vector (leaves in jax.tree order); the
    state has one (K, *leaf.shape) buffer per leaf. K = 1 and K = 7, tau = 2.5, both entropies."""
    rng = np.random.default_rng(3)
    shapes = {"a": (3, 4), "b": (5,), "c": ()}
    with jb.x64():
        for K, kind, reading in ((1, "l1", "root"), (7, "l2", "power")):
            opt = EMC(K=K, lr=0.05, reading=reading, entropy=kind, tau=2.5)
            tx = jb.emc(0.05, K=K, reading=reading, entropy=kind, tau=2.5)
            params = {k: jnp.asarray(rng.standard_normal(s)) for k, s in shapes.items()}
            tx_state = tx.init(params)
            assert tx_state[0].momenta["a"].shape == (K, 3, 4)
            state = opt.init(np.zeros(18))
            update = jax.jit(tx.update)
            for _ in range(5):
                grads = {k: jnp.asarray(rng.standard_normal(s) * 10.0 ** rng.uniform(-2, 2, s))
                         for k, s in shapes.items()}
                g = np.concatenate([np.ravel(grads[k]) for k in sorted(shapes)])
                assert np.array_equal(g, np.concatenate(
                    [np.ravel(leaf) for leaf in jax.tree.leaves(grads)]))
                u_np, new, diag = opt.update_with_diagnostics(g, state)
                u_tree, tx_state = update(grads, tx_state)
                u_j = np.concatenate([np.ravel(u_tree[k]) for k in sorted(shapes)])
                bound = update_bound(reading, 0.05, diag.weights, float(diag.gamma),
                                     new.momenta, state.momenta, g, u_np)
                assert np.all(np.abs(u_j - u_np) <= bound)
                state = new


# ----------------------------------------------------------------------------- undefined cases


def test_dimension_one_is_refused_as_in_the_numpy_core():
    with jb.x64():
        tx = jb.emc(0.1)
        for params in (jnp.zeros(1), {"w": jnp.zeros(())}, {"w": jnp.zeros((1, 1))}):
            with pytest.raises(ValueError, match="d .* must be >= 2"):
                tx.init(params)
        state = tx.init(jnp.zeros(2))
        with pytest.raises(ValueError, match="d .* must be >= 2"):
            jax.jit(jb.scale_by_emc().update)(jnp.zeros(1), jb.scale_by_emc().init(jnp.zeros(1)))
        assert state[0].momenta.shape == (3, 2)


@pytest.mark.parametrize("kind", ("l2", "l1"))
def test_zero_gradient_follows_the_zero_gradient_rule(kind):
    """g = 0: H = log d exactly, so the weights are those of H~ = 1, and the step is 0."""
    K = 4
    opt = EMC(K=K, lr=0.1, entropy=kind)
    u_np, new, diag = opt.update_with_diagnostics(np.zeros(D), opt.init(np.zeros(D)))
    with jb.x64():
        tx = jb.emc(0.1, K=K, entropy=kind)
        u, state, h = jax.jit(lambda g, s: (*tx.update(g, s), jb.tree_entropy([g], kind)))(
            jnp.zeros(D), tx.init(jnp.zeros(D)))
    assert float(h) == np.log(D) and diag.normalized_entropy == 1.0
    assert np.array_equal(np.asarray(u), u_np) and not np.any(u_np)
    assert np.array_equal(np.asarray(state[0].momenta), new.momenta)


def test_non_finite_gradient_raises_eagerly_and_is_nan_under_jit():
    with jb.x64():
        tx = jb.emc(0.1)
        state = tx.init(jnp.zeros(4))
        bad = jnp.array([1.0, np.nan, 2.0, 3.0])
        with pytest.raises(NonFiniteGradientError, match="grads must be finite"):
            tx.update(bad, state)
        with pytest.raises(NonFiniteGradientError):
            tx.update({"a": jnp.ones(2), "b": jnp.array([np.inf, 1.0])},
                      tx.init({"a": jnp.zeros(2), "b": jnp.zeros(2)}))
        u, new = jax.jit(tx.update)(bad, state)   # the NaN entropy makes every update NaN
        assert np.all(np.isnan(np.asarray(u)))
        assert np.array_equal(np.isnan(np.asarray(new[0].momenta)),
                              np.broadcast_to(np.isnan(bad), (3, 4)))


@pytest.mark.parametrize("kind", ("l2", "l1"))
def test_entropy_of_huge_and_tiny_gradients_matches_numpy(kind):
    """Gradients whose squares over- or underflow take the rescaled path in both backends."""
    g = np.random.default_rng(5).standard_normal(50)
    with jb.x64():
        entropy = jax.jit(lambda v: jb.tree_entropy([v], kind))
        for power in (-700, -520, 0, 520, 700):
            scaled = np.ldexp(g, power)
            h_np = float(gradient_entropy(scaled, kind))
            assert abs(float(entropy(jnp.asarray(scaled))) - h_np) <= 8 * EPS * np.log(50)
            assert abs(h_np - float(gradient_entropy(g, kind))) <= 8 * EPS * np.log(50)


def test_invalid_arguments_name_the_parameter():
    with pytest.raises(ValueError, match="K"):
        jb.emc(0.1, K=0)
    with pytest.raises(ValueError, match="reading"):
        jb.emc(0.1, reading="cube")
    with pytest.raises(ValueError, match="entropy"):
        jb.emc(0.1, entropy="l3")
    with pytest.raises(ValueError, match="tau"):
        jb.emc(0.1, tau=0.0)
    with pytest.raises(ValueError, match="learning_rate"):
        jb.emc(-1.0)
    with pytest.raises(TypeError, match="learning_rate"):
        jb.emc("0.1")
    with pytest.raises(ValueError, match="one schedule"):
        jb.emc(Schedule(np.array([0.1, 0.2])))


def test_x64_is_enabled_only_inside_the_context():
    if jax.config.jax_enable_x64:
        pytest.skip("JAX_ENABLE_X64 is set in this environment")
    with jb.x64():
        assert jnp.zeros(()).dtype == jnp.float64
    assert jnp.zeros(()).dtype == jnp.float32


def test_schedules_become_optax_schedules_counting_from_t_1():
    with jb.x64():
        for kind in ("constant", "inv_sqrt", "inv_t"):
            sched = jb.as_optax_schedule(Schedule(0.3, kind))
            for count in (0, 1, 8):
                assert float(sched(count)) == Schedule(0.3, kind)(count + 1)
    assert jb.as_optax_schedule(0.25) == 0.25
    assert jb.as_optax_schedule(optax.linear_schedule(1.0, 0.0, 10))(5) == 0.5


def test_importing_the_package_does_not_import_jax_and_a_missing_jax_names_the_extra():
    code = textwrap.dedent("""
        import sys
        import emc_theory, emc_theory.sweep, emc_theory.runner
        assert "jax" not in sys.modules and "optax" not in sys.modules, "jax imported"
        sys.modules["jax"] = None
        try:
            import emc_theory.jax_backend
        except ImportError as exc:
            assert "pip install -e '.[jax]'" in str(exc), str(exc)
        else:
            raise AssertionError("no ImportError without jax")
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ----------------------------------------------------------------------------- optax loops


def logistic_data(rng, n=64, p=5):
    X = rng.standard_normal((n, p))
    y = (X @ rng.standard_normal(p) + 0.3 * rng.standard_normal(n) > 0).astype(float)
    return X, y


def logistic_loss(params, X, y, reg=1e-2):
    z = X @ params["w"] + params["b"]
    return jnp.mean(jnp.logaddexp(0.0, z) - y * z) + 0.5 * reg * jnp.sum(params["w"] ** 2)


def logistic_grad_numpy(theta, X, y, reg=1e-2):
    """Hand-written gradient; ``theta`` = [b, w] (leaves in jax.tree order: "b" < "w")."""
    b, w = theta[0], theta[1:]
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    return np.concatenate([[np.mean(p - y)], X.T @ (p - y) / len(y) + reg * w])


def mlp_data(rng, n=64, p=3):
    X = rng.standard_normal((n, p))
    return X, np.sin(X @ rng.standard_normal(p))


def mlp_loss(params, X, y):
    hidden = jnp.tanh(X @ params["W1"] + params["b1"])
    return 0.5 * jnp.mean((hidden @ params["W2"] + params["b2"] - y[:, None]) ** 2)


def mlp_grad_numpy(theta, X, y, p=3, h=8):
    """Hand-written backpropagation; ``theta`` = [W1, W2, b1, b2] raveled (jax.tree order)."""
    W1 = theta[: p * h].reshape(p, h)
    W2 = theta[p * h: p * h + h].reshape(h, 1)
    b1, b2 = theta[p * h + h: p * h + 2 * h], theta[p * h + 2 * h:]
    hidden = np.tanh(X @ W1 + b1)
    residual = (hidden @ W2 + b2 - y[:, None]) / len(y)
    back = (residual @ W2.T) * (1 - hidden**2)
    return np.concatenate([(X.T @ back).ravel(), (hidden.T @ residual).ravel(),
                           back.sum(axis=0), residual.sum(axis=0)])


def flat(params):
    return np.concatenate([np.ravel(leaf) for leaf in jax.tree.leaves(params)])


TRAIN_LR = {"power": 0.5, "root": 0.05, "linear": 0.2}


def models(rng):
    """``(name, params, jax loss, numpy gradient, X, y)`` of the two models."""
    X, y = logistic_data(rng)
    logistic = ("logistic", {"w": rng.standard_normal(5) * 0.1, "b": np.zeros(())},
                logistic_loss, logistic_grad_numpy, X, y)
    X, y = mlp_data(rng)
    mlp = ("mlp", {"W1": rng.standard_normal((3, 8)) * 0.5, "b1": np.zeros(8),
                   "W2": rng.standard_normal((8, 1)) * 0.5, "b2": np.zeros(1)},
           mlp_loss, mlp_grad_numpy, X, y)
    return logistic, mlp


@pytest.mark.parametrize("reading", READINGS)
def test_training_loop_trajectories_equal_numpy_core(reading):
    """A logistic regression and a two-layer tanh MLP, 60 steps of a standard optax loop each
    (grad, tx.update, optax.apply_updates; both models' steps in one jit to compile once)
    against the NumPy core on the same flat vector with hand-written gradients. Bound: every
    iterate within 1e-12 (relative to max(1, |theta|_inf)) of the NumPy core's: each step adds
    a few hundred ulp at most (the step bounds above) and these training runs contract, so 60
    steps stay far below it. The losses must fall (the runs do train)."""
    lr = TRAIN_LR[reading]
    specs = models(np.random.default_rng(11))
    with jb.x64():
        tx = jb.emc(lr, K=3, reading=reading)
        data = [(jnp.asarray(X), jnp.asarray(y)) for *_, X, y in specs]
        losses = [loss for _, _, loss, _, _, _ in specs]

        @jax.jit
        def step(params, states):
            out = []
            for loss, (X, y), p, s in zip(losses, data, params, states):
                value, grads = jax.value_and_grad(loss)(p, X, y)
                updates, s = tx.update(grads, s, p)
                out.append((optax.apply_updates(p, updates), s, value, grads))
            return tuple(zip(*out))

        params = tuple(jax.tree.map(jnp.asarray, spec[1]) for spec in specs)
        states = tuple(tx.init(p) for p in params)
        thetas = [flat(spec[1]) for spec in specs]
        opts = [EMC(K=3, lr=lr, reading=reading) for _ in specs]
        numpy_states = [opt.init(theta) for opt, theta in zip(opts, thetas)]
        for t in range(60):
            params, states, values, grads = step(params, states)
            if t == 0:
                first = [float(v) for v in values]
            for i, (opt, spec) in enumerate(zip(opts, specs)):
                g = spec[3](thetas[i], *spec[4:])
                if t == 0:   # the hand-written gradients are the models' gradients
                    assert np.allclose(flat(grads[i]), g, rtol=1e-13, atol=1e-15), spec[0]
                u, numpy_states[i] = opt.update(g, numpy_states[i])
                thetas[i] = thetas[i] + u
                err = np.max(np.abs(flat(params[i]) - thetas[i]))
                assert err <= 1e-12 * max(1.0, np.abs(thetas[i]).max()), (spec[0], t, err)
        for value, before, spec in zip(values, first, specs):
            assert float(value) < 0.9 * before, spec[0]


# ----------------------------------------------------------------------------- compiled runs


def stacked_grid():
    """Three families of d = 5 in one stack (a rotated quadratic, a non-convex separable
    function, a composite one); step sizes from converging to overflowing."""
    problems = [quadratic(5, cond=20.0, seed=3), cosine_bowl(5, seed=4),
                logistic_regression(30, 5, seed=1)]
    lrs = np.array([0.02, 0.5, 30.0, 3e3, 1e200])   # times 1/L of each problem
    kinds = np.array(["constant", "inv_sqrt", "inv_t"])
    P, L, S = len(problems), len(lrs), len(kinds)
    assignment = np.repeat(np.arange(P), L * S)
    problem = StackedProblem(problems, assignment)
    run_lrs = np.tile(np.repeat(lrs, S), P) / np.array([p.L for p in problems])[assignment]
    run_kinds = np.tile(kinds, P * L)
    rng = np.random.default_rng(0)
    x_star = np.stack([p.x_star for p in problems])[assignment]
    x0 = x_star + rng.standard_normal((assignment.size, 5))
    return problem, x0, run_lrs, run_kinds


def numpy_reference(reading, problem, x0, lrs, kinds, history=False):
    """The NumPy runner's trajectory, and per run whether it is stable: the same status and stop
    step when the start moves by one or two ulp (4 moves), and (``values``) final gaps within
    1e-12 relative of each other."""
    opt = EMC(K=3, lr=Schedule(lrs, kinds), reading=reading)
    ref = minimize(opt, problem, x0, 60, tol=1e-4, gap_tol=1e-4, history=history)
    status = np.ones(len(x0), bool)
    values = np.isfinite(ref.final_gap)
    for k in (1, -1, 2, -2):
        moved = minimize(opt, problem, x0 * (1 + k * EPS), 60, tol=1e-4, gap_tol=1e-4,
                         history=False)
        status &= (moved.status == ref.status) & (moved.stop_step == ref.stop_step)
        with np.errstate(invalid="ignore"):   # inf - inf of overflowed runs
            values &= np.abs(moved.final_gap - ref.final_gap) <= 1e-12 * np.abs(ref.final_gap)
    return ref, status, values & status


@pytest.mark.parametrize("reading", READINGS)
def test_run_batch_statuses_equal_numpy_runner(reading):
    """45 runs, 60 steps, ``tol`` and ``gap_tol`` 1e-4. Statuses and stop steps identical to
    ``minimize`` for every run whose own status is a property of the run (unchanged when its
    start moves by an ulp; a chaotic run near the divergence threshold, e.g. the power reading
    at 30/L on the cosine bowl, diverges or not depending on the last bit of its start, in NumPy
    alone). Final values within 1e-10 relative (or 1e-13 absolute: near the minimum the gap and
    the gradient are differences of O(1) numbers) wherever NumPy's own final value is stable to
    1e-12 under those moves; elsewhere (a bounded chaotic run at a large step) the last bits of
    any backend's arithmetic decide the final value."""
    problem, x0, lrs, kinds = stacked_grid()
    history = reading == "linear"
    ref, stable, values_stable = numpy_reference(reading, problem, x0, lrs, kinds, history)
    out = jb.run_batch(problem, x0, 60, lrs=lrs, kinds=kinds, K=3, reading=reading, tol=1e-4,
                       gap_tol=1e-4, history=history)
    assert stable.mean() >= 0.9
    assert set(ref.status[stable]) == {"converged", "max_steps", "diverged", "non-finite"}
    assert list(out["status"][stable]) == list(ref.status[stable])
    assert np.array_equal(out["stop_step"][stable], ref.stop_step[stable])
    assert values_stable.sum() >= len(x0) // 3
    for name in ("final_gap", "final_grad_norm"):
        mine, theirs = out[name][values_stable], getattr(ref, name)[values_stable]
        assert np.all(np.abs(mine - theirs) <= 1e-10 * np.abs(theirs) + 1e-13), name
        # an overflowed run's last value is inf or NaN depending on the order of inf - inf
        assert np.array_equal(np.isfinite(out[name][stable]),
                              np.isfinite(getattr(ref, name)[stable]))
    if history:
        assert out["f_gap"].shape == ref.f_gap.shape == (61, len(x0))
        assert np.array_equal(np.isfinite(out["f_gap"][:, stable]),
                              np.isfinite(ref.f_gap[:, stable]))
        mine, theirs = out["f_gap"][:, values_stable], ref.f_gap[:, values_stable]
        recorded = np.isfinite(theirs)
        assert np.all(np.abs(mine - theirs)[recorded] <= 1e-10 * np.abs(theirs[recorded]) + 1e-13)


def test_run_batch_rejects_bad_input():
    problem = quadratic(4, seed=0)
    with pytest.raises(ValueError, match="x0"):
        jb.run_batch(problem, np.zeros((3, 5)), 10, lrs=0.1)
    with pytest.raises(ValueError, match="schedule kind"):
        jb.run_batch(problem, np.zeros((3, 4)), 10, lrs=0.1, kinds="cosine")
    with pytest.raises(ValueError, match="tol"):
        jb.run_batch(problem, np.zeros((3, 4)), 10, lrs=0.1, tol=np.ones(2))
    with pytest.raises(ValueError, match="no JAX form"):
        jb.run_batch(type("P", (), {"d": 4, "name": "mine", "f_star": 0.0})(),
                     np.zeros((3, 4)), 10, lrs=0.1)


def test_same_code_runs_on_a_gpu():
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if not gpus:
        pytest.skip("JAX finds no GPU here (the CPU tests above cover the code)")
    problem, x0, lrs, kinds = stacked_grid()
    ref, stable, _ = numpy_reference("power", problem, x0, lrs, kinds)
    with jax.default_device(gpus[0]):
        out = jb.run_batch(problem, x0, 60, lrs=lrs, kinds=kinds, K=3, reading="power",
                           tol=1e-4, gap_tol=1e-4)
    assert list(out["status"][stable]) == list(ref.status[stable])
    assert np.array_equal(out["stop_step"][stable], ref.stop_step[stable])
