r"""Batched sweeps: a grid of runs as few array programs as possible, in process or on Dask.

A sweep crosses problems :math:`\times` optimizer configurations :math:`\times` step-size schedule
kinds :math:`\times` step sizes :math:`\eta_0` :math:`\times` start scales :math:`\times` seeds.
The runs that share a problem, an optimizer configuration (family and every hyper-parameter but
the step size, e.g. EMC's ``K``, ``reading``, ``entropy``, ``tau``) and a schedule kind form one
*group*: one call of :func:`emc_theory.runner.minimize` on a ``(B, d)`` batch with a per-run
:math:`\eta_0` array, where stopped runs are masked and dropped, not recomputed. A group larger
than ``chunk_runs`` is split into chunks so memory stays bounded.

Run ``i`` starts at :math:`x_0 = c + s_i z_{\mathrm{seed}_i}`, :math:`z \sim N(0, I_d)` drawn by
``np.random.default_rng(seed).standard_normal(d)`` and :math:`c = x^\star` (0 for a problem
without a minimiser): every step size and optimizer sees the same start points.

The result is a tidy table, one row per run, in grid order (problem, optimizer configuration,
schedule, step size, start scale, seed): the run's parameters, ``status``, ``stop_step``,
``final_gap``, ``final_grad_norm`` (:data:`RESULT_COLUMNS`). :meth:`SweepResult.save` writes it
as JSON lines with deterministic bytes (non-finite floats as ``null``; ``status`` says why).

``scheduler`` runs the chunks as Dask tasks (``dask.distributed``, an optional extra): a
scheduler address, a ``Client``, or a cluster such as ``LocalCluster``. Chunks are the same as in
process and each runs with one BLAS thread, so the table is identical. (A different
``chunk_runs`` changes the batch sizes of the problems' BLAS products, hence possibly the last
bits of the iterates, never the chunking itself: it depends on the grid and ``chunk_runs`` only.)
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional, Sequence

import numpy as np
from threadpoolctl import threadpool_limits

from .optimizers import OPTIMIZERS
from .records import json_ready
from .runner import minimize
from .schedules import Schedule
from .validation import check_choice, check_int, check_positive

RUN_COLUMNS = ("run", "problem", "d", "optimizer")
GRID_COLUMNS = ("schedule", "lr", "start_scale", "seed")
RESULT_COLUMNS = ("status", "stop_step", "final_gap", "final_grad_norm")
MEMORY_BUDGET = 1 << 28
r"""Bytes a chunk may use, estimated as :math:`8 d (K + 12)` per run (``K`` buffers plus the
runner's and the problem's vectors): the default ``chunk_runs``."""


@dataclass(frozen=True)
class Chunk:
    """One array program: runs of one group (same problem, optimizer configuration and schedule
    kind) with their step sizes, start scales and seeds; ``rows`` are their table indices."""

    problem: object
    optimizer: str
    hyper: dict
    schedule: str
    lrs: np.ndarray
    start_scales: np.ndarray
    seeds: np.ndarray
    rows: np.ndarray
    steps: int
    options: dict

    def start_points(self) -> np.ndarray:
        """:math:`x_0 = c + s z_{\\mathrm{seed}}` for every run of the chunk, shape ``(B, d)``."""
        d = self.problem.d
        center = np.zeros(d) if self.problem.x_star is None else self.problem.x_star
        draws = {int(s): np.random.default_rng(int(s)).standard_normal(d)
                 for s in np.unique(self.seeds)}
        z = np.stack([draws[int(s)] for s in self.seeds])
        return center + self.start_scales[:, None] * z


def run_chunk(chunk: Chunk) -> dict:
    """Run a chunk with one BLAS thread; final values of each run as arrays."""
    optimizer = OPTIMIZERS[chunk.optimizer](lr=Schedule(chunk.lrs, chunk.schedule), **chunk.hyper)
    with threadpool_limits(1):
        trajectory = minimize(optimizer, chunk.problem, chunk.start_points(), chunk.steps,
                              history=False, **chunk.options)
    return {"status": trajectory.status, "stop_step": trajectory.stop_step,
            "final_gap": trajectory.final_gap, "final_grad_norm": trajectory.final_grad_norm}


@dataclass
class SweepResult:
    """The tidy table: ``rows`` (one dict per run, keys ``columns``) and the run ``conditions``."""

    columns: list
    rows: list
    conditions: dict

    def column(self, name: str) -> np.ndarray:
        """One column as an array (``None`` entries become NaN in numeric columns)."""
        values = [row[name] for row in self.rows]
        if name in ("final_gap", "final_grad_norm", "lr", "start_scale"):
            return np.array([np.nan if v is None else v for v in values], dtype=float)
        return np.array(values)

    def save(self, path) -> Path:
        """Write the rows as JSON lines (deterministic bytes); return the path."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8", newline="\n") as fh:
            for row in self.rows:
                fh.write(json.dumps(row, allow_nan=False) + "\n")
        return path


