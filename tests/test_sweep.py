"""The batched sweep engine: every row equals the run rebuilt from its own parameters alone (one
unbatched ``minimize`` call with a start point drawn here), independently of chunking and of
running in process or on Dask; the saved table is deterministic and reads back."""
import sys

import numpy as np
import pytest

from emc_theory import minimize
from emc_theory.optimizers import OPTIMIZERS
from emc_theory.problems import huber, quadratic
from emc_theory.schedules import Schedule
from emc_theory.sweep import START_SCALED, load, plan, sweep

PROBLEMS = {"quad": quadratic(5, cond=20.0, seed=3), "huber": huber(4, seed=1)}
OPTIMIZERS_GRID = [{"name": "emc", "K": [2, 3], "reading": ["power", "linear"]},
                   {"name": "heavy_ball", "beta": 0.9}]
GRID = dict(lrs=[0.01, 0.3, 30.0], schedules=("constant", "inv_sqrt"), seeds=(0, 7),
            start_scales=(1.0,), steps=60, tol=1e-6)
HYPER = ("K", "reading", "beta")


def single_run(row):
    """The run of one table row, rebuilt from the row's parameters and run alone."""
    problem = PROBLEMS[row["problem"]]
    hyper = {k: row[k] for k in HYPER if row[k] is not None}
    optimizer = OPTIMIZERS[row["optimizer"]](lr=Schedule(row["lr"], row["schedule"]), **hyper)
    z = np.random.default_rng(row["seed"]).standard_normal(problem.d)
    x0 = problem.x_star + row["start_scale"] * z
    return minimize(optimizer, problem, x0, GRID["steps"], tol=GRID["tol"])


@pytest.fixture(scope="module")
def table():
    return sweep(PROBLEMS, OPTIMIZERS_GRID, progress=False, **GRID)


def test_grid_is_crossed_in_order_with_one_program_per_group(table):
    n_configs, n_runs = 5, 3 * 2 * 2   # EMC 2 x 2 + heavy ball; lrs x schedules x seeds
    assert len(table.rows) == len(PROBLEMS) * n_configs * n_runs
    assert [row["run"] for row in table.rows] == list(range(len(table.rows)))
    # one program per (configuration, d): schedule kinds are per run; here the two d differ
    assert table.conditions["chunks"] == len(PROBLEMS) * n_configs
    first = table.rows[0]
    assert (first["problem"], first["optimizer"], first["K"], first["reading"]) == (
        "quad", "emc", 2, "power")
    assert (first["schedule"], first["lr"], first["seed"]) == ("constant", 0.01, 0)
    assert table.rows[1]["seed"] == 7 and table.rows[2]["lr"] == 0.3
    assert {row["status"] for row in table.rows} >= {"converged", "max_steps"}
    assert {row["status"] for row in table.rows} & {"diverged", "non-finite"}


def test_every_row_equals_its_run_rebuilt_alone(table):
    # a batch evaluates the problem with matrix-matrix products, one run with matrix-vector
    # ones: iterates may differ in the last bits, which a gap near 0 shows at 1e-10 relative
    for row in table.rows[::3]:
        alone = single_run(row)
        assert (row["status"], row["stop_step"]) == (alone.status, alone.stop_step), row
        for name in ("final_gap", "final_grad_norm"):
            value = float(getattr(alone, name))
            if np.isfinite(value):
                assert row[name] == pytest.approx(value, rel=1e-6, abs=1e-15), (name, row)
            else:
                assert row[name] is None, (name, row)


def test_problems_of_one_dimension_share_a_program():
    """Problems of the same d are stacked: one program per configuration, and every row still
    equals its run alone."""
    problems = {"quad": quadratic(4, cond=20.0, seed=3), "huber": huber(4, seed=1)}
    grid = dict(GRID, lrs=[0.05, 0.5])
    table = sweep(problems, [{"name": "emc", "K": 2, "reading": "power"}, {"name": "gd"}],
                  progress=False, **grid)
    assert table.conditions["chunks"] == 2
    for row in table.rows:
        hyper = {"K": 2, "reading": "power"} if row["optimizer"] == "emc" else {}
        optimizer = OPTIMIZERS[row["optimizer"]](lr=Schedule(row["lr"], row["schedule"]),
                                                 **hyper)
        problem = problems[row["problem"]]
        z = np.random.default_rng(row["seed"]).standard_normal(problem.d)
        alone = minimize(optimizer, problem, problem.x_star + row["start_scale"] * z,
                         grid["steps"], tol=grid["tol"])
        assert (row["status"], row["stop_step"]) == (alone.status, alone.stop_step), row
        assert row["final_grad_norm"] == pytest.approx(float(alone.final_grad_norm), rel=1e-6,
                                                       abs=1e-15)


