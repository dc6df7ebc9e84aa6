"""Results that are never lost or corrupt, and the run-level inputs of issue 16.

Reports are written atomically and as a set (:func:`emc_theory.records.write_files`); concurrent
``check`` runs merge under a lock (:mod:`claims.support.store`); a polling reader never sees an
empty or invalid file, and the final set is consistent (the Markdown and LaTeX are the
renderings of the JSON). The experiments' records go through the same writer."""
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from claims.support import store
from claims.support.base import CheckConfig
from claims.support.report import render_latex, render_markdown
from emc_theory import EMC, minimize, records
from emc_theory.baselines import GradientDescent
from emc_theory.problems import quadratic
from emc_theory.sweep import sweep
from experiments import common

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
       "OPENBLAS_NUM_THREADS": "1"}


def temporaries(directory: Path) -> list:
    return [p.name for p in directory.iterdir() if p.name.endswith(".tmp")]


# ----------------------------------------------------------------------------- atomic writes


def test_a_set_interrupted_while_writing_leaves_every_old_file(tmp_path, monkeypatch):
    a, b = tmp_path / "a.json", tmp_path / "sub" / "b.md"
    records.write_files({a: "old a", b: "old b"})
    real, calls = records._temporary, []

    def interrupted(path, text, encoding):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt   # Ctrl-C while the second temporary is being written
        return real(path, text, encoding)

    monkeypatch.setattr(records, "_temporary", interrupted)
    with pytest.raises(KeyboardInterrupt):
        records.write_files({a: "new a", b: "new b"})
    assert a.read_text() == "old a" and b.read_text() == "old b"
    assert temporaries(tmp_path) == [] and temporaries(tmp_path / "sub") == []


def test_a_bad_text_is_refused_before_any_file_changes(tmp_path):
    a = tmp_path / "a.txt"
    records.write_text(a, "old")
    with pytest.raises(TypeError, match=r"text for .*b.txt must be a str, got bytes"):
        records.write_files({a: "new", tmp_path / "b.txt": b"bytes"})
    assert a.read_text() == "old" and temporaries(tmp_path) == []


def test_written_files_get_the_permissions_of_an_ordinary_write(tmp_path):
    old = os.umask(0o027)
    try:
        fresh = records.write_text(tmp_path / "fresh.txt", "x")
        kept = tmp_path / "kept.txt"
        kept.write_text("x")
        kept.chmod(0o604)
        records.write_text(kept, "y")
    finally:
        os.umask(old)
    assert fresh.stat().st_mode & 0o777 == 0o640   # 0666 under the umask, not mkstemp's 0600
    assert kept.stat().st_mode & 0o777 == 0o604 and kept.read_text() == "y"


