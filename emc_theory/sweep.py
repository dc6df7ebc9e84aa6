r"""Batched sweeps: a grid of runs as few array programs as possible, in process or on Dask.

A sweep crosses problems :math:`\times` optimizer configurations :math:`\times` step-size schedule
kinds :math:`\times` step sizes :math:`\eta_0` :math:`\times` start points (start scales
:math:`\times` seeds). The runs that share an optimizer configuration (family and every
hyper-parameter but the step size, e.g. EMC's ``K``, ``reading``, ``entropy``, ``tau``) and the
dimension ``d`` form one *group*: one call of :func:`emc_theory.runner.minimize` on a ``(B, d)``
batch with per-run :math:`\eta_0` and schedule kinds, on a
:class:`~emc_theory.problems.StackedProblem` when the group spans several problems (a problem
without a known :math:`f^\star` runs in a group of its own), where stopped runs are masked and
dropped, not recomputed. A group larger than ``chunk_runs`` is split into chunks so memory stays
bounded.

Step sizes are absolute, or in units of :math:`1/L` (each problem's own :math:`L`), or
*start-dependent*: :math:`\eta_0 = v / (L \max(1, \|\nabla f(x_0)\|_\infty))` for a grid value
:math:`v` (unit :data:`START_SCALED`; the step shrinks with the start's gradient, so the first
step of a method whose update grows like a power of the gradient stays bounded); ``lr_unit`` may
give one unit per step size, so fixed and start-dependent steps share one grid and one program.
The tolerance ``tol`` is absolute, or with ``tol_relative`` relative to the start gradient: run
``i`` stops when :math:`\|\nabla f(x_t)\| \le \mathrm{tol} \max(1, \|\nabla f(x_0)\|)`.
Start-dependent values are computed in the chunk from the run's own start point and problem, and
recorded in the table (``lr``; a column ``tol``).

Run ``i`` starts at :math:`x_0 = c + s_i z_{\mathrm{seed}_i}`, :math:`z \sim N(0, I_d)` drawn by
``np.random.default_rng(seed).standard_normal(d)`` and :math:`c = x^\star` (0 for a problem
without a minimiser): every step size and optimizer sees the same start points. Or the start
points are given (``start_points``: an ``(S, d)`` array per problem, e.g. a claim's protocol):
the grid then crosses the step sizes with them.

The result is a tidy table, one row per run, in grid order (problem, optimizer configuration,
schedule, step size, start point): the run's parameters (``start`` indexes the start points:
the (scale, seed) pairs in order, or the given points), ``status``, ``stop_step``,
``final_gap``, ``final_grad_norm`` (:data:`RESULT_COLUMNS`). :meth:`SweepResult.save` writes it
as JSON lines with deterministic bytes (non-finite floats as ``null``; ``status`` says why).
With ``history`` the result also holds every run's :math:`f(x_t) - f^\star` and
:math:`\|\nabla f(x_t)\|` for ``t = 0..steps`` (with ``diagnostics`` also EMC's per-step
diagnostics), arrays whose last axis follows the table's rows, for checks that read a
trajectory (steps to a target, tail tests, trend slopes).

``scheduler`` runs the chunks as Dask tasks (``dask.distributed``, an optional extra): a
scheduler address, a ``Client``, or a cluster such as ``LocalCluster``. Chunks are the same as in
process and each runs with one BLAS thread, so the table is identical. (A different
``chunk_runs`` changes the batch sizes of the problems' BLAS products, hence possibly the last
bits of the iterates, never the chunking itself: it depends on the grid and ``chunk_runs`` only.)

Runs compute in float64, or with ``dtype="float32"`` in float32 end to end (problem, optimizer
state, updates); ``emc-theory bench`` measures both.

``backend="jax"`` (extra ``jax``; EMC only, without ``diagnostics``) runs each chunk as one
compiled program of :func:`emc_theory.jax_backend.run_batch` in place of
:func:`~emc_theory.runner.minimize`, on the same start points, step sizes (start-dependent ones
computed here, as for NumPy) and tolerances, with the same statuses and rules: the table is the
NumPy backend's (identical statuses and stop steps for every run whose status is unchanged by a
one-ulp move of its start; final values within the bound :func:`~emc_theory.jax_backend.run_batch`
states, ``tests/test_jax_sweep.py``). The batch size is part of a compiled program's shape, so a
new size means a new compilation: a group of ``n`` runs larger than its chunk size ``c`` is cut
into :math:`\lceil n/c \rceil` chunks of one size :math:`s = \lceil n / \lceil n/c \rceil
\rceil \le c`, and the last, shorter chunk is padded to ``s`` with copies of its last run
(:attr:`Chunk.pad`; fewer than :math:`\lceil n/c \rceil` copies in all, dropped from the
results; a copy runs as its original does, so it adds no steps), so each group compiles
once. The table's ``conditions`` record the ``backend``.
"""
from __future__ import annotations