def test_chunking_changes_no_outcome(table):
    # chunks change the batch sizes of the problem's BLAS products: last bits only
    for chunk_runs in (1, 5):
        again = sweep(PROBLEMS, OPTIMIZERS_GRID, progress=False, chunk_runs=chunk_runs, **GRID)
        for a, b in zip(again.rows, table.rows):
            assert {k: a[k] for k in a if k not in ("final_gap", "final_grad_norm")} == {
                k: b[k] for k in b if k not in ("final_gap", "final_grad_norm")}
            for name in ("final_gap", "final_grad_norm"):
                assert (a[name] is None) == (b[name] is None)
                assert a[name] is None or a[name] == pytest.approx(b[name], rel=1e-6, abs=1e-15)
    _, _, chunks, _ = plan(PROBLEMS, OPTIMIZERS_GRID, chunk_runs=5, **GRID)
    assert max(len(c.rows) for c in chunks) == 5


def test_saved_table_is_deterministic_and_reads_back(table, tmp_path):
    path = table.save(tmp_path / "t.jsonl")
    assert table.save(tmp_path / "u.jsonl").read_bytes() == path.read_bytes()
    rows = load(path)
    assert rows == table.rows
    assert list(rows[0]) == table.columns
    assert table.column("final_gap").dtype == float


def test_added_columns_and_the_columnar_form(table):
    copy = sweep(PROBLEMS, OPTIMIZERS_GRID, progress=False, **GRID)
    copy.add_column("label", [row["status"][:4] for row in copy.rows])
    columnar = copy.columnar()
    assert list(columnar) == copy.columns and columnar["label"][0] == copy.rows[0]["status"][:4]
    assert columnar["run"] == list(range(len(copy.rows)))
    with pytest.raises(ValueError, match="one value per row"):
        copy.add_column("other", [1, 2])
    with pytest.raises(ValueError, match="must be new"):
        copy.add_column("label", [None] * len(copy.rows))


def test_dask_local_cluster_gives_the_identical_table(table):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        on_dask = sweep(PROBLEMS, OPTIMIZERS_GRID, progress=False, scheduler=cluster, **GRID)
        with distributed.Client(cluster) as client:
            with_client = sweep(PROBLEMS, OPTIMIZERS_GRID, progress=False, scheduler=client,
                                **GRID)
    assert on_dask.rows == table.rows
    assert with_client.rows == table.rows


def test_dask_runs_stacked_programs_identically():
    """Problems of one d share a program (a StackedProblem inside the chunk): on Dask too, with
    histories, the same table and curves as in process."""
    distributed = pytest.importorskip("dask.distributed")
    problems = {"quad": quadratic(4, cond=20.0, seed=3), "huber": huber(4, seed=1)}
    grid = dict(GRID, lrs=[0.05, 0.5], history=True)
    local = sweep(problems, [{"name": "emc", "K": 2}], progress=False, **grid)
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        remote = sweep(problems, [{"name": "emc", "K": 2}], progress=False, scheduler=cluster,
                       **grid)
    assert local.conditions["chunks"] == 1 and remote.rows == local.rows
    np.testing.assert_array_equal(remote.histories["grad_norm"], local.histories["grad_norm"])


def test_without_dask_a_scheduler_gives_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ImportError, match=r"pip install 'emc-theory\[dask\]'"):
        sweep(PROBLEMS, OPTIMIZERS_GRID, progress=False, scheduler="tcp://127.0.0.1:1",
              **GRID)


@pytest.mark.parametrize("change, name", [
    ({"lrs": [0.1, -1.0]}, "lrs"), ({"schedules": ("cosine",)}, "schedule kind"),
    ({"optimizers": [{"name": "sgd"}]}, "optimizer name"),
    ({"optimizers": [{"name": "emc", "K": 0}]}, "K"), ({"chunk_runs": 0}, "chunk_runs"),
    ({"start_scales": (-1.0,)}, "start_scales"), ({"seeds": (-2,)}, "seed"),
    ({"steps": 0}, "steps"), ({"optimizers": [{"name": "gd", "lr": 0.1}]}, "lr"),
    ({"scheduler": 42}, "scheduler"), ({"dtype": "float16"}, "dtype"),
])
def test_bad_arguments_name_the_parameter(change, name):
    kwargs = dict(GRID, optimizers=OPTIMIZERS_GRID, progress=False)
    kwargs.update(change)
    with pytest.raises((ValueError, TypeError), match=name):
        sweep(PROBLEMS, **kwargs)


# ------------------------------------------------------------------------ given starts, histories

STARTS = {"quad": np.random.default_rng(11).standard_normal((2, 5)) * 3.0,
          "huber": np.random.default_rng(12).standard_normal((3, 4)) * 20.0}


@pytest.fixture(scope="module")
def traced():
    return sweep(PROBLEMS, [{"name": "emc", "K": 3, "reading": "root"}, {"name": "adam"}],
                 [0.05, 0.5], start_points=STARTS, steps=40, history=True, diagnostics=True,
                 progress=False)


