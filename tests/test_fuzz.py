"""Property-based fuzzing of the public API (issue 16, item 5).

For arguments drawn from a wide range (NaN, +-inf, 0, negatives, huge, denormals, wrong types,
wrong shapes, empty), each call either returns values that follow its documented rules, or
raises a ValueError/TypeError that names the parameter, raised by this package (never from inside
NumPy or SciPy), and never a silent NaN. One argument is fuzzed at a time, the others valid, so
the error must name exactly that argument. Eleven entry points, 200 examples each, derandomized
(the same examples on every run)."""
import dataclasses
import math
import traceback
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from emc_theory import EMC, cascade_weights, gradient_entropy, minimize
from emc_theory.baselines import BASELINES
from emc_theory.problems import FACTORIES, quadratic
from emc_theory.replay import replay, run_spec
from emc_theory.runner import STATUSES
from emc_theory.sweep import sweep

PACKAGE = Path(__file__).resolve().parents[1] / "emc_theory"
EXAMPLES = 200
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))

# ----------------------------------------------------------------------------- values

SPECIAL = st.sampled_from([
    0, 0.0, -0.0, -1, -1.0, 1, 2, 3, 0.5, 1e-320, 5e-324, -5e-324, 1e-300, 1e300, 1e308,
    -1e308, 1.7976931348623157e308, float("nan"), float("inf"), float("-inf"), 2**53 + 1,
    10**400, -(10**400), np.float32(1.5), np.int64(3), np.float64("nan"), np.float16(2.0)])
WRONG = st.sampled_from([
    "0.1", "", "nan", b"1", None, [], [0.1], [0.1, 0.2], (1, 2), {}, {"a": 1}, 1j, 1 + 1j,
    np.array([]), np.array([[1.0]]), np.array(["a"]), np.array([1 + 1j]), True, False,
    np.bool_(True), object(), set(), slice(1), np.array([np.nan]), "power", "l2", "constant"])
FLOATS = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True)
VALUE = st.one_of(SPECIAL, WRONG, FLOATS, st.integers(-(2**70), 2**70))
SHAPES = st.sampled_from([(), (0,), (1,), (2,), (3,), (5,), (0, 3), (2, 0), (2, 3), (3, 3),
                          (2, 2, 3), (1, 1)])
DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.complex128, np.bool_, np.uint8])


@st.composite
def arrays(draw, shapes=SHAPES):
    dtype = np.dtype(draw(DTYPES))
    elements = None
    if dtype.kind == "f":
        elements = st.floats(allow_nan=True, allow_infinity=True, allow_subnormal=True,
                             width=dtype.itemsize * 8)
    return draw(hnp.arrays(dtype, draw(shapes), elements=elements))


ANY = st.one_of(VALUE, arrays())


def names(err: BaseException, *parameters) -> bool:
    """The message names one of ``parameters`` (a list argument may be named by its singular,
    as the item at fault: ``seed`` for ``seeds``)."""
    text = str(err)
    return any(p in text or (p.endswith("s") and p[:-1] in text) for p in parameters)


def raised_here(err: BaseException) -> bool:
    """The exception was raised by this package (its innermost frame is in ``emc_theory``)."""
    frames = traceback.extract_tb(err.__traceback__)
    return bool(frames) and Path(frames[-1].filename).resolve().is_relative_to(PACKAGE)