import dataclasses
import importlib
import itertools
import json
import numbers
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Optional

import numpy as np
from threadpoolctl import threadpool_limits

from .optimizers import OPTIMIZERS
from .problems import StackedProblem
from .records import json_ready, write_text
from .runner import _check_divergence_factor, minimize
from .schedules import Schedule
from .validation import check_choice, check_int, check_positive, check_real

RUN_COLUMNS = ("run", "problem", "d", "optimizer")
GRID_COLUMNS = ("schedule", "lr", "start", "start_scale", "seed")
RESULT_COLUMNS = ("status", "stop_step", "final_gap", "final_grad_norm")
START_SCALED = "1/(L max(1,|g0|_inf))"
LR_UNITS = ("absolute", "1/L", START_SCALED)
DTYPES = ("float64", "float32")
BACKENDS = ("numpy", "jax")
"""Array backends of a sweep: the NumPy core (the reference) and compiled JAX (EMC only)."""
MEMORY_BUDGET = 1 << 28
r"""Bytes a chunk may use, estimated as :math:`s d (K + 12)` per run for floats of :math:`s`
bytes (``K`` buffers plus the runner's and the problem's vectors): the default ``chunk_runs``."""


@dataclass(frozen=True)
class Chunk:
    """One array program: runs of one group (same optimizer configuration and dimension) with
    their problems (``problems[assignment[i]]`` for run ``i``), schedule kinds, step sizes,
    start scales and seeds (or given start points); ``rows`` are their table indices.
    ``backend``: ``"numpy"`` or ``"jax"``; ``pad``: copies of the last run appended before a JAX
    chunk runs, so that every chunk of its group has one batch size (module docstring)."""

    problems: tuple
    assignment: np.ndarray
    optimizer: str
    hyper: dict
    kinds: np.ndarray
    lrs: np.ndarray
    start_scales: np.ndarray
    seeds: np.ndarray
    rows: np.ndarray
    steps: int
    options: dict
    given_starts: Optional[np.ndarray] = None
    dtype: str = "float64"
    start_scaled: Optional[np.ndarray] = None
    tol_relative: bool = False
    backend: str = "numpy"
    pad: int = 0

    def problem(self):
        """The chunk's problem: the one problem, or the stack of its problems."""
        if len(self.problems) == 1:
            return self.problems[0]
        return StackedProblem(self.problems, self.assignment)

    def padded(self) -> Chunk:
        """The chunk with its ``pad`` copies of the last run appended (``pad`` then 0)."""
        if not self.pad:
            return self

        def extended(values):
            if values is None:
                return None
            return np.concatenate([values, np.repeat(values[-1:], self.pad, axis=0)])

        return dataclasses.replace(
            self, **{name: extended(getattr(self, name)) for name in (
                "assignment", "kinds", "lrs", "start_scales", "seeds", "rows", "given_starts",
                "start_scaled")}, pad=0)

    def start_points(self) -> np.ndarray:
        """:math:`x_0 = c + s z_{\\mathrm{seed}}` (or the given points) for every run of the chunk,
        shape ``(B, d)``, computed in float64 and then given the chunk's ``dtype``."""
        if self.given_starts is not None:
            return self.given_starts.astype(self.dtype, copy=False)
        d = self.problems[0].d
        centers = np.stack([np.zeros(d) if p.x_star is None else p.x_star
                            for p in self.problems])[self.assignment]
        draws = {int(s): np.random.default_rng(int(s)).standard_normal(d)
                 for s in np.unique(self.seeds)}
        z = np.stack([draws[int(s)] for s in self.seeds])
        return (centers + self.start_scales[:, None] * z).astype(self.dtype, copy=False)


