"""Inputs validated at the boundary and numerical robustness of the core (issue 16, items 2-3):
each case either raises a ValueError/TypeError naming the parameter (and its allowed range), or
gives the documented result, checked against an independent value (a closed form, a scaling
law, Adam's Algorithm 1 in 50-digit arithmetic). The optimizer-wide cases (a state from another
optimizer or corrupted, an empty batch, complex params or grads, lr of a wrong type or length)
are in ``test_optimizer_battery.py``, once per optimizer."""

import json
import re
import warnings

import mpmath
import numpy as np
import pytest

import emc_theory as et
from emc_theory.baselines import BASELINES, Adam
from emc_theory.cascade import MAX_LEVELS, level_betas, level_timescales
from emc_theory.problems import (
    MAX_ENTRIES,
    cauchy_loss,
    cosine_bowl,
    huber,
    log_sum_exp,
    logistic_regression,
    quadratic,
    smoothed_abs,
)
from emc_theory.replay import run_spec
from emc_theory.schedules import Schedule
from emc_theory.sweep import sweep
from emc_theory.validation import check_positive

# ---- lr --------------------------------------------------------------------------------------


@pytest.mark.parametrize("lr", [[0.1, 0.2], "0.1"])
def test_lr_as_a_list_or_a_string_names_lr_and_its_forms(lr):
    with pytest.raises(TypeError, match=r"lr .*must be a real number > 0, a numpy array"):
        et.EMC(lr=lr)


def test_a_callable_lr_returning_a_string_names_the_schedule_value():
    opt = et.EMC(lr=lambda t: "0.1")
    with pytest.raises(TypeError, match=r"lr schedule value at step t=1"):
        opt.update(np.ones(3), opt.init(np.zeros(3)))


def test_emc_per_run_schedule_of_the_wrong_length_names_lr():
    sched = Schedule(np.full(3, 0.1), ["constant", "inv_t", "inv_sqrt"])
    with pytest.raises(ValueError, match=r"per-run lr must have the shape of the batch axes of "
                                         r"params \(2,\).*got \(3,\)"):
        et.EMC(lr=sched).init(np.zeros((2, 4)))


# ---- complex input -----------------------------------------------------------------------------


def test_complex_start_points_are_refused():
    problem = quadratic(3, seed=0)
    x0 = np.array([1.0, 2.0, 3.0]) + 1j
    with pytest.raises(TypeError, match=r"\bx\b.*complex"):
        problem.value_and_grad(x0)
    with pytest.raises(TypeError, match=r"\bx0\b.*complex"):
        run_spec(et.EMC(), problem, x0, 10)
    with pytest.raises(TypeError, match="complex"):   # the runner's own message: see the report
        et.minimize(et.EMC(), problem, x0, 10)


@pytest.mark.parametrize("build, name", [
    (lambda: quadratic(3, x_star=[1j, 0.0, 0.0]), "x_star"),
    (lambda: quadratic(3, eigenvalues=[1.0, 2.0, 3.0 + 1j]), "eigenvalues"),
    (lambda: huber(3, weights=np.array([1.0, 1.0, 1.0]) + 0j), "weights"),
    (lambda: quadratic(3, cond=10 + 0j), "cond"),
])
def test_complex_problem_parameters_are_refused_naming_them(build, name):
    with pytest.raises(TypeError, match=rf"\b{name}\b.*complex"):
        build()


def test_complex_gradients_to_the_entropy_are_refused():
    with pytest.raises(TypeError, match=r"\bg\b.*complex"):
        et.gradient_entropy(np.ones(3) * 1j)


def test_strings_are_not_parsed_as_numbers():
    with pytest.raises(TypeError, match=r"\btau\b"):
        et.EMC(tau="1.0")
    with pytest.raises(TypeError, match=r"\blr\b"):
        check_positive("lr", "0.1")


# ---- tau ---------------------------------------------------------------------------------------