def test_given_starts_cross_the_step_sizes_in_order(traced):
    rows = traced.rows
    assert len(rows) == 2 * (2 * 2 + 2 * 3)   # optimizers x (lrs x starts) per problem
    assert [(r["lr"], r["start"]) for r in rows[:4]] == [(0.05, 0), (0.05, 1), (0.5, 0), (0.5, 1)]
    assert all(r["seed"] is None and r["start_scale"] is None for r in rows)
    assert traced.conditions["start_points"] == "given"


def test_histories_equal_each_run_rebuilt_alone(traced):
    """Every history column is the run of its row, run alone with the row's parameters and
    given start point (the final values of the table and the curves agree too)."""
    for j, row in enumerate(traced.rows):
        spec = {"K": 3, "reading": "root"} if row["optimizer"] == "emc" else {}
        optimizer = OPTIMIZERS[row["optimizer"]](lr=row["lr"], **spec)
        x0 = STARTS[row["problem"]][row["start"]]
        alone = minimize(optimizer, PROBLEMS[row["problem"]], x0, 40,
                         diagnostics=row["optimizer"] == "emc")
        np.testing.assert_allclose(traced.histories["f_gap"][:, j], alone.f_gap, rtol=1e-9,
                                   atol=1e-300)
        np.testing.assert_allclose(traced.histories["grad_norm"][:, j], alone.grad_norm,
                                   rtol=1e-9, atol=1e-300)
        assert row["status"] == alone.status
        gamma = traced.histories["gamma"][:, j]
        if row["optimizer"] == "emc":
            np.testing.assert_allclose(gamma, alone.diagnostics["gamma"], rtol=1e-12)
            np.testing.assert_allclose(traced.histories["weights"][:, j].sum(axis=-1), 1.0)
        else:   # baselines have no diagnostics: NaN, not zeros
            assert np.isnan(gamma).all()


@pytest.mark.parametrize("change, message", [
    ({"start_points": np.zeros((2, 3))}, r"start_points for problem 'quad' must have shape"),
    ({"start_points": {"quad": np.zeros((0, 5)), "huber": np.zeros((1, 4))}}, "S >= 1"),
    ({"start_points": {"quad": np.full((1, 5), np.nan), "huber": np.zeros((1, 4))}}, "finite"),
    ({"start_points": STARTS, "seeds": (0, 1)}, "start_points replaces seeds"),
    ({"diagnostics": True}, "needs history=True"),
])
def test_bad_start_points_and_records_are_named(change, message):
    with pytest.raises(ValueError, match=message):
        sweep(PROBLEMS, [{"name": "gd"}], [0.1], steps=5, progress=False, **change)


def test_step_sizes_in_units_of_one_over_L():
    """lr_unit="1/L": each problem's step is the grid value over its own L (a column keeps the
    value), and the runs equal those of an absolute grid of those steps."""
    relative = sweep(PROBLEMS, [{"name": "gd"}], [0.5, 1.5], lr_unit="1/L", steps=30, tol=1e-6,
                     progress=False)
    assert relative.columns[-5] == "lr_times_L" and relative.conditions["lr_unit"] == "1/L"
    for row in relative.rows:
        assert row["lr"] == row["lr_times_L"] / PROBLEMS[row["problem"]].L
        alone = sweep({row["problem"]: PROBLEMS[row["problem"]]}, [{"name": "gd"}], [row["lr"]],
                      steps=30, tol=1e-6, progress=False).rows[0]
        assert (alone["status"], alone["stop_step"]) == (row["status"], row["stop_step"])
    with pytest.raises(ValueError, match="lr_unit"):
        sweep(PROBLEMS, [{"name": "gd"}], [0.5], lr_unit="L", steps=3, progress=False)


def test_float32_sweep_runs_in_float32_and_agrees_with_float64():
    """The same grid in float32: the chunks' start points are float32 (the runner keeps that
    dtype, tested in test_batched_runs), and runs that reach the step budget in both have gaps
    within float32 accuracy of the float64 ones."""
    grid = dict(GRID, lrs=[0.01, 0.3], tol=None, steps=40)
    tables = {dtype: sweep(PROBLEMS, [{"name": "emc", "K": 3, "reading": "linear"}],
                           progress=False, dtype=dtype, **grid)
              for dtype in ("float64", "float32")}
    assert tables["float32"].conditions["dtype"] == "float32"
    _, _, chunks, _ = plan(PROBLEMS, [{"name": "emc", "K": 3}], dtype="float32", **grid)
    assert all(chunk.start_points().dtype == np.float32 for chunk in chunks)
    same = 0
    for row32, row64 in zip(tables["float32"].rows, tables["float64"].rows):
        if row32["status"] == row64["status"] == "max_steps":
            same += 1
            assert row32["final_gap"] == pytest.approx(row64["final_gap"], rel=1e-3, abs=1e-6)
    assert same >= len(tables["float64"].rows) // 2