def _jax_backend():
    """:mod:`emc_theory.jax_backend`, imported on first use (it imports JAX)."""
    try:
        return importlib.import_module("emc_theory.jax_backend")
    except ImportError as exc:
        raise ImportError(f"backend='jax' runs the sweep with JAX and optax, which are not "
                          f"installed: pip install -e '.[jax]' ({exc})") from exc


def _check_jax_grid(optimizers, diagnostics: bool) -> None:
    """What a JAX sweep cannot run: another optimizer than EMC, per-step diagnostics."""
    others = sorted({name for name in optimizers if name != "emc"})
    if others:
        raise ValueError(f"backend='jax' runs the optimizer 'emc' only, got {others}: run them "
                         f"with backend='numpy'")
    if diagnostics:
        raise ValueError("backend='jax' records no per-step diagnostics: diagnostics=True needs "
                         "backend='numpy'")


def _run_jax(chunk: Chunk, problem, x0, lrs, options) -> dict:
    """A chunk's runs as one compiled JAX program (:func:`emc_theory.jax_backend.run_batch`)."""
    _check_jax_grid([chunk.optimizer], options["diagnostics"])
    found = _jax_backend().run_batch(
        problem, x0, chunk.steps, lrs=lrs, kinds=chunk.kinds, **chunk.hyper, tol=options["tol"],
        gap_tol=options["gap_tol"], divergence_factor=options["divergence_factor"],
        history=options["history"])
    out = {name: found[name] for name in RESULT_COLUMNS}
    if options["history"]:
        out["history"] = {"f_gap": found["f_gap"], "grad_norm": found["grad_norm"]}
    return out


def _first_runs(values, runs: int):
    """``values`` (a result array, run axis first, or a dict of histories, run axis second)
    restricted to the first ``runs`` runs."""
    if isinstance(values, dict):
        return {name: v[:, :runs] for name, v in values.items()}
    return values[:runs] if np.ndim(values) else values


def run_chunk(chunk: Chunk) -> dict:
    """Run a chunk with one BLAS thread, on its backend; final values of each run as arrays
    (with the start-dependent step sizes ``lr`` and tolerances ``tol`` where the grid has them),
    and with ``history`` the per-step records (run axis last). A padded chunk runs padded and
    returns its own runs only."""
    runs = len(chunk.rows)
    chunk = chunk.padded()
    options = dict(chunk.options)
    problem, x0, lrs, out = chunk.problem(), chunk.start_points(), chunk.lrs, {}
    with threadpool_limits(1):
        scaled = chunk.start_scaled is not None and chunk.start_scaled.any()
        if scaled or chunk.tol_relative:
            g0 = np.asarray(problem.grad(x0), dtype=float)
            if scaled:
                L = np.array([p.L for p in chunk.problems], dtype=float)[chunk.assignment]
                lrs = np.where(chunk.start_scaled,
                               lrs / (L * np.maximum(1.0, np.abs(g0).max(axis=-1))), lrs)
                out["lr"] = lrs
            if chunk.tol_relative:
                options["tol"] = options["tol"] * np.maximum(1.0, np.linalg.norm(g0, axis=-1))
                out["tol"] = options["tol"]
        if chunk.backend == "jax":
            out.update(_run_jax(chunk, problem, x0, lrs, options))
        else:
            optimizer = OPTIMIZERS[chunk.optimizer](lr=Schedule(lrs, chunk.kinds), **chunk.hyper)
            options["diagnostics"] &= hasattr(optimizer, "update_with_diagnostics")
            trajectory = minimize(optimizer, problem, x0, chunk.steps, **options)
            out.update({"status": trajectory.status, "stop_step": trajectory.stop_step,
                        "final_gap": trajectory.final_gap,
                        "final_grad_norm": trajectory.final_grad_norm})
            if options["history"]:
                out["history"] = {"f_gap": trajectory.f_gap, "grad_norm": trajectory.grad_norm,
                                  **(trajectory.diagnostics or {})}
    if len(chunk.rows) != runs:
        out = {name: _first_runs(values, runs) for name, values in out.items()}
    return out


