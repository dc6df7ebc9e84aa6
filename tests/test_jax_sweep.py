r"""``sweep(..., backend="jax")`` against the NumPy sweep, float64: the same table.

The grid: three problem families stacked in one program (a rotated quadratic, a non-convex
separable bowl, a composite logistic regression), three EMC configurations (power and linear at
K = 3; root at K = 2 with the l1 entropy and tau = 0.8), three schedule kinds, step sizes in
units of 1/L from converging to overflowing (``diverged`` and ``non-finite`` runs) and one
start-dependent step size, tolerances relative to the start gradient, histories.

What is asserted, and the bounds (stated once, here):

* every parameter column (the computed start-dependent ``lr`` and ``tol`` included) is
  identical, and so are the columns and the conditions but the ``backend``;
* statuses and stop steps are identical for every run whose NumPy status and stop step do not
  change when its start point moves by one or two ulp (``x0 (1 +- eps)``, ``x0 (1 +- 2 eps)``).
  This test finds the runs that fail that by itself: they are chaotic (their outcome is decided
  by the last bits of any arithmetic, NumPy's own included), and must be few (<= 5 %);
* final gaps and gradient norms within :math:`10^{-10}` relative plus :math:`10^{-13}` absolute
  (the agreement :func:`emc_theory.jax_backend.run_batch` states; in ulp, about
  :math:`4.5 \cdot 10^{5}` ulp of the value, the absolute part for gaps near the minimum, which
  are differences of O(1) numbers) for every run whose NumPy final values move by at most
  :math:`10^{-12}` relative under those ulp moves; where they move more the run amplifies
  last-bit differences and no other arithmetic reproduces its final value; the same bound holds
  for the histories of those runs, and for every status-stable run the same entries are finite.

A JAX sweep cuts a group into chunks of one batch size (the last padded with copies of its last
run) so that the group compiles once: counted with JAX's compile events.
"""
import numpy as np
import pytest

jax = pytest.importorskip("jax", reason="JAX is not installed (pip install -e '.[jax]')")
pytest.importorskip("optax", reason="optax is not installed (pip install -e '.[jax]')")

from emc_theory.problems import (  # noqa: E402
    SeparableProblem,
    cosine_bowl,
    logistic_regression,
    quadratic,
)
from emc_theory.sweep import RESULT_COLUMNS, START_SCALED, plan, sweep  # noqa: E402

EPS = np.finfo(np.float64).eps
REL, ABS, STABLE = 1e-10, 1e-13, 1e-12
PROBLEMS = {"quad": quadratic(5, cond=20.0, seed=3), "bowl": cosine_bowl(5, seed=4),
            "logreg": logistic_regression(30, 5, seed=1)}
OPTIMIZERS = [{"name": "emc", "K": 3, "reading": ["power", "linear"]},
              {"name": "emc", "K": 2, "reading": "root", "entropy": "l1", "tau": 0.8}]
GRID = dict(lrs=[0.02, 0.5, 30.0, 3e3, 1e200, 0.7],
            lr_unit=["1/L"] * 5 + [START_SCALED],
            schedules=("constant", "inv_sqrt", "inv_t"), steps=60, tol=1e-4, tol_relative=True,
            gap_tol=1e-4, history=True, progress=False)
STARTS = {label: p.x_star + np.random.default_rng(i).standard_normal((2, p.d))
          for i, (label, p) in enumerate(PROBLEMS.items())}


def numpy_sweep(scale=0.0):
    """The NumPy sweep from the start points moved by ``scale`` ulp (relative)."""
    starts = {label: x * (1 + scale * EPS) for label, x in STARTS.items()}
    return sweep(PROBLEMS, OPTIMIZERS, start_points=starts, **GRID)


@pytest.fixture(scope="module")
def tables():
    ref = numpy_sweep()
    status_stable = np.ones(len(ref.rows), bool)
    values_stable = np.all([np.isfinite(ref.column(n)) for n in ("final_gap",
                                                                "final_grad_norm")], axis=0)
    for scale in (1, -1, 2, -2):
        moved = numpy_sweep(scale)
        for name in ("status", "stop_step"):
            status_stable &= moved.column(name) == ref.column(name)
        for name in ("final_gap", "final_grad_norm"):
            with np.errstate(invalid="ignore"):
                values_stable &= (np.abs(moved.column(name) - ref.column(name))
                                  <= STABLE * np.abs(ref.column(name)))
    mine = sweep(PROBLEMS, OPTIMIZERS, start_points=STARTS, backend="jax", **GRID)
    return ref, mine, status_stable, values_stable & status_stable


def test_the_grid_reaches_every_status_and_few_runs_are_chaotic(tables):
    ref, _, status_stable, values_stable = tables
    assert len(ref.rows) == 3 * 3 * 3 * 6 * 2
    assert status_stable.mean() >= 0.95
    assert set(ref.column("status")[status_stable]) == {"converged", "max_steps", "diverged",
                                                         "non-finite"}
    assert values_stable.sum() >= len(ref.rows) // 3


def test_parameter_columns_and_conditions_are_identical(tables):
    ref, mine, _, _ = tables
    assert mine.columns == ref.columns
    assert mine.conditions == {**ref.conditions, "backend": "jax"}
    assert ref.conditions["backend"] == "numpy"
    for a, b in zip(mine.rows, ref.rows):
        assert ({k: v for k, v in a.items() if k not in RESULT_COLUMNS}
                == {k: v for k, v in b.items() if k not in RESULT_COLUMNS})


def test_statuses_and_stop_steps_are_identical_where_they_are_a_property_of_the_run(tables):
    ref, mine, status_stable, _ = tables
    for name in ("status", "stop_step"):
        assert list(mine.column(name)[status_stable]) == list(ref.column(name)[status_stable])


