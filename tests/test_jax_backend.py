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
  (2K + 8)\varepsilon S`, :math:`S = \sum_k \alpha_k (|m_k| + \beta_k |m^{old}_k| + (1-\beta_k)|g|)`;
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
from emc_theory.problems import (FACTORIES, StackedProblem, cauchy_loss, cosine_bowl,  # noqa: E402
                                 huber, log_sum_exp, logistic_regression, quadratic,
                                 smoothed_abs)
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
        entropy_of = jax.jit(lambda g, kind: jb.tree_entropy([g], kind), static_argnums=1)
        directions = {kind: jax.jit(jb.scale_by_emc(K, reading, kind, tau).update)
                      for kind in ("l2", "l1")}
        for i, (name, problem) in enumerate(FAMILIES.items()):
            kind = ("l2", "l1")[i % 2]
            for lr in (Schedule(0.5 / problem.L, "inv_sqrt"), 0.3 / problem.L, 1e3 / problem.L):
                opt = EMC(K=K, lr=lr, reading=reading, entropy=kind, tau=tau)
                x = problem.x_star + 2.0 * np.random.default_rng(i).standard_normal(D)
                state = opt.init(x)
                for t in range(40):
                    g = problem.grad(x)
                    if np.abs(g).max() > 1e150:   # far diverged: the point is made
                        break
                    u_np, new, diag = opt.update_with_diagnostics(g, state)
                    h, new_j = directions[kind](jnp.asarray(g), jb.ScaleByEMCState(
                        jnp.asarray(state.count, jnp.int32), jnp.asarray(state.momenta)))
                    eta = float(opt.schedule(t + 1))
                    u_j, m_j = np.asarray(h) * -eta, np.asarray(new_j.momenta)
                    assert int(new_j.count) == new.count
                    ht_j = float(entropy_of(jnp.asarray(g), kind)) / np.log(D)
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
        assert float(jb.tree_entropy([jnp.zeros(D)], kind)) == np.log(D)
        tx = jb.emc(0.1, K=K, entropy=kind)
        u, state = jax.jit(tx.update)(jnp.zeros(D), tx.init(jnp.zeros(D)))
    assert diag.normalized_entropy == 1.0
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
        assert np.isnan(float(jb.tree_entropy([bad])))
        u, new = jax.jit(tx.update)(bad, state)
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


@pytest.mark.parametrize("model", ("logistic", "mlp"))
@pytest.mark.parametrize("reading", READINGS)
def test_training_loop_trajectory_equals_numpy_core(model, reading):
    """60 steps of a standard optax loop (jit of grad, tx.update, optax.apply_updates) against
    the NumPy core on the same flat vector with hand-written gradients. Bound: every iterate
    within 1e-12 (relative to max(1, |theta|_inf)) of the NumPy core's: each step adds a few
    hundred ulp at most (the step bound above) and these training runs contract, so 60 steps
    stay far below it. The loss must fall (the runs do train)."""
    rng = np.random.default_rng(11)
    if model == "logistic":
        X, y = logistic_data(rng)
        params = {"w": rng.standard_normal(5) * 0.1, "b": np.zeros(())}
        loss, numpy_grad = logistic_loss, logistic_grad_numpy
    else:
        X, y = mlp_data(rng)
        params = {"W1": rng.standard_normal((3, 8)) * 0.5, "b1": np.zeros(8),
                  "W2": rng.standard_normal((8, 1)) * 0.5, "b2": np.zeros(1)}
        loss, numpy_grad = mlp_loss, mlp_grad_numpy
    lr = TRAIN_LR[reading]
    opt = EMC(K=3, lr=lr, reading=reading)
    theta = flat(params)
    state = opt.init(theta)
    with jb.x64():
        Xj, yj = jnp.asarray(X), jnp.asarray(y)
        tx = jb.emc(lr, K=3, reading=reading)
        p = jax.tree.map(jnp.asarray, params)
        opt_state = tx.init(p)

        @jax.jit
        def step(p, opt_state):
            grads = jax.grad(loss)(p, Xj, yj)
            updates, opt_state = tx.update(grads, opt_state, p)
            return optax.apply_updates(p, updates), opt_state

        first = float(loss(p, Xj, yj))
        assert np.allclose(flat(jax.grad(loss)(p, Xj, yj)), numpy_grad(theta, X, y),
                           rtol=1e-13, atol=1e-15)
        for _ in range(60):
            p, opt_state = step(p, opt_state)
            u, state = opt.update(numpy_grad(theta, X, y), state)
            theta = theta + u
            err = np.max(np.abs(flat(p) - theta)) / max(1.0, np.max(np.abs(theta)))
            assert err <= 1e-12
        assert float(loss(p, Xj, yj)) < 0.9 * first


# ----------------------------------------------------------------------------- compiled runs


def stacked_grid():
    """Five families of d = 5 in one stack; step sizes from converging to overflowing."""
    problems = [quadratic(5, cond=20.0, seed=3), huber(5, seed=1), cosine_bowl(5, seed=4),
                log_sum_exp(5, 12, seed=2), logistic_regression(30, 5, seed=1)]
    lrs = np.array([0.02, 0.5, 8.0, 60.0, 1e200])
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


@pytest.mark.parametrize("reading", READINGS)
def test_run_batch_statuses_equal_numpy_runner(reading):
    """Statuses and stop steps identical to ``minimize`` (75 runs, 60 steps, tol 1e-6); final
    values within 1e-10 relative wherever the NumPy run is itself stable to that level: moving
    its start by one ulp changes its final gap by less than 1e-12 relative. (Elsewhere, e.g. a
    bounded chaotic run at a large step, the last bits of any backend's arithmetic decide the
    final value, and only the status is a property of the run.)"""
    problem, x0, lrs, kinds = stacked_grid()
    opt = EMC(K=3, lr=Schedule(lrs, kinds), reading=reading)
    options = dict(tol=1e-6, history=reading == "linear")
    ref = minimize(opt, problem, x0, 60, **options)
    moved = minimize(opt, problem, x0 * (1 + EPS), 60, tol=1e-6, history=False)
    out = jb.run_batch(problem, x0, 60, lrs=lrs, kinds=kinds, K=3, reading=reading, **options)
    assert list(out["status"]) == list(ref.status)
    assert np.array_equal(out["stop_step"], ref.stop_step)
    assert {"diverged", "non-finite", "max_steps"} <= set(ref.status)
    with np.errstate(invalid="ignore"):   # inf - inf of overflowed runs
        stable = np.isfinite(ref.final_gap) & (
            np.abs(moved.final_gap - ref.final_gap) <= 1e-12 * np.abs(ref.final_gap))
    assert stable.sum() >= len(stable) // 3
    for name in ("final_gap", "final_grad_norm"):
        mine, theirs = out[name][stable], getattr(ref, name)[stable]
        assert np.all(np.abs(mine - theirs) <= 1e-10 * np.abs(theirs)), name
        assert np.array_equal(np.isnan(out[name]), np.isnan(getattr(ref, name)))
    if options["history"]:
        assert out["f_gap"].shape == ref.f_gap.shape == (61, len(x0))
        assert np.array_equal(np.isnan(out["f_gap"]), np.isnan(ref.f_gap))


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
    ref = minimize(EMC(K=3, lr=Schedule(lrs, kinds), reading="power"), problem, x0, 60,
                   tol=1e-6, history=False)
    with jax.default_device(gpus[0]):
        out = jb.run_batch(problem, x0, 60, lrs=lrs, kinds=kinds, K=3, reading="power",
                           tol=1e-6)
    assert list(out["status"]) == list(ref.status)
    assert np.array_equal(out["stop_step"], ref.stop_step)