@dataclass
class SweepResult:
    """The tidy table: ``rows`` (one dict per run, keys ``columns``), the run ``conditions`` and,
    for a sweep with ``history``, ``histories``: name -> array of shape ``(steps + 1, runs)``
    (diagnostics ``(steps, runs, ...)``), NaN after a run stopped."""

    columns: list
    rows: list
    conditions: dict
    histories: Optional[dict] = None

    def column(self, name: str) -> np.ndarray:
        """One column as an array (``None`` entries become NaN in numeric columns)."""
        values = [row[name] for row in self.rows]
        if name in ("final_gap", "final_grad_norm", "lr", "start_scale", "tol", "lr_value"):
            return np.array([np.nan if v is None else v for v in values], dtype=float)
        return np.array(values)

    def add_column(self, name: str, values) -> None:
        """Append a column computed from the runs (e.g. a check's outcome per run), in row order."""
        values = list(values)
        if name in self.columns or len(values) != len(self.rows):
            raise ValueError(f"column {name!r} must be new and have one value per row "
                             f"({len(self.rows)}), got {len(values)} values")
        self.columns.append(name)
        for row, value in zip(self.rows, values):
            row[name] = json_ready(value)

    def columnar(self) -> dict:
        """The table as ``{column: [values in row order]}`` (compact, for a JSON record)."""
        return {name: [row[name] for row in self.rows] for name in self.columns}

    def save(self, path) -> Path:
        """Write the rows as JSON lines (deterministic bytes), atomically
        (:func:`emc_theory.records.write_text`: a reader sees the old file or the new one, never
        a part); return the path."""
        return write_text(Path(path), "".join(json.dumps(row, allow_nan=False) + "\n"
                                              for row in self.rows))