def test_start_dependent_steps_and_tolerances():
    """lr_unit per step size, one of them START_SCALED, and tol_relative: each row's step is
    v / (L max(1, |grad f(x0)|_inf)) and its tolerance tol max(1, |grad f(x0)|), computed here
    from the row's own start point; every row equals the run alone with those values."""
    table = sweep(PROBLEMS, [{"name": "emc", "K": 2, "reading": "linear"}], [0.5, 1.0],
                  lr_unit=["1/L", START_SCALED], start_points=STARTS, steps=60, tol=1e-2,
                  tol_relative=True, progress=False)
    assert table.columns[-6:-4] == ["lr_unit", "tol"] and "lr_value" in table.columns
    assert table.conditions["lr_unit"] == ["1/L", START_SCALED]
    assert {row["lr_unit"] for row in table.rows} == {"1/L", START_SCALED}
    for row in table.rows:
        problem = PROBLEMS[row["problem"]]
        x0 = STARTS[row["problem"]][row["start"]]
        g0 = problem.grad(x0)
        lr = (row["lr_value"] / problem.L if row["lr_unit"] == "1/L"
              else row["lr_value"] / (problem.L * max(1.0, np.abs(g0).max())))
        tol = 1e-2 * max(1.0, np.linalg.norm(g0))
        assert row["lr"] == pytest.approx(lr, rel=1e-14)
        assert row["tol"] == pytest.approx(tol, rel=1e-14)
        alone = minimize(OPTIMIZERS["emc"](lr=lr, K=2, reading="linear"), problem, x0, 60,
                         tol=tol)
        assert (row["status"], row["stop_step"]) == (alone.status, alone.stop_step), row
    assert {row["status"] for row in table.rows} == {"converged", "max_steps"}


@pytest.mark.parametrize("change, message", [
    ({"tol": None}, "tol_relative=True scales tol"),
    ({"lr_unit": ["1/L"]}, "one such unit per step size"),
    ({"lr_unit": ["1/L", "per start"]}, "lr_unit"),
])
def test_start_dependent_arguments_are_checked(change, message):
    kwargs = {"lr_unit": ["1/L", START_SCALED], "tol": 1e-4, "tol_relative": True, **change}
    with pytest.raises(ValueError, match=message):
        sweep(PROBLEMS, [{"name": "gd"}], [0.5, 1.0], steps=5, progress=False, **kwargs)


# ----------------------------------------------------------------------------- backends, saving


def test_the_backend_is_checked_and_recorded(table):
    assert table.conditions["backend"] == "numpy"
    with pytest.raises(ValueError, match="backend"):
        sweep(PROBLEMS, [{"name": "gd"}], [0.1], steps=5, progress=False, backend="torch")
    # what a JAX sweep cannot run is refused before JAX is imported
    with pytest.raises(ValueError, match="'emc' only"):
        plan(PROBLEMS, OPTIMIZERS_GRID, [0.1], backend="jax")
    with pytest.raises(ValueError, match="diagnostics"):
        plan(PROBLEMS, [{"name": "emc"}], [0.1], backend="jax", history=True, diagnostics=True)
    with pytest.raises(ValueError, match="divergence_factor"):
        plan(PROBLEMS, [{"name": "emc"}], [0.1], divergence_factor=0.5)


def test_without_jax_the_jax_backend_names_the_extra(monkeypatch):
    """With JAX missing (``None`` in ``sys.modules`` makes its import fail), ``backend="jax"``
    raises an ImportError naming the extra, at planning time."""
    monkeypatch.setitem(sys.modules, "jax", None)
    monkeypatch.delitem(sys.modules, "emc_theory.jax_backend", raising=False)
    with pytest.raises(ImportError, match=r"pip install -e '\.\[jax\]'"):
        sweep(PROBLEMS, [{"name": "emc"}], [0.1], steps=5, progress=False, backend="jax")


def test_save_is_atomic(table, tmp_path, monkeypatch):
    """A failed save (a row that is not JSON) leaves the previous file whole and no temporary
    behind; a save replaces the file in one step and keeps its permissions."""
    import os
    import stat

    path = table.save(tmp_path / "t.jsonl")
    before = path.read_bytes()
    os.chmod(path, 0o640)
    broken = sweep(PROBLEMS, [{"name": "gd"}], [0.1], steps=3, progress=False)
    broken.rows[-1]["status"] = object()
    with pytest.raises(TypeError):
        broken.save(path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["t.jsonl"]
    replaced = []
    real_replace = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append(b), real_replace(a, b)))
    table.save(path)
    assert replaced == [path] and path.read_bytes() == before
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