def test_tau_whose_slopes_overflow_names_tau_and_its_range():
    with pytest.raises(ValueError, match=r"tau must lie in \[5.563e-309, inf\) for float64"):
        et.EMC(tau=5e-324)
    with pytest.raises(ValueError, match=r"tau must lie in \[5.563e-309, inf\)"):
        et.cascade_weights(0.5, 3, tau=5e-324)
    with pytest.raises(ValueError, match=r"tau must lie in \[2.939e-39, inf\) for float32"):
        et.EMC(tau=1e-300).init(np.zeros(3, np.float32))


def test_smallest_allowed_tau_gives_the_hard_max_of_the_weights():
    # tau -> 0: alpha -> the one-hot on the largest lambda_k Ht, i.e. level K when Ht > 0
    for dtype, tau in ((np.float64, 1e-308), (np.float32, 1e-38)):
        opt = et.EMC(K=3, lr=0.1, tau=tau)
        g = np.array([1.0, 2.0, 3.0], dtype)
        updates, _, diag = opt.update_with_diagnostics(g, opt.init(np.zeros(3, dtype)))
        assert np.all(np.isfinite(updates))
        np.testing.assert_array_equal(diag.weights, [0.0, 0.0, 1.0])


# ---- K -----------------------------------------------------------------------------------------


def test_K_beyond_the_float64_significand_is_refused_with_the_reason():
    assert MAX_LEVELS == 53
    for call in (lambda: et.EMC(K=54), lambda: level_betas(54), lambda: level_timescales(1100),
                 lambda: et.cascade_weights(0.5, 54)):
        with pytest.raises(ValueError, match=r"K must be an integer in \[1, 53\].*rounds to 1"):
            call()
    with pytest.raises(ValueError, match=r"K must be an integer in \[1, 24\].*float32"):
        et.EMC(K=25).init(np.zeros(3, np.float32))


@pytest.mark.parametrize("dtype, K", [(np.float64, 53), (np.float32, 24)])
def test_the_deepest_allowed_level_still_moves(dtype, K):
    # one step from m = 0: m_k = (1 - beta_k) g = 2^-k g exactly
    opt = et.EMC(K=K, lr=0.1)
    g = np.array([1.0, -3.0, 0.5], dtype)
    _, state = opt.update(g, opt.init(np.zeros(3, dtype)))
    np.testing.assert_array_equal(state.momenta[-1], np.ldexp(g, -K))


# ---- problems ----------------------------------------------------------------------------------