def test_final_values_and_histories_within_the_stated_bound(tables):
    ref, mine, status_stable, values_stable = tables
    for name in ("final_gap", "final_grad_norm"):
        ours, theirs = mine.column(name), ref.column(name)
        # an overflowed run's last value is inf or NaN (null in the table) by the order of inf - inf
        assert np.array_equal(np.isfinite(ours[status_stable]),
                              np.isfinite(theirs[status_stable])), name
        ours, theirs = ours[values_stable], theirs[values_stable]
        assert np.all(np.abs(ours - theirs) <= REL * np.abs(theirs) + ABS), name
    for name in ("f_gap", "grad_norm"):
        ours, theirs = mine.histories[name], ref.histories[name]
        assert ours.shape == theirs.shape == (GRID["steps"] + 1, len(ref.rows))
        assert np.array_equal(np.isfinite(ours[:, status_stable]),
                              np.isfinite(theirs[:, status_stable])), name
        ours, theirs = ours[:, values_stable], theirs[:, values_stable]
        recorded = np.isfinite(theirs)
        assert np.all(np.abs(ours - theirs)[recorded]
                      <= REL * np.abs(theirs[recorded]) + ABS), name


def test_equal_chunks_compile_once_and_padding_is_dropped():
    """10 runs in chunks of at most 4: three chunks of 4, the last holding 2 runs and 2 copies.
    Once one chunk of 4 runs has compiled, the chunked sweep compiles nothing (a chunk of 2
    would: the control below compiles for it), and its table is the NumPy sweep's (these runs
    converge or reach the budget smoothly: every status identical, values within the stated
    bound)."""
    from jax import monitoring

    problem = {"quad": quadratic(4, cond=10.0, seed=0)}
    spec = [{"name": "emc", "K": 2, "reading": "linear"}]
    grid = dict(lrs=[0.5, 1.0, 2.0, 4.0, 8.0], lr_unit="1/L", seeds=(0, 1), tol=0.1, steps=25)
    _, rows, chunks, _ = plan(problem, spec, backend="jax", chunk_runs=4, **grid)
    assert [(len(c.rows), c.pad) for c in chunks] == [(4, 0), (4, 0), (2, 2)]
    assert len(rows) == 10 and all(c.backend == "jax" for c in chunks)
    padded = chunks[-1].padded()
    assert padded.pad == 0 and list(padded.rows) == [8, 9, 9, 9]
    assert np.array_equal(padded.lrs[-3:], np.repeat(chunks[-1].lrs[-1], 3))

    compiles = []

    def listen(name, secs, **kwargs):
        if name == "/jax/core/compile/backend_compile_duration":
            compiles.append(name)

    def compiled_in(**change):
        compiles.clear()
        table = sweep(problem, spec, backend="jax", progress=False, **{**grid, **change})
        return table, len(compiles)

    monitoring.register_event_duration_secs_listener(listen)
    try:
        _, first = compiled_in(lrs=grid["lrs"][:4], seeds=(0,))   # one chunk of 4 runs
        chunked, again = compiled_in(chunk_runs=4)
        _, control = compiled_in(lrs=grid["lrs"][:2], seeds=(0,))  # one chunk of 2 runs
    finally:
        monitoring.unregister_event_duration_listener(listen)
    assert first > 0 and again == 0 and control > 0
    assert chunked.conditions["chunks"] == 3 and len(chunked.rows) == 10
    ref = sweep(problem, spec, progress=False, **grid)
    assert list(chunked.column("status")) == list(ref.column("status"))
    assert list(chunked.column("stop_step")) == list(ref.column("stop_step"))
    assert {row["status"] for row in ref.rows} == {"converged", "max_steps"}
    for name in ("final_gap", "final_grad_norm"):
        theirs = ref.column(name)
        assert np.all(np.abs(chunked.column(name) - theirs) <= REL * np.abs(theirs) + ABS)


def test_float32_jax_sweep_runs_in_float32():
    """A float32 JAX sweep of converging runs: the statuses of the float32 NumPy sweep, and gaps
    within float32 accuracy of them (relative 1e-3, the float32 test of test_sweep)."""
    problem = {"quad": quadratic(4, cond=10.0, seed=0)}
    spec = [{"name": "emc", "K": 2, "reading": "linear"}]
    grid = dict(lrs=[0.1, 0.3], lr_unit="1/L", seeds=(0, 1), steps=25, progress=False,
                dtype="float32")
    mine, ref = sweep(problem, spec, backend="jax", **grid), sweep(problem, spec, **grid)
    assert mine.conditions["dtype"] == "float32"
    assert list(mine.column("status")) == list(ref.column("status")) == ["max_steps"] * 4
    np.testing.assert_allclose(mine.column("final_gap"), ref.column("final_gap"), rtol=1e-3)


def own_problem():
    """A separable problem of a profile of its own, which the JAX backend has no form of."""
    q = quadratic(4, seed=0)
    return SeparableProblem("mine", {"d": 4}, q.profile, q.weights, q.x_star, None, "given")


@pytest.mark.parametrize("change, message", [
    ({"optimizers": [{"name": "heavy_ball", "beta": 0.9}]}, "runs the optimizer 'emc' only"),
    ({"history": True, "diagnostics": True}, "no per-step diagnostics"),
    ({"problems": {"mine": own_problem()}}, "no JAX form"),
])
def test_what_a_jax_sweep_cannot_run_is_refused(change, message):
    kwargs = dict(problems={"quad": quadratic(4, seed=0)}, optimizers=[{"name": "emc"}],
                  lrs=[0.1], steps=5, progress=False, backend="jax")
    kwargs.update(change)
    with pytest.raises((ValueError, TypeError), match=message):
        sweep(**kwargs)