def test_experiment_records_are_written_atomically(tmp_path, monkeypatch):
    path = tmp_path / "experiments" / "run.json"
    common.write_text(path, "old")

    def interrupted(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(records.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        common.write_text(path, "new")
    assert path.read_text() == "old" and temporaries(path.parent) == []


# ----------------------------------------------------------------------------- concurrency


class Poller(threading.Thread):
    """Reads the reports as fast as it can until stopped; counts what it saw."""

    def __init__(self, results: Path, tex: Path):
        super().__init__(daemon=True)
        self.paths = {"json": results / "claims.json", "md": results / "claims.md", "tex": tex}
        self.results = results
        self.stop = threading.Event()
        self.reads = self.empty = self.invalid = self.locked_reads = self.mixed = 0

    def run(self):
        while not self.stop.is_set():
            for name, path in self.paths.items():
                try:
                    data = path.read_bytes()
                except FileNotFoundError:
                    continue
                self.reads += 1
                if not data:
                    self.empty += 1
                elif name == "json":
                    try:
                        doc = json.loads(data)
                        assert isinstance(doc["claims"], dict)
                    except (ValueError, KeyError, AssertionError, TypeError):
                        self.invalid += 1
            if self.reads % 50 == 0 and self.paths["json"].exists():
                with store.record_lock(self.results, shared=True):   # a consistent reader
                    doc = store.read_record(self.paths["json"])
                    md = self.paths["md"].read_text()
                self.locked_reads += 1
                self.mixed += md != render_markdown(doc)


def final_set_is_consistent(results: Path, tex: Path, ids) -> dict:
    doc = json.loads((results / "claims.json").read_text())
    assert set(ids) <= set(doc["claims"]), sorted(doc["claims"])
    assert set(ids) <= set(doc["provenance"]["produced"])
    assert (results / "claims.md").read_text() == render_markdown(doc)
    assert tex.read_text() == render_latex(doc)
    assert temporaries(results) == [] and temporaries(tex.parent) == []
    return doc


def poll_while(processes, poller: Poller):
    poller.start()
    outs = [p.communicate(timeout=600) for p in processes]
    poller.stop.set()
    poller.join()
    for p, (_out, err) in zip(processes, outs):
        assert p.returncode == 0, err[-2000:]
    return outs


def test_concurrent_checks_with_a_polling_reader(tmp_path):
    """Two ``check --quick --claim`` runs writing to one directory (each twice, so their
    writes interleave) while a reader polls: never an empty or invalid file, never a JSON and a
    Markdown of different runs under the shared lock, and at the end both claims, rendered
    consistently."""
    results, tex = tmp_path / "results", tmp_path / "tex" / "claims.tex"
    script = ("import sys\nfrom emc_app.cli import main\n"
              "for _ in range(2):\n"
              "    assert main(['check', '--quick', '--no-progress', '--claim', sys.argv[1],"
              f" '--results-dir', {str(results)!r}, '--tex', {str(tex)!r}]) == 0\n")
    poller = Poller(results, tex)
    processes = [subprocess.Popen([sys.executable, "-c", script, cid], env=ENV, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for cid in ("G1", "C2")]
    poll_while(processes, poller)
    assert poller.reads > 100 and poller.empty == 0 and poller.invalid == 0
    assert poller.mixed == 0
    final_set_is_consistent(results, tex, ("G1", "C2"))


WRITER = """
import sys
from claims.support.base import CheckConfig
from claims.support.registry import run_claims
from claims.support.report import write_reports
cid, results, tex, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
config = CheckConfig(quick=True, seed=int(sys.argv[5]))
found = run_claims([cid], config, progress=False, repairs=False)
for i in range(n):   # every write replaces the three files (under the lock, merged)
    write_reports(found, config, results, tex)
"""


def test_many_concurrent_merges_lose_nothing_and_never_expose_a_partial_file(tmp_path):
    """The same at the library level, with many writes: two writers, 20 merges each."""
    results, tex = tmp_path / "results", tmp_path / "claims.tex"
    poller = Poller(results, tex)
    processes = [subprocess.Popen([sys.executable, "-c", WRITER, cid, str(results), str(tex),
                                   "20", seed], env=ENV, text=True, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE) for cid, seed in (("G1", "1"),
                                                                            ("C2", "2"))]
    started = time.perf_counter()
    poll_while(processes, poller)
    assert poller.reads > 200 and poller.empty == 0 and poller.invalid == 0, (
        poller.reads, poller.empty, poller.invalid, time.perf_counter() - started)
    assert poller.mixed == 0
    doc = final_set_is_consistent(results, tex, ("G1", "C2"))
    assert {cid: doc["provenance"]["produced"][cid] for cid in ("G1", "C2")} == {
        "G1": {"quick": True, "seed": 1}, "C2": {"quick": True, "seed": 2}}


# ----------------------------------------------------------------------------- run inputs


def test_the_seed_is_validated_at_the_boundary():
    with pytest.raises(ValueError, match=r"seed must be an int in \[0, 2\*\*32 - 1\], got -1"):
        CheckConfig(seed=-1)
    with pytest.raises(TypeError, match=r"seed must be an int"):
        CheckConfig(seed=1.0)


def test_a_missing_record_reads_as_none_and_creates_nothing(tmp_path):
    assert store.load_record(tmp_path / "absent") is None
    assert not (tmp_path / "absent").exists()
    (tmp_path / "claims.json").write_text(json.dumps({"claims": {}, "config": {"quick": 1}}))
    with pytest.raises(store.RecordError, match=r"config.quick is not a boolean"):
        store.load_record(tmp_path)
    (tmp_path / "claims.json").write_text("[]")
    with pytest.raises(store.RecordError, match=r"the JSON is a list"):
        store.load_record(tmp_path)


# ----------------------------------------------------------------------------- runner, sweep


def test_divergence_factor_below_one_is_refused():
    """Below 1, every run whose start gap exceeds D/(1-D) would be 'diverged' at step 0."""
    problem = quadratic(3, cond=10.0)
    for bad, error in ((0.5, ValueError), (0.0, ValueError), (float("inf"), ValueError),
                       ([2.0, 3.0], TypeError), ("10", TypeError)):
        with pytest.raises(error, match=r"divergence_factor"):
            minimize(GradientDescent(lr=0.1), problem, np.ones(3), 5, divergence_factor=bad)
    run = minimize(GradientDescent(lr=0.1), problem, problem.x_star + 10.0, 5,
                   divergence_factor=1.0)
    assert run.status == "max_steps"   # D = 1 is allowed: the gap only shrinks here


def test_history_grows_with_the_run_instead_of_being_preallocated():
    """steps = 10**9 with early stopping: the histories hold the steps run (the issue's 1e8
    allocated 1.6 GB up front, 1e10 raised MemoryError); the values equal a run of a budget
    just large enough (there the histories are padded to steps + 1 rows, as documented)."""
    problem = quadratic(4, cond=10.0, seed=2)
    x0 = np.tile(problem.x_star + 1.0, (3, 1)) * np.array([[1.0], [2.0], [4.0]])
    opt = EMC(K=3, lr=0.05, reading="linear")
    huge = minimize(opt, problem, x0, 10**9, tol=1e-4, record_iterates=True, diagnostics=True)
    assert set(huge.status) == {"converged"}
    last = int(huge.stop_step.max())
    assert huge.f_gap.shape == (last + 1, 3) and huge.iterates.shape == (last + 1, 3, 4)
    assert huge.diagnostics["weights"].shape == (last, 3, 3)
    small = minimize(opt, problem, x0, last + 10, tol=1e-4, record_iterates=True,
                     diagnostics=True)
    assert small.f_gap.shape == (last + 11, 3)    # within the budget: steps + 1 rows
    np.testing.assert_array_equal(huge.f_gap, small.f_gap[:last + 1])
    np.testing.assert_array_equal(huge.iterates, small.iterates[:last + 1])
    assert np.isnan(small.f_gap[last + 1:]).all()
    np.testing.assert_array_equal(huge.final_gap, small.final_gap)
    table = sweep([problem], [{"name": "gd"}], [0.05, 0.1], steps=10**9, tol=1e-4,
                  history=True, progress=False)
    stops = [row["stop_step"] for row in table.rows]
    assert table.histories["f_gap"].shape == (max(stops) + 1, 2)


GRID = {"problems": [quadratic(3)], "optimizers": [{"name": "gd"}], "lrs": [0.1]}


@pytest.mark.parametrize("empty", ["problems", "optimizers", "lrs", "seeds", "schedules"])
def test_empty_sweep_grids_are_refused_alike(empty):
    kwargs = {**GRID, empty: {} if empty == "problems" else []}
    with pytest.raises(ValueError, match=rf"{empty} must be non-empty \(a sweep over no "):
        sweep(kwargs.pop("problems"), kwargs.pop("optimizers"), kwargs.pop("lrs"), steps=3,
              progress=False, **kwargs)


@pytest.mark.parametrize("change, message", [
    ({"problems": "quadratic"}, r"problems must be a list of problems"),
    ({"problems": {"a": 1}}, r"problems must hold problems of emc_theory.problems"),
    ({"problems": quadratic(3)}, r"problems must be a list of problems"),
    ({"optimizers": {"name": "gd"}}, r"optimizers must be a list of optimizer specs"),
    ({"optimizers": "gd"}, r"optimizers must be a list of optimizer specs"),
    ({"optimizers": ["gd"]}, r"optimizers must be a list of optimizer specs .*item 0: 'gd'"),
    ({"seeds": 3}, r"seeds must be a list of seeds .*wrap a single one in a list, seeds=\[3\]"),
    ({"seeds": "0"}, r"seeds must be a list"),
    ({"schedules": "constant"}, r"schedules must be a list of schedule kinds.*\['constant'\]"),
    ({"start_scales": {"a": 1.0}}, r"start_scales must be a list"),
    ({"lr_unit": 3}, r"lr_unit must be a list of units"),
    ({"lrs": "0.1"}, r"lrs must be"),
    ({"lrs": {"a": 0.1}}, r"lrs must be"),
])
def test_sweep_arguments_of_the_wrong_type_are_named(change, message):
    kwargs = {**GRID, **change}
    with pytest.raises(TypeError, match=message):
        sweep(kwargs.pop("problems"), kwargs.pop("optimizers"), kwargs.pop("lrs"), steps=3,
              progress=False, **kwargs)


def test_worker_processes_are_not_forked_from_a_process_running_jax(monkeypatch):
    """Once JAX (which runs threads of its own) is imported, workers start from a fork server;
    before, they fork (and inherit the imported modules)."""
    import sys
    import types

    from emc_theory.records import worker_context

    monkeypatch.delitem(sys.modules, "jax", raising=False)
    assert worker_context().get_start_method() == "fork"
    monkeypatch.setitem(sys.modules, "jax", types.ModuleType("jax"))
    assert worker_context().get_start_method() == "forkserver"