@pytest.mark.parametrize("build, pattern", [
    (lambda: quadratic(3, cond=1e300, mu=1e10), r"cond must lie in \[1, 1.798e\+298\]"),
    (lambda: quadratic(3, mu=1e-310), r"mu must lie in \[2.225e-308"),
    (lambda: quadratic(3, eigenvalues=[0.0, 1e-310, 1e-311]), r"\bL = 1e-310 must lie in"),
    (lambda: quadratic(4, cond=1.0, mu=1.7e308), r"Hessian matrix .* overflows"),
    (lambda: log_sum_exp(scale=1e-200), r"scale must lie in \[.*\].*\|\|A\|\|_2"),
    (lambda: log_sum_exp(scale=1e200), r"scale must lie in \["),
    (lambda: logistic_regression(reg=1e-320), r"reg must be 0 or lie in"),
    (lambda: smoothed_abs(eps=1e-320), r"eps must lie in \["),
    (lambda: cauchy_loss(scale=1e-160), r"scale must lie in \["),
    (lambda: cosine_bowl(a=1e300, w=1e10), r"a \* w\*\*2 must be at most"),
    (lambda: cosine_bowl(w=1e200), r"a \* w\*\*2 must be at most"),
    (lambda: huber(3, weights=[1e-320] * 3), r"\bL = 1e-320 must lie in"),
])
def test_problem_constants_that_overflow_or_underflow_name_the_parameter(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


def test_log_sum_exp_minimum_follows_the_scaling_law_at_small_scales():
    # f_s(x) = F(s x) with F the scale-1 function (reg = 0): f_s* = F*, x_s* = x_1* / s
    base = log_sum_exp(d=4, m=9, seed=3)
    for scale in (1e-3, 1e-12, 1e-100):
        small = log_sum_exp(d=4, m=9, seed=3, scale=scale)
        assert small.f_star == pytest.approx(base.f_star, rel=1e-12)
        np.testing.assert_allclose(small.x_star * scale, base.x_star, rtol=1e-8, atol=0)


# ---- entropy -----------------------------------------------------------------------------------


def test_entropy_of_an_empty_gradient_names_g():
    for call in (et.gradient_entropy, et.normalized_entropy):
        with pytest.raises(ValueError, match=r"\bg\b|\bd\b"):
            call(np.array([]))
    with pytest.raises(ValueError, match=r"g must have at least one entry along its last axis"):
        et.gradient_entropy(np.zeros((3, 0)))


def test_entropy_of_an_empty_batch_is_empty():
    h = et.gradient_entropy(np.zeros((0, 4), np.float32))
    assert h.shape == (0,) and h.dtype == np.float32


# ---- Adam's second moment ----------------------------------------------------------------------


def adam_reference(grads, lr, b1, b2, eps):
    """Adam's Algorithm 1 in 50-digit arithmetic (no overflow at these magnitudes)."""
    with mpmath.workdps(50):
        m = [mpmath.mpf(0)] * len(grads[0])
        v = list(m)
        out = []
        for t, g in enumerate(grads, start=1):
            row = []
            for i, gi in enumerate(g):
                gi = mpmath.mpf(float(gi))
                m[i] = b1 * m[i] + (1 - b1) * gi
                v[i] = b2 * v[i] + (1 - b2) * gi**2
                m_hat = m[i] / (1 - mpmath.mpf(b1) ** t)
                v_hat = v[i] / (1 - mpmath.mpf(b2) ** t)
                row.append(float(-lr * m_hat / (mpmath.sqrt(v_hat) + eps)))
            out.append(row)
        return np.array(out)


@pytest.mark.parametrize("dtype, huge, rtol", [(np.float64, 1e300, 1e-12),
                                               (np.float32, 1e30, 2e-6)])
def test_adam_huge_finite_gradient_does_not_freeze_the_coordinate(dtype, huge, rtol):
    b1, b2, eps, lr = 0.9, 0.999, 1e-8, 0.1
    grads = [[huge, 1.0, -huge]] + [[1.0, 1.0, 0.5]] * 5 + [[-huge / 7, 2.0, huge]] * 3
    opt = Adam(lr, b1=b1, b2=b2, eps=eps)
    state, got = opt.init(np.zeros(3, dtype)), []
    for g in grads:
        u, state = opt.update(np.array(g, dtype), state)
        assert u.dtype == dtype
        got.append(u)
    want = adam_reference(np.array(grads, dtype), lr, b1, b2, eps)
    np.testing.assert_allclose(np.array(got, dtype=float), want, rtol=rtol, atol=0)
    assert np.all(np.abs(np.array(got)[1:6, 0]) > 1e-3)   # today's code gives exactly 0 here


def test_adam_returns_to_the_plain_second_moment_when_it_decays():
    opt = Adam(0.1, b1=0.5, b2=0.5)
    state = opt.init(np.zeros(2))
    _, state = opt.update(np.array([1e300, 1.0]), state)
    assert state.second_moment_exponent is not None
    steps = 0
    while state.second_moment_exponent is not None:
        _, state = opt.update(np.array([1.0, 1.0]), state)
        steps += 1
    # after n more steps v = 0.5^n * 0.5e600 + 1 - 0.5^n, below 2^(1024 - 8 - 1) once
    # n > log2(0.5e600) - 1015 (about 978)
    with mpmath.workdps(30):
        v1 = mpmath.mpf(10) ** 600 / 2
        expected = int(mpmath.ceil(mpmath.log(v1, 2) - 1015))
        assert steps in (expected, expected + 1)
        want = float(v1 * mpmath.mpf(2) ** -steps + 1 - mpmath.mpf(2) ** -steps)
    np.testing.assert_allclose(state.second_moment[0], want, rtol=1e-12)


# ---- fuzz findings (tests/test_fuzz.py): each case names its parameter -------------------------


@pytest.mark.parametrize("build, name", [
    (lambda: et.EMC(lr=10**400), "lr"),
    (lambda: et.minimize(et.EMC(), quadratic(3), np.ones(3), 5, gap_tol=10**400), "gap_tol"),
    (lambda: et.gradient_entropy(10**400), "g"),
    (lambda: et.cascade_weights(10**400, 4), "ht"),
    (lambda: quadratic(3, cond=-(10**400)), "cond"),
])
def test_an_int_beyond_the_float_range_names_the_parameter_and_the_range(build, name):
    # 10**400 has no float64: Python's int -> float conversion raises OverflowError
    with pytest.raises(ValueError, match=rf"\b{name}\b.*float64 range \[-1.798e\+308, "
                                         r"1.798e\+308\].*too large"):
        build()


@pytest.mark.parametrize("build, name, choices", [
    (lambda: et.EMC(reading=np.array([])), "reading", "['linear', 'power', 'root']"),
    (lambda: quadratic(3, spectrum=np.array(["linear"])), "spectrum", "['geometric', 'linear']"),
    (lambda: sweep([quadratic(3)], [{"name": "gd"}], [0.05], steps=2, progress=False,
                   dtype=np.array([])), "dtype", "['float32', 'float64']"),
    (lambda: et.EMC(entropy=["l2"]), "entropy", "['l1', 'l2']"),
])
def test_an_array_is_never_a_choice(build, name, choices):
    # NumPy would answer `array in choices` elementwise (or refuse for an empty array)
    with pytest.raises(TypeError, match=rf"\b{name} must be one of {re.escape(choices)}"):
        build()


@pytest.mark.parametrize("name, field, value", [
    ("heavy_ball", "beta", []),
    ("nesterov", "beta", [0.5]),
    ("adam", "eps", np.array([1.0])),
    ("adam", "b1", np.array([0.9])),
    ("lion", "weight_decay", []),
    ("lion", "tanh_scale", np.array([[2.0]])),
])
def test_baseline_hyper_parameters_must_be_real_scalars(name, field, value):
    with pytest.raises(TypeError, match=rf"\b{field} must be a real scalar"):
        BASELINES[name](lr=0.1, **{field: value})


def test_a_zero_dimensional_array_is_a_scalar_hyper_parameter():
    opt = BASELINES["adam"](lr=0.1, b1=np.array(0.5), eps=np.float32(0.25))
    assert (opt.b1, opt.eps) == (0.5, 0.25) and type(opt.b1) is float


@pytest.mark.parametrize("build, name", [
    (lambda: huber(3, delta=np.array([1.0])), "delta"),
    (lambda: cosine_bowl(3, w=[0.1]), "w"),
    (lambda: cosine_bowl(3, a=[1.0]), "a"),
    (lambda: smoothed_abs(3, eps=np.array([0.1])), "eps"),
    (lambda: cauchy_loss(3, scale=[1.0]), "scale"),
    (lambda: log_sum_exp(scale=np.ones(1)), "scale"),
])
def test_problem_scalar_parameters_must_be_real_scalars(build, name):
    with pytest.raises(TypeError, match=rf"\b{name} must be a real scalar"):
        build()


@pytest.mark.parametrize("build, name", [
    (lambda: quadratic(3, rotate=np.array([])), "rotate"),
    (lambda: huber(3, rotate=1), "rotate"),
    (lambda: cosine_bowl(3, rotate="yes"), "rotate"),
    (lambda: logistic_regression(separable=np.array([])), "separable"),
    (lambda: logistic_regression(separable=None), "separable"),
])
def test_problem_flags_must_be_bools(build, name):
    with pytest.raises(TypeError, match=rf"\b{name} must be a bool"):
        build()


def test_problem_flags_accept_numpy_bools():
    assert quadratic(3, rotate=np.bool_(False)).rotation is None


@pytest.mark.parametrize("build, name", [
    (lambda: huber(d=10**400), "d"),
    (lambda: quadratic(d=10**400), "d"),
    (lambda: cosine_bowl(d=MAX_ENTRIES + 1), "d"),
    (lambda: logistic_regression(n=10**400), "n"),
    (lambda: log_sum_exp(m=MAX_ENTRIES + 1), "m"),
])
def test_sizes_are_capped_at_max_entries(build, name):
    assert MAX_ENTRIES == 10**8
    with pytest.raises(ValueError, match=rf"\b{name} must be an integer in \[\d, 100000000\] "
                                         r"\(MAX_ENTRIES"):
        build()


@pytest.mark.parametrize("build, pattern", [
    (lambda: quadratic(10**4 + 1), r"d = 10001, rotate = True: the rotation Q \(d x d\) would "
                                   r"hold 100020001 entries"),
    (lambda: logistic_regression(n=10**5, d=1001), r"n = 100000, d = 1001: X \(n x d\)"),
    (lambda: log_sum_exp(d=10**4, m=10**4 + 1), r"m = 10001, d = 10000: A \(m x d\)"),
])
def test_dense_matrices_are_capped_at_max_entries_before_allocation(build, pattern):
    with pytest.raises(ValueError, match=pattern):
        build()


def _no_warning(build):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return build()


def test_cauchy_loss_with_weights_above_4_builds_without_overflow_warning():
    # the scale range's upper end sqrt(2 max(w) / TINY) overflowed in the intermediate 2 w / TINY
    # once max(w) >= 2 (2 w / TINY >= 2^1024): L = 2 max(w) / scale^2
    p = _no_warning(lambda: cauchy_loss(3, weights=[2.0, 2.0, 2.0]))
    assert p.L == 4.0
    p = _no_warning(lambda: cauchy_loss(3, weights=[1e308] * 3, scale=1e100))
    assert p.L == pytest.approx(2e108, rel=1e-15)
    # sqrt(2e308 / 1.798e308) = 1.055; above sqrt(1.798e308) = 1.341e154, scale**2 overflows
    with pytest.raises(ValueError, match=r"scale must lie in \[1.055, 1.341e\+154\]"):
        cauchy_loss(3, weights=[1e308] * 3, scale=1e200)


@pytest.mark.parametrize("delta", [1e300, 1e200, 1.0])
def test_huber_with_a_huge_delta_evaluates_the_closed_form_without_warning(delta):
    # each branch of h_delta was computed everywhere: delta (|t| - delta/2) overflowed inside
    # |t| <= delta for delta > ~1e154, t^2 outside it for |t| > ~1e154
    p = _no_warning(lambda: huber(3, delta=delta, seed=2))
    assert _no_warning(lambda: p.value_and_grad(p.x_star))[0] == 0.0
    t = np.array([0.5, -3.0, 1e150])            # offsets from x_star, both sides of delta = 1
    value, grad = _no_warning(lambda: p.value_and_grad(p.x_star + t))
    want = sum(0.5 * ti**2 if abs(ti) <= delta else delta * (abs(ti) - delta / 2) for ti in t)
    assert value == pytest.approx(want, rel=1e-12)
    np.testing.assert_allclose(grad, [min(max(ti, -delta), delta) for ti in t], rtol=1e-12)


@pytest.mark.parametrize("cond", [1.7976931348623157e308, 1.797693134862e308])
def test_quadratic_cond_where_geomspace_overflows_is_refused_with_the_range(cond):
    # np.geomspace computes its end point as 10**log10(mu * cond), which overflows within
    # ~1e-13 of the float64 maximum; the linear spectrum has no such step
    with pytest.raises(ValueError, match=r"cond must lie in \[1, 1.798e\+308\] for mu = 1.0 .*"
                                         r"margin of 1e-9 for np.geomspace"):
        quadratic(3, cond=cond)
    p = _no_warning(lambda: quadratic(3, cond=cond, spectrum="linear", rotate=False))
    assert p.L == cond


def test_largest_allowed_geometric_cond_builds_without_warning():
    top = np.finfo(float).max * (1 - 1e-9)
    p = _no_warning(lambda: quadratic(3, cond=top, rotate=False))
    assert p.L == top and p.mu == 1.0


@pytest.mark.parametrize("build, name", [
    (lambda: smoothed_abs(3, eps=1e-160), "eps"),      # eps**2 underflows: f(x_star) = -3 eps
    (lambda: smoothed_abs(3, eps=1e200), "eps"),       # eps**2 overflows (OverflowError)
    (lambda: cauchy_loss(3, weights=[1e-320] * 3, scale=1e-200), "scale"),   # 2/scale**2: 2/0
])
def test_profile_scales_whose_square_leaves_the_normal_range_are_refused(build, name):
    pattern = rf"{name} must lie in \[.*\] \(so that .*{name}(\*\*|\^)2"
    with pytest.raises(ValueError, match=pattern):
        build()


@pytest.mark.parametrize("rounds", ["0", "-3", "1.5", "x"])
def test_bench_rounds_below_one_exits_2_naming_rounds(rounds, capsys, tmp_path):
    from emc_app.bench import main

    # (--quick, --no-torch, --out tmp_path: were the option taken, the run would stay small)
    with pytest.raises(SystemExit) as exit_info:
        main(["--quick", "--no-torch", "--rounds", rounds, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert re.search(r"argument --rounds: must be an integer >= 1", capsys.readouterr().err)
    assert not list(tmp_path.iterdir())


def test_eg1_replay_refuses_a_non_symmetric_matrix():
    from claims import eg1

    symmetric = eg1.rotated_matrix([1.0, 2.0, 5.0], 0)
    lower = np.tril(symmetric)      # same lower triangle: eigvalsh would read the same spectrum
    spec = {"bound": "middle", "n": 3, "k": 5.0, "rotation_seed": 0}
    assert eg1.replay({**spec, "matrix": symmetric.tolist()})["condition_number"] == \
        pytest.approx(5.0, rel=1e-12)
    with pytest.raises(ValueError, match=r"\bmatrix must be symmetric"):
        eg1.replay({**spec, "matrix": lower.tolist()})
    with pytest.raises(ValueError, match=r"\bmatrix must be positive definite"):
        eg1.replay({**spec, "matrix": [[1.0, 2.0], [2.0, 1.0]]})      # eigenvalues -1, 3
    with pytest.raises(ValueError, match=r"\bmatrix must be a square matrix"):
        eg1.replay({**spec, "matrix": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]})
    with pytest.raises(ValueError, match=r"\bmatrix must hold finite numbers"):
        eg1.replay({**spec, "matrix": [[1.0, float("nan")], [float("nan"), 1.0]]})


class _FakeDerivation:
    def __init__(self, name, fail=False):
        self.name, self.fail = name, fail

    def to_json(self):
        return {"name": self.name}

    def to_latex(self):
        if self.fail:
            raise RuntimeError("rendering failed")
        return f"\\paragraph{{{self.name}}}"


def test_proofs_write_outputs_writes_both_files_or_neither(tmp_path):
    import proofs

    json_path, tex_path = tmp_path / "d.json", tmp_path / "gen" / "d.tex"
    proofs.write_outputs({"a": _FakeDerivation("a")}, json_path, tex_path)
    old = (json_path.read_bytes(), tex_path.read_bytes())
    # the LaTeX fails to render after the JSON could have been written: neither file changes
    with pytest.raises(RuntimeError, match="rendering failed"):
        proofs.write_outputs({"b": _FakeDerivation("b", fail=True)}, json_path, tex_path)
    assert (json_path.read_bytes(), tex_path.read_bytes()) == old
    proofs.write_outputs({"b": _FakeDerivation("b")}, json_path, tex_path)
    assert json.loads(json_path.read_text()) == {"b": {"name": "b"}}
    assert tex_path.read_text().endswith("\\paragraph{b}")
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["d.json", "d.tex"]


def test_proofs_write_outputs_replaces_nothing_if_a_temporary_fails(tmp_path, monkeypatch):
    import proofs
    from emc_theory import records

    json_path, tex_path = tmp_path / "d.json", tmp_path / "d.tex"
    proofs.write_outputs({"a": _FakeDerivation("a")}, json_path, tex_path)
    old = (json_path.read_bytes(), tex_path.read_bytes())
    real = records._temporary

    def failing(path, text, encoding):
        if path.suffix == ".tex":
            raise OSError("disk full")
        return real(path, text, encoding)

    monkeypatch.setattr(records, "_temporary", failing)
    with pytest.raises(OSError, match="disk full"):
        proofs.write_outputs({"b": _FakeDerivation("b")}, json_path, tex_path)
    assert (json_path.read_bytes(), tex_path.read_bytes()) == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d.json", "d.tex"]