def load(path) -> list:
    """Read back the rows written by :meth:`SweepResult.save`."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def expand_optimizers(optimizers: Sequence[dict]) -> list:
    """``[{"name": "emc", "K": [3, 5], "reading": "power"}, ...]`` to a list of
    ``(name, hyper)`` configurations: list values are crossed, in the order given."""
    configs = []
    for spec in optimizers:
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


def _labelled(problems) -> list:
    if isinstance(problems, Mapping):
        return list(problems.items())
    problems = list(problems)
    names = [p.name for p in problems]
    return [(name if names.count(name) == 1 else f"{name}#{i}", p)
            for i, (name, p) in enumerate(zip(names, problems))]


def plan(problems, optimizers: Sequence[dict], lrs, *, schedules=("constant",), seeds=(0,),
         start_scales=(1.0,), steps: int = 1000, tol: Optional[float] = None,
         gap_tol: Optional[float] = None, divergence_factor: float = 1e6,
         chunk_runs: Optional[int] = None):
    """The table's parameter rows and the chunks that compute them (see :func:`sweep`)."""
    lrs = np.asarray(check_positive("lrs", lrs), dtype=float).ravel()
    seeds = [check_int("seed", s, 0) for s in seeds]
    scales = np.asarray(start_scales, dtype=float).ravel()
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
    options = {"tol": tol, "gap_tol": gap_tol, "divergence_factor": divergence_factor}
    configs = expand_optimizers(optimizers)
    hyper_columns = list(dict.fromkeys(k for _, hyper in configs for k in hyper))
    columns = list(RUN_COLUMNS) + hyper_columns + list(GRID_COLUMNS) + list(RESULT_COLUMNS)
    grid = list(itertools.product(lrs, scales, seeds))
    rows, chunks = [], []
    for label, problem in _labelled(problems):
        for name, hyper in configs:
            per_run = 8 * problem.d * (hyper.get("K", 1) + 12)
            size = chunk_runs or max(1, MEMORY_BUDGET // per_run)
            for kind in schedules:
                first = len(rows)
                for lr, scale, seed in grid:
                    row = dict.fromkeys(columns)
                    row.update(run=len(rows), problem=label, d=problem.d, optimizer=name,
                               schedule=kind, lr=float(lr), start_scale=float(scale), seed=seed)
                    row.update({k: json_ready(v) for k, v in hyper.items()})
                    rows.append(row)
                for start in range(0, len(grid), size):
                    part = grid[start:start + size]
                    chunks.append(Chunk(
                        problem, name, hyper, kind,
                        lrs=np.array([g[0] for g in part]),
                        start_scales=np.array([g[1] for g in part]),
                        seeds=np.array([g[2] for g in part], dtype=np.int64),
                        rows=np.arange(first + start, first + start + len(part)),
                        steps=steps, options=options))
    conditions = {"steps": steps, **options, "schedules": list(schedules),
                  "lrs": lrs.tolist(), "start_scales": scales.tolist(), "seeds": seeds,
                  "optimizers": [{"name": n, **{k: json_ready(v) for k, v in h.items()}}
                                 for n, h in configs],
                  "problems": {label: p.describe() for label, p in _labelled(problems)},
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


def sweep(problems, optimizers: Sequence[dict], lrs, *, schedules=("constant",), seeds=(0,),
          start_scales=(1.0,), steps: int = 1000, tol: Optional[float] = None,
          gap_tol: Optional[float] = None, divergence_factor: float = 1e6,
          chunk_runs: Optional[int] = None, scheduler=None, progress: bool = True,
          out=None) -> SweepResult:
    """Run the grid (module docstring) and return its table; ``out`` also saves it (JSON lines).

    ``problems``: a list of problems or a ``{label: problem}`` mapping (any of
    :mod:`emc_theory.problems`); ``optimizers``: ``[{"name": "emc", "K": [3, 5],
    "reading": ["power", "linear"]}, {"name": "heavy_ball", "beta": 0.9}]`` (lists are crossed);
    ``lrs``: the step sizes :math:`\\eta_0`; ``schedules``: kinds of
    :class:`~emc_theory.schedules.Schedule`; ``tol``, ``gap_tol``, ``divergence_factor``: as in
    :func:`~emc_theory.runner.minimize`; ``chunk_runs``: runs per array program at most (default
    from :data:`MEMORY_BUDGET`); ``scheduler``: run on Dask (module docstring).
    """
    from tqdm.auto import tqdm

    columns, rows, chunks, conditions = plan(
        problems, optimizers, lrs, schedules=schedules, seeds=seeds, start_scales=start_scales,
        steps=steps, tol=tol, gap_tol=gap_tol, divergence_factor=divergence_factor,
        chunk_runs=chunk_runs)
    with tqdm(total=len(rows), unit="run", desc="sweep", disable=not progress) as bar:
        for chunk, result in _completed(chunks, scheduler):
            for j, row_index in enumerate(chunk.rows):
                rows[row_index].update({name: json_ready(result[name][j]) for name in RESULT_COLUMNS})
            bar.update(len(chunk.rows))
    result = SweepResult(columns, rows, conditions)
    if out is not None:
        result.save(out)
    return result