def call(fn, *parameters):
    """``fn()`` or ``None`` if it raised a ValueError/TypeError raised here and naming one of
    ``parameters``; anything else fails with the case."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            return True, fn()
    except (ValueError, TypeError) as err:
        assert raised_here(err), f"raised from outside emc_theory: {err!r}\n" + "".join(
            traceback.format_tb(err.__traceback__)[-3:])
        assert names(err, *parameters), f"message does not name {parameters}: {err}"
        return False, None


def no_nan(x, what):
    arr = np.asarray(x)
    assert not np.isnan(arr).any(), f"silent NaN in {what}"


# ----------------------------------------------------------------------------- constructors

EMC_PARAMETERS = ("K", "lr", "reading", "entropy", "tau")


@FUZZ
@given(param=st.sampled_from(EMC_PARAMETERS), value=ANY)
def test_emc_constructor(param, value):
    ok, opt = call(lambda: EMC(**{param: value}), param)
    if ok:
        assert 1 <= opt.K <= 53 and math.isfinite(opt.tau) and opt.tau > 0
        assert np.all(np.isfinite(opt.logit_slopes)) and np.all(opt.betas < 1)


def _baseline_fields(cls):
    return [f.name for f in dataclasses.fields(cls) if f.init]


BASELINE_CASES = [(name, field) for name, cls in BASELINES.items()
                  for field in _baseline_fields(cls)]


@FUZZ
@given(case=st.sampled_from(BASELINE_CASES), value=ANY)
def test_baseline_constructors(case, value):
    name, param = case
    kwargs = {"lr": 0.1, param: value}
    ok, opt = call(lambda: BASELINES[name](**kwargs), param)
    if ok:
        for field in ("beta", "b1", "b2"):
            if hasattr(opt, field):
                assert 0 <= getattr(opt, field) < 1
        for field in ("eps", "tanh_scale", "weight_decay"):
            if hasattr(opt, field):
                assert math.isfinite(getattr(opt, field)) and getattr(opt, field) >= 0


# ----------------------------------------------------------------------------- init / update

OPTIMIZERS = [EMC(K=3, lr=0.1, reading=r, entropy=e) for r in ("power", "root", "linear")
              for e in ("l2", "l1")] + [cls(lr=0.1) for cls in BASELINES.values()] + [
    BASELINES["lion"](lr=0.1, weight_decay=0.1, transform="tanh")]


@FUZZ
@given(opt=st.sampled_from(OPTIMIZERS), params=ANY)
def test_init(opt, params):
    ok, state = call(lambda: opt.init(params), "params", "d (the last axis")
    if ok:
        for buffer in state[1:]:
            if isinstance(buffer, np.ndarray):
                assert np.all(buffer == 0) and buffer.dtype.kind == "f"


GOOD_SHAPES = st.sampled_from([(2,), (5,), (3, 4), (2, 2, 3)])


@st.composite
def update_case(draw):
    opt = draw(st.sampled_from(OPTIMIZERS))
    shape = draw(GOOD_SHAPES)
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    state = opt.init(np.zeros(shape, dtype))
    what = draw(st.sampled_from(["grads", "grads", "grads", "state"]))
    if what == "grads":
        kind = draw(st.sampled_from(["values", "values", "other"]))
        if kind == "values":
            grads = draw(hnp.arrays(dtype, shape, elements=st.floats(
                allow_nan=True, allow_infinity=True, allow_subnormal=True,
                width=np.dtype(dtype).itemsize * 8)))
        else:
            grads = draw(ANY)
        return opt, grads, state, what
    fields = state._fields
    field = draw(st.sampled_from(fields))
    bad = state._replace(**{field: draw(ANY)})
    return opt, np.ones(shape, dtype), bad, what


@FUZZ
@given(case=update_case())
def test_update(case):
    opt, grads, state, what = case
    ok, out = call(lambda: opt.update(grads, state, np.zeros(np.shape(grads))), what)
    if ok:
        updates, new_state = out
        assert np.shape(updates) == np.shape(grads)
        no_nan(updates, "updates")
        for buffer in new_state[1:]:
            if isinstance(buffer, np.ndarray):
                no_nan(buffer, "the new state")


# ----------------------------------------------------------------------------- minimize

MINIMIZE_DEFAULTS = {"x0": np.ones(3), "steps": 20, "tol": 1e-6, "gap_tol": None,
                     "divergence_factor": 1e6}
PROBLEM = quadratic(3, cond=10.0, seed=1)


@FUZZ
@given(opt=st.sampled_from(OPTIMIZERS), param=st.sampled_from(sorted(MINIMIZE_DEFAULTS)),
       value=st.one_of(ANY, st.integers(1, 30)))
def test_minimize(opt, param, value):
    kwargs = {**MINIMIZE_DEFAULTS, param: value}
    x0, steps = kwargs.pop("x0"), kwargs.pop("steps")
    ok, run = call(lambda: minimize(opt, PROBLEM, x0, steps, **kwargs), param)
    if ok:
        status = np.atleast_1d(run.status)
        assert set(status) <= set(STATUSES)
        assert np.all((0 <= run.stop_step) & (run.stop_step <= run.steps))
        settled = status != "non-finite"
        assert np.all(np.isfinite(np.atleast_1d(run.final_gap)[settled]))
        assert np.all(np.isfinite(np.atleast_1d(run.final_grad_norm)[settled]))


# ----------------------------------------------------------------------------- problems

FACTORY_PARAMETERS = {
    "quadratic": ("d", "cond", "spectrum", "rotate", "seed", "x_star", "mu", "eigenvalues"),
    "huber": ("d", "delta", "seed", "x_star", "weights", "rotate"),
    "smoothed_abs": ("d", "eps", "seed", "x_star", "weights", "rotate"),
    "cauchy_loss": ("d", "scale", "seed", "x_star", "weights", "rotate"),
    "cosine_bowl": ("d", "a", "w", "seed", "x_star", "weights", "rotate"),
    "logistic_regression": ("n", "d", "reg", "seed", "separable"),
    "log_sum_exp": ("d", "m", "scale", "seed", "reg"),
}
FACTORY_CASES = [(f, p) for f, ps in FACTORY_PARAMETERS.items() for p in ps]
BASE = {"d": 3, "n": 12, "m": 8}
SIZES = st.sampled_from([-1, 0, 1, 2, 3, 4, 2.0, 2.5, True, "3", None, float("nan"), 10**400])


@FUZZ
@given(case=st.sampled_from(FACTORY_CASES), data=st.data())
def test_problem_constructors(case, data):
    factory, param = case
    kwargs = {k: v for k, v in BASE.items() if k in FACTORY_PARAMETERS[factory]}
    if param in ("d", "n", "m"):
        value = data.draw(SIZES)
    elif param in ("x_star", "weights", "eigenvalues"):
        value = data.draw(st.one_of(ANY, hnp.arrays(np.float64, (kwargs["d"],),
                                                    elements=FLOATS)))
    else:
        value = data.draw(ANY)
    kwargs[param] = value
    ok, problem = call(lambda: FACTORIES[factory](**kwargs), param)
    if ok:
        tiny, huge = np.finfo(float).tiny, np.finfo(float).max
        assert tiny <= problem.L <= huge
        assert problem.mu is None or problem.mu == 0 or tiny <= problem.mu <= problem.L
        if problem.x_star is not None:
            assert np.all(np.isfinite(problem.x_star))
            value_at_min, grad_at_min = problem.value_and_grad(problem.x_star)
            assert np.isfinite(value_at_min) and np.all(np.isfinite(grad_at_min))
            assert math.isclose(value_at_min, problem.f_star, rel_tol=1e-9, abs_tol=1e-9)


# ----------------------------------------------------------------------------- sweep

SWEEP_DEFAULTS = {"problems": [PROBLEM], "optimizers": [{"name": "gd"}], "lrs": [0.05],
                  "schedules": ("constant",), "seeds": (0,), "start_scales": (1.0,),
                  "steps": 10, "tol": 1e-6, "divergence_factor": 1e6, "dtype": "float64",
                  "lr_unit": "absolute"}


@FUZZ
@given(param=st.sampled_from(sorted(SWEEP_DEFAULTS)), value=ANY)
def test_sweep(param, value):
    kwargs = {**SWEEP_DEFAULTS, param: value}
    problems, optimizers, lrs = kwargs.pop("problems"), kwargs.pop("optimizers"), kwargs.pop("lrs")
    ok, table = call(lambda: sweep(problems, optimizers, lrs, progress=False, **kwargs),
                     param, "lr")
    if ok:
        assert table.rows, "an accepted sweep returned no run"
        for row in table.rows:
            assert row["status"] in STATUSES
            if row["status"] != "non-finite":
                assert row["final_gap"] is not None and math.isfinite(row["final_gap"])


# ----------------------------------------------------------------------------- replay

SPEC = run_spec(EMC(K=2, lr=0.05), PROBLEM, np.ones(3), 10, tol=1e-6)


def _paths(obj, prefix=()):
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield prefix + (k,)
            yield from _paths(v, prefix + (k,))


SPEC_PATHS = sorted(_paths(SPEC), key=str)


@FUZZ
@given(path=st.sampled_from(SPEC_PATHS), value=st.one_of(ANY, st.just("<delete>")))
def test_replay(path, value):
    import copy

    spec = copy.deepcopy(SPEC)
    node = spec
    for key in path[:-1]:
        node = node[key]
    if isinstance(value, str) and value == "<delete>":
        del node[path[-1]]
    else:
        node[path[-1]] = value.tolist() if isinstance(value, np.ndarray) else value
    ok, run = call(lambda: replay(spec), *map(str, path))
    if ok:
        assert run.status in STATUSES


# ----------------------------------------------------------------------------- entropy, weights


@FUZZ
@given(g=ANY, kind=st.one_of(st.sampled_from(["l2", "l1"]), VALUE))
def test_gradient_entropy(g, kind):
    ok, h = call(lambda: gradient_entropy(g, kind), "g", "kind")
    if ok:
        arr = np.asarray(g, dtype=float)
        assert np.shape(h) == arr.shape[:-1]
        finite_rows = np.isfinite(arr).all(axis=-1)
        h = np.asarray(h, dtype=float)
        assert np.all(np.isnan(h[~finite_rows]))   # documented: NaN for NaN/Inf rows
        assert np.all((h[finite_rows] >= 0) & (h[finite_rows] <= math.log(arr.shape[-1]) + 1e-6))


@FUZZ
@given(param=st.sampled_from(["ht", "K", "tau"]), value=ANY)
def test_cascade_weights(param, value):
    kwargs = {"ht": np.array([0.0, 0.5, 1.0]), "K": 4, "tau": 1.0, param: value}
    ok, w = call(lambda: cascade_weights(kwargs["ht"], kwargs["K"], kwargs["tau"]), param)
    if ok:
        assert w.shape == np.shape(kwargs["ht"]) + (kwargs["K"],)
        assert np.all(np.isfinite(w)) and np.all(w >= 0)
        assert np.allclose(w.sum(axis=-1), 1.0, rtol=1e-6)


def test_the_fuzz_covers_enough_entry_points():
    tests = [v for k, v in globals().items() if k.startswith("test_") and hasattr(v, "hypothesis")]
    assert len(tests) >= 10
    for test in tests:
        assert test.hypothesis.inner_test is not None
        assert test._hypothesis_internal_use_settings.max_examples >= EXAMPLES


if __name__ == "__main__":  # pragma: no cover
    pytest.main([__file__])