def load(path) -> list:
    """Read back the rows written by :meth:`SweepResult.save`."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def expand_optimizers(optimizers: Sequence[dict]) -> list:
    """``[{"name": "emc", "K": [3, 5], "reading": "power"}, ...]`` to a list of
    ``(name, hyper)`` configurations: list values are crossed, in the order given."""
    configs = []
    for i, spec in enumerate(_items("optimizers", optimizers, "optimizer specs (dicts)")):
        if not isinstance(spec, Mapping):
            raise TypeError(f"optimizers must be a list of optimizer specs (dicts such as "
                            f"{{'name': 'emc', 'K': 3}}), got item {i}: {spec!r}")
        spec = dict(spec)
        name = check_choice("optimizer name", spec.pop("name", None), OPTIMIZERS)
        if "lr" in spec:
            raise ValueError("optimizer specs must not set lr: step sizes are the sweep's lrs")
        keys = list(spec)
        values = [v if isinstance(v, (list, tuple)) else [v] for v in spec.values()]
        for combo in itertools.product(*values):
            hyper = dict(zip(keys, combo))
            OPTIMIZERS[name](lr=1.0, **hyper)  # validates the hyper-parameters, naming them
            configs.append((name, hyper))
    return configs


def _items(name: str, value, what: str, single: tuple = ()) -> list:
    """``value`` (a list, tuple, range or 1-d array) as a non-empty list; a string, bytes, a
    mapping, a set or a scalar raises a TypeError naming ``name`` (an empty one a ValueError: a
    grid with no ``what`` has no runs); for a value of a type in ``single`` (one item given
    alone) the message says how to wrap it."""
    if (isinstance(value, (str, bytes, Mapping, set, frozenset))
            or not isinstance(value, (Sequence, np.ndarray))
            or (isinstance(value, np.ndarray) and value.ndim != 1)):
        hint = (f": wrap a single one in a list, {name}=[{value!r}]"
                if single and isinstance(value, single) and not isinstance(value, bool)
                else "")
        raise TypeError(f"{name} must be a list of {what}, got {type(value).__name__} "
                        f"{value!r}{hint}")
    items = list(value)
    if not items:
        raise ValueError(f"{name} must be non-empty (a sweep over no {what} has no runs)")
    return items


def _is_problem(problem) -> bool:
    return all(hasattr(problem, a) for a in ("d", "L", "f_star", "value_and_grad", "describe"))


def _labelled(problems) -> list:
    if isinstance(problems, Mapping):
        pairs = list(problems.items())
        if not pairs:
            raise ValueError("problems must be non-empty (a sweep over no problem has no runs)")
    else:
        pairs = list(enumerate(_items("problems", problems, "problems (or a {label: problem} "
                                                             "dict)")))
    for label, problem in pairs:
        if not _is_problem(problem) or (isinstance(problems, Mapping)
                                        and not isinstance(label, str)):
            raise TypeError(f"problems must hold problems of emc_theory.problems (a list, or a "
                            f"dict with string labels), got {label!r}: {problem!r}")
    if isinstance(problems, Mapping):
        return pairs
    problems = [problem for _, problem in pairs]
    names = [p.name for p in problems]
    return [(name if names.count(name) == 1 else f"{name}#{i}", p)
            for i, (name, p) in enumerate(zip(names, problems))]


class _Run(NamedTuple):
    """One run of a group while planning: its table row, problem index, schedule kind, step
    size, start scale and seed (or given start point)."""

    row: int
    problem: int
    kind: str
    lr: float
    scale: float
    seed: int
    point: Optional[np.ndarray]
    start_scaled: bool = False


def _given_starts(start_points, label: str, problem) -> np.ndarray:
    """The ``(S, d)`` start points given for ``problem`` (a mapping by label, or one array)."""
    points = start_points[label] if isinstance(start_points, Mapping) else start_points
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or points.shape[0] == 0 or points.shape[1] != problem.d:
        raise ValueError(f"start_points for problem {label!r} must have shape (S, d) = (S, "
                         f"{problem.d}) with S >= 1, got {points.shape}")
    if not np.all(np.isfinite(points)):
        raise ValueError(f"start_points for problem {label!r} must be finite")
    return points


def _lr_units(lr_unit, n: int) -> list:
    """One unit per step size (``lr_unit``: one unit, or a sequence of ``n``)."""
    units = [lr_unit] * n if isinstance(lr_unit, str) else _items(
        "lr_unit", lr_unit, f"units (one of {LR_UNITS}, or one per step size)")
    if len(units) != n:
        raise ValueError(f"lr_unit must be one of {LR_UNITS} or one such unit per step size "
                         f"({n}), got {len(units)} units")
    for unit in units:
        check_choice("lr_unit", unit, LR_UNITS)
    return units


def plan(problems, optimizers: Sequence[dict], lrs, *, lr_unit="absolute",
         schedules=("constant",), seeds=(0,), start_scales=(1.0,), start_points=None,
         steps: int = 1000, tol: Optional[float] = None, gap_tol: Optional[float] = None,
         tol_relative: bool = False, divergence_factor: float = 1e6,
         chunk_runs: Optional[int] = None, history: bool = False, diagnostics: bool = False,
         dtype: str = "float64", backend: str = "numpy"):
    """The table's parameter rows and the chunks that compute them (see :func:`sweep`)."""
    if np.size(lrs) == 0 and not isinstance(lrs, (str, bytes)):
        raise ValueError("lrs must be non-empty (a sweep over no step size has no runs)")
    lrs = np.asarray(check_positive("lrs", lrs), dtype=float).ravel()
    units = _lr_units(lr_unit, lrs.size)
    if tol_relative and tol is None:
        raise ValueError("tol_relative=True scales tol by max(1, ||grad f(x0)||): give tol")
    check_choice("dtype", dtype, DTYPES)
    check_choice("backend", backend, BACKENDS)
    divergence_factor = _check_divergence_factor(divergence_factor)
    seeds = [check_int("seed", s, 0) for s in _items("seeds", seeds, "seeds (ints >= 0)",
                                                           (numbers.Integral,))]
    schedules = _items("schedules", schedules, "schedule kinds", (str,))
    if not isinstance(start_scales, numbers.Real):
        _items("start_scales", start_scales, "start scales (reals >= 0)")
    scales = check_real("start_scales", start_scales).ravel()
    if scales.size == 0 or not np.all(np.isfinite(scales) & (scales >= 0)):
        raise ValueError(f"start_scales must be finite and >= 0 (allowed range [0, inf)), got "
                         f"{start_scales!r}")
    for kind in schedules:
        Schedule(1.0, kind)  # validates the kind, naming the allowed ones
    if not schedules or not seeds:
        raise ValueError("schedules and seeds must be non-empty")
    steps = check_int("steps", steps, 1)
    if chunk_runs is not None:
        check_int("chunk_runs", chunk_runs, 1)
    if start_points is not None and (list(seeds) != [0] or scales.tolist() != [1.0]):
        raise ValueError("start_points replaces seeds and start_scales: leave them at their "
                         "defaults ((0,) and (1.0,)) when giving start points")
    if diagnostics and not history:
        raise ValueError("diagnostics=True records per-step diagnostics: it needs history=True")
    options = {"tol": tol, "gap_tol": gap_tol, "divergence_factor": divergence_factor,
               "history": bool(history), "diagnostics": bool(diagnostics)}
    configs = expand_optimizers(optimizers)
    if backend == "jax":
        _check_jax_grid([name for name, _ in configs], diagnostics)
        _jax_backend()
    hyper_columns = list(dict.fromkeys(k for _, hyper in configs for k in hyper))
    per_unit = not isinstance(lr_unit, str) or lr_unit == START_SCALED
    grid_columns = (list(GRID_COLUMNS) + (["lr_times_L"] if lr_unit == "1/L" else [])
                    + (["lr_value", "lr_unit"] if per_unit else [])
                    + (["tol"] if tol_relative else []))
    columns = list(RUN_COLUMNS) + hyper_columns + grid_columns + list(RESULT_COLUMNS)
    labelled = _labelled(problems)
    rows, groups = [], {}
    for p_index, (label, problem) in enumerate(labelled):
        if start_points is None:
            given = None
            starts = [(i, float(scale), seed) for i, (scale, seed)
                      in enumerate(itertools.product(scales, seeds))]
        else:
            given = _given_starts(start_points, label, problem)
            starts = [(i, None, None) for i in range(given.shape[0])]
        for c_index, (name, hyper) in enumerate(configs):
            key = ((c_index, problem.d) if problem.f_star is not None
                   else (c_index, problem.d, label))
            group = groups.setdefault(key, [])
            for kind in schedules:
                for (value, unit), (start, scale, seed) in itertools.product(zip(lrs, units),
                                                                           starts):
                    lr = value / problem.L if unit == "1/L" else value
                    row = dict.fromkeys(columns)
                    row.update(run=len(rows), problem=label, d=problem.d, optimizer=name,
                               schedule=kind, lr=None if unit == START_SCALED else float(lr),
                               start=start, start_scale=scale, seed=seed)
                    if lr_unit == "1/L":
                        row["lr_times_L"] = float(value)
                    if per_unit:
                        row.update(lr_value=float(value), lr_unit=unit)
                    row.update({k: json_ready(v) for k, v in hyper.items()})
                    group.append(_Run(len(rows), p_index, kind, float(lr), scale or 0.0,
                                      seed or 0, None if given is None else given[start],
                                      unit == START_SCALED))
                    rows.append(row)
    chunks = []
    for key, members in groups.items():
        name, hyper = configs[key[0]]
        per_run = np.dtype(dtype).itemsize * key[1] * (hyper.get("K", 1) + 12)
        size = chunk_runs or max(1, MEMORY_BUDGET // per_run)
        if backend == "jax":   # one batch size per group, so one compilation (module docstring)
            size = -(-len(members) // -(-len(members) // size))
        for first in range(0, len(members), size):
            part = members[first:first + size]
            used = sorted({run.problem for run in part})
            chunks.append(Chunk(
                problems=tuple(labelled[i][1] for i in used),
                assignment=np.array([used.index(run.problem) for run in part]),
                optimizer=name, hyper=hyper,
                kinds=np.array([run.kind for run in part]),
                lrs=np.array([run.lr for run in part]),
                start_scales=np.array([run.scale for run in part], dtype=float),
                seeds=np.array([run.seed for run in part], dtype=np.int64),
                rows=np.array([run.row for run in part]), steps=steps, options=options,
                given_starts=(None if start_points is None
                              else np.stack([run.point for run in part])), dtype=dtype,
                start_scaled=(np.array([run.start_scaled for run in part])
                              if START_SCALED in units else None),
                tol_relative=bool(tol_relative), backend=backend,
                pad=size - len(part) if backend == "jax" else 0))
    conditions = {"steps": steps, **options, "schedules": list(schedules), "lrs": lrs.tolist(),
                  "lr_unit": lr_unit if isinstance(lr_unit, str) else units, "dtype": dtype,
                  "backend": backend,
                  **({"tol_relative": True} if tol_relative else {}),
                  **({"start_scales": scales.tolist(), "seeds": seeds} if start_points is None
                     else {"start_points": "given"}),
                  "optimizers": [{"name": n, **{k: json_ready(v) for k, v in h.items()}}
                                 for n, h in configs],
                  "problems": {label: p.describe() for label, p in labelled},
                  "chunks": len(chunks)}
    return columns, rows, chunks, conditions


def _dask_client(scheduler):
    """A ``dask.distributed.Client`` for ``scheduler`` and whether this module must close it."""
    try:
        from dask.distributed import Client
    except ImportError as exc:
        raise ImportError("scheduler= runs the sweep on Dask, which is not installed: "
                          "pip install 'emc-theory[dask]' (dask[distributed])") from exc
    if isinstance(scheduler, Client):
        return scheduler, False
    if isinstance(scheduler, str) or hasattr(scheduler, "scheduler_address"):
        return Client(scheduler), True
    raise TypeError(f"scheduler must be a Dask scheduler address, a dask.distributed.Client or a "
                    f"cluster (e.g. LocalCluster), got {type(scheduler).__name__}")


def _completed(chunks, scheduler):
    """Yield ``(chunk, result)`` as chunks finish: in process, in order; on Dask, as completed."""
    if scheduler is None:
        for chunk in chunks:
            yield chunk, run_chunk(chunk)
        return
    client, owned = _dask_client(scheduler)
    from dask.distributed import as_completed

    try:
        futures = client.map(run_chunk, chunks, pure=False)
        index = {future.key: i for i, future in enumerate(futures)}
        for future in as_completed(futures):
            yield chunks[index[future.key]], future.result()
    finally:
        if owned:
            client.close()


def sweep(problems, optimizers: Sequence[dict], lrs, *, lr_unit="absolute",
          schedules=("constant",), seeds=(0,), start_scales=(1.0,), start_points=None,
          steps: int = 1000, tol: Optional[float] = None, gap_tol: Optional[float] = None,
          tol_relative: bool = False, divergence_factor: float = 1e6,
          chunk_runs: Optional[int] = None,
          history: bool = False, diagnostics: bool = False, dtype: str = "float64",
          backend: str = "numpy", scheduler=None, progress: bool = True,
          out=None) -> SweepResult:
    """Run the grid (module docstring) and return its table; ``out`` also saves it (JSON lines).

    ``problems``: a list of problems or a ``{label: problem}`` mapping (any of
    :mod:`emc_theory.problems`); ``optimizers``: ``[{"name": "emc", "K": [3, 5],
    "reading": ["power", "linear"]}, {"name": "heavy_ball", "beta": 0.9}]`` (lists are crossed);
    ``lrs``: the step sizes :math:`\\eta_0`, or with ``lr_unit="1/L"`` the products
    :math:`\\eta_0 L` (each problem's step is then the value over its own :math:`L`, and the
    table gains a column ``lr_times_L``), so problems of one d share programs on one grid;
    ``lr_unit`` may also be :data:`START_SCALED` or a sequence of units, one per step size
    (the table then gains columns ``lr_value`` and ``lr_unit``, and ``lr`` holds each run's
    computed step: module docstring);
    ``schedules``: kinds of :class:`~emc_theory.schedules.Schedule`; ``start_points``: given
    ``(S, d)`` start points (one array, or a mapping by problem label) instead of ``seeds`` x
    ``start_scales``;
    ``tol``, ``gap_tol``, ``divergence_factor``: as in :func:`~emc_theory.runner.minimize`;
    ``tol_relative``: ``tol`` times :math:`\\max(1, \\|\\nabla f(x_0)\\|)` per run (column
    ``tol``);
    ``chunk_runs``: runs per array program at most (default from :data:`MEMORY_BUDGET`);
    ``history`` / ``diagnostics``: keep per-step records (:class:`SweepResult`);
    ``dtype``: ``"float64"`` or ``"float32"``, the iterates' dtype (start points are computed in
    float64 and then rounded; results are recorded in float64, and a float32 run's gap
    :math:`f(x_t) - f^\\star` comes from a float32 value of :math:`f`, exact to about
    :math:`10^{-7} |f(x_t)|`);
    ``backend``: ``"numpy"`` (the reference) or ``"jax"`` (compiled runs, extra ``jax``; EMC
    only, no ``diagnostics``; module docstring);
    ``scheduler``: run on Dask (module docstring).
    """
    from tqdm.auto import tqdm

    columns, rows, chunks, conditions = plan(
        problems, optimizers, lrs, lr_unit=lr_unit, schedules=schedules, seeds=seeds,
        start_scales=start_scales, start_points=start_points, steps=steps, tol=tol,
        gap_tol=gap_tol, tol_relative=tol_relative, divergence_factor=divergence_factor,
        chunk_runs=chunk_runs,
        history=history, diagnostics=diagnostics, dtype=dtype, backend=backend)
    histories = {} if history else None
    with tqdm(total=len(rows), unit="run", desc="sweep", disable=not progress) as bar:
        for chunk, result in _completed(chunks, scheduler):
            computed = [name for name in ("lr", "tol") if name in result] + list(RESULT_COLUMNS)
            values = [json_ready(np.asarray(result[name]).tolist()) for name in computed]
            for j, row_index in enumerate(chunk.rows):
                rows[row_index].update(zip(computed, (v[j] for v in values)))
            for name, values in result.get("history", {}).items():
                if name not in histories or len(histories[name]) < len(values):
                    # a chunk's history may end early (runner.HISTORY_BUDGET): pad with NaN
                    grown = np.full(values.shape[:1] + (len(rows),) + values.shape[2:], np.nan)
                    if name in histories:
                        grown[:len(histories[name])] = histories[name]
                    histories[name] = grown
                histories[name][:len(values), chunk.rows] = values
            bar.update(len(chunk.rows))
    result = SweepResult(columns, rows, conditions, histories)
    if out is not None:
        result.save(out)
    return result
