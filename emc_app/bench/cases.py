r"""What the benchmark times: the cases, named by identifiers, and the sections that time them
(through :mod:`emc_app.bench.harness`). Measured values only; fits, targets and what a miss would
need are :mod:`emc_app.bench.analysis`, labels and tables :mod:`emc_app.bench.render`.

The honest floor (:data:`FLOOR`, the reference of every step ratio). The least memory traffic of
one EMC step with K buffers over d floats: the K buffers and the gradient are read, the K buffers
and the update are written, and the gradient is read once more, because the entropy needs the
whole gradient before the weights of the aggregate are known. In floats moved,

.. math:: (K + 1) d \text{ read} + (K + 1) d \text{ written} + d \text{ read},

timed as an in-place pass over :math:`(K+1) d` floats (each read and written once) plus one read
of :math:`d` floats (a sum), :func:`floor_case`. A schema-1 or schema-2 record was measured
against :data:`LEGACY_FLOOR`, an in-place pass over the :math:`(2K+3) d` floats the core's step
touched (buffers, gradient, update and scratch), about twice the honest floor's traffic.

Case identifiers (``<backend>.<what>[.<variant>]``):

* :data:`FLOOR` ``floor.honest``: the honest floor above;
* ``emc.<reading>.<variant>``: one EMC step of the core, variant ``inplace``
  (``update(..., inplace=True)``) or ``default`` (the pure ``update``, the caller dropping the
  state it passed, as in ``updates, state = opt.update(g, state)``); in the profile also
  ``default_held`` (the pure ``update`` while the caller still holds the state it passed, so
  there is no buffer to recycle and every step allocates its new state);
* ``torch.sgd_momentum``, ``torch.adam`` (``foreach=True``) and ``torch.emc.<reading>`` (EMC
  written with PyTorch foreach ops, :func:`torch_emc_step`, a reference for this benchmark only),
  with the optional extra ``bench``;
* ``jax.emc.<reading>`` (the optax EMC of :mod:`emc_theory.jax_backend`), ``optax.sgd_momentum``
  and ``optax.adam``, with the optional extra ``jax`` (:func:`jax_step_cases`): one compiled
  ``tx.update`` per call, its state and last updates donated, so XLA writes the new ones in
  place of the old;
* sweep cases: ``sweep.numpy`` (the batched sweep engine, B runs as one array program),
  ``sweep.<backend>`` (a peer backend's sweep, with its paired ratio ``over_numpy``; for
  ``sweep.jax``, ``sweep(..., backend="jax")``, :func:`jax_sweep`),
  ``loop.minimize`` (a Python loop of single-run ``minimize`` calls), ``loop.bare`` (the same runs
  without the runner);
* parts of a step (``profile``, ``sweep_profile``): ``entropy`` (the entropy pass),
  ``np.log``/``np.exp``/``np.power`` (one bare pass), ``problem.value_and_grad``,
  ``problem.product`` (the problem's bare :math:`d \times d` product), ``floor.buffers`` (an
  in-place pass over the K buffers), the honest floor and the EMC steps by their case ids.

A new backend (as the JAX backend is) is a few lines: a function in :data:`PEERS` returning its
step cases (``<backend>.emc.<reading>`` per K, :func:`peer_emc_case_id`, and any K-independent
peers), a function in :data:`SWEEP_PEERS` running its sweep, its module passed to
:func:`emc_app.bench.measure` (``peers={"jax": jax}``), and labels in
:data:`emc_app.bench.render.PEER_LABELS`.

JAX runs on one thread too: :func:`emc_app.bench.harness.import_jax` sets XLA's
``--xla_cpu_multi_thread_eigen=false`` before JAX starts (XLA reads its flags once, when its CPU
client is made: set in a process where JAX has already computed, it changes nothing), and
:func:`jax_conditions` records the flags, the device and the measured CPU time over wall time of
a compiled pass (at most 1 on one thread, up to the cores on more).
"""
from __future__ import annotations

import math
import os
import time
from collections import deque

import numpy as np

from emc_theory.emc import EMC, READINGS
from emc_theory.entropy import Tiles, row_entropy
from emc_theory.problems import quadratic
from emc_theory.runner import minimize
from emc_theory.sweep import SweepResult, sweep

from .harness import interleaved, medians, one_thread, rate_samples, summarize

FULL = {"dims": [10**4, 10**5, 10**6, 10**7], "ks": [3, 5], "k_series": [1, 2, 3, 5, 8],
        "k_series_d": 10**6, "profile_d": 10**6, "sweep_b": [1, 100, 10**4], "sweep_d": 50,
        "sweep_k": 5, "sweep_steps": 1000, "loop_runs": 10, "rounds": 7, "sweep_rounds": 3}
QUICK = {"dims": [10**3, 10**4], "ks": [3, 5], "k_series": [1, 2, 4], "k_series_d": 10**4,
         "profile_d": 10**4, "sweep_b": [1, 10], "sweep_d": 10, "sweep_k": 3, "sweep_steps": 20,
         "loop_runs": 2, "rounds": 2, "sweep_rounds": 1}

FLOOR = "floor.honest"
LEGACY_FLOOR = "floor.touched"
"""The floor of schema-1 and schema-2 records: an in-place pass over :math:`(2K+3) d` floats."""
REFERENCE = FLOOR
"""The case every step ratio is paired against."""
VARIANTS = ("inplace", "default")
"""The variants of the core's step in the ``steps`` section."""
SWEEP = "sweep.numpy"
LOOP = "loop.minimize"
BARE_LOOP = "loop.bare"
PROFILE_K = 5
SWEEP_READINGS = ("power", "linear")


def emc_case_id(reading: str, variant: str = "inplace") -> str:
    """``emc.<reading>.<variant>``."""
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    return f"emc.{reading}.{variant}"


def peer_emc_case_id(backend: str, reading: str) -> str:
    """``<backend>.emc.<reading>``: EMC's step on a peer backend (``torch``, ``jax``)."""
    if reading not in READINGS:
        raise ValueError(f"reading must be one of {READINGS}, got {reading!r}")
    return f"{backend}.emc.{reading}"


def sweep_case_id(backend: str) -> str:
    """``sweep.<backend>``: the batched sweep on a backend (``sweep.numpy`` is :data:`SWEEP`)."""
    return f"sweep.{backend}"


def floor_floats(K: int, d: int) -> dict:
    """The honest floor's traffic in floats: ``{"in_place": (K+1)d, "read": d}`` (module
    docstring)."""
    return {"in_place": (K + 1) * d, "read": d}


# ----------------------------------------------------------------------------- step cases


def emc_case(K: int, reading: str, state_box: list, g: np.ndarray, variant: str = "inplace"):
    """One EMC step on ``g``; the state lives in ``state_box[0]`` (shared by the cases of one K
    and variant, as in a run). ``variant``: ``inplace`` (``update(..., inplace=True)``),
    ``default`` (the pure ``update``; the box drops the state it passed, so the step may recycle
    its buffers) or ``default_held`` (the pure ``update`` while the box still holds the last two
    states, so every step allocates its new state)."""
    opt = EMC(K=K, lr=1e-3, reading=reading)
    if variant == "inplace":
        def step():
            _, state_box[0] = opt.update(g, state_box[0], inplace=True)
    elif variant == "default":
        def step():
            _, state_box[0] = opt.update(g, state_box[0])
    elif variant == "default_held":
        held = deque([state_box[0]], maxlen=2)

        def step():
            _, state_box[0] = opt.update(g, state_box[0])
            held.append(state_box[0])
    else:
        raise ValueError(f"variant must be 'inplace', 'default' or 'default_held', "
                         f"got {variant!r}")
    return step


def in_place_pass(buffer: np.ndarray):
    """An in-place pass over ``buffer`` (each float read and written once)."""
    one = buffer.dtype.type(1)
    return lambda: np.multiply(buffer, one, out=buffer)


def floor_case(K: int, d: int, dtype):
    """The honest floor of a step with ``K`` buffers over ``d`` floats of ``dtype``: a read of
    ``d`` floats (a sum) and an in-place pass over ``(K+1)d`` floats (:func:`floor_floats`)."""
    floats = floor_floats(K, d)
    in_place = in_place_pass(np.ones(floats["in_place"], dtype))
    grad = np.ones(floats["read"], dtype)

    def floor():
        np.add.reduce(grad)
        in_place()
    return floor


def numpy_step_cases(d: int, dtype, ks, g: np.ndarray, variants=VARIANTS) -> dict:
    """The honest floor and the core's EMC step per reading and variant, per K:
    ``{(case id, K): callable}``."""
    cases = {}
    for K in ks:
        cases[(FLOOR, K)] = floor_case(K, d, dtype)
        for variant in variants:
            box = [EMC(K=K).init(g)]
            for reading in READINGS:
                cases[(emc_case_id(reading, variant), K)] = emc_case(K, reading, box, g,
                                                                     variant)
    return cases


def torch_emc_step(torch, param, grad, momenta, K: int, lr: float, reading: str):
    """EMC with PyTorch ops (a benchmark reference, not part of the toolkit): the formulas of
    :mod:`emc_theory.emc` with ``torch._foreach_lerp_`` for the K buffers
    (:math:`m_k + (1-\\beta_k)(g - m_k)`) and one matrix-vector product for the weighted sum."""
    d = grad.numel()
    q = grad.square()
    p = q.div_(q.sum())
    h = -(p * p.clamp_min(torch.finfo(grad.dtype).tiny).log()).sum()
    ht = h / math.log(d)
    lam = torch.arange(1, K + 1, dtype=grad.dtype) / K
    alpha = torch.softmax(lam * ht, 0)
    torch._foreach_lerp_(list(momenta.unbind(0)), [grad] * K, [2.0**-k for k in range(1, K + 1)])
    mt = alpha @ momenta
    if reading != "linear":
        gamma = 2 - ht
        exponent = gamma if reading == "power" else 1 / gamma
        mt = torch.copysign(mt.abs().log_().mul_(exponent).exp_(), mt)
    param.add_(mt, alpha=-lr)


def torch_step_cases(torch, d: int, dtype, ks, g: np.ndarray) -> dict:
    """PyTorch peers: SGD with momentum and Adam (``foreach=True``, one per d, K ``None``) and
    the PyTorch EMC reference per reading and K."""
    tdtype = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}[
        np.dtype(dtype)]
    grad = torch.randn(d, dtype=tdtype, generator=torch.Generator().manual_seed(0))
    optimizers = {"torch.sgd_momentum": lambda p: torch.optim.SGD([p], lr=1e-3, momentum=0.9,
                                                                  foreach=True),
                  "torch.adam": lambda p: torch.optim.Adam([p], lr=1e-3, foreach=True)}
    cases = {}
    for case, make in optimizers.items():
        param = torch.zeros(d, dtype=tdtype, requires_grad=True)
        param.grad = grad.clone()
        cases[(case, None)] = make(param).step
    for K in ks:
        param = torch.zeros(d, dtype=tdtype)
        momenta = torch.zeros(K, d, dtype=tdtype)
        for reading in READINGS:
            cases[(peer_emc_case_id("torch", reading), K)] = (
                lambda p=param, m=momenta, K=K, r=reading:
                torch_emc_step(torch, p, grad, m, K, 1e-3, r))
    return cases


def jax_step(jax, tx, box: list, grad):
    """One compiled step of the optax transformation ``tx`` on ``grad``: ``tx.update`` with
    ``box = [state, last updates]`` donated (``donate_argnums``), so the new state and updates
    are written into their buffers; waits for the result (JAX dispatches asynchronously). The
    callable's ``box`` attribute is ``box``. Traced and run inside
    :func:`emc_theory.jax_backend.x64`, as :func:`~emc_theory.jax_backend.run_batch` runs: a
    float32 step stays float32, and EMC's entropy sums accumulate in float64 as in the NumPy
    core."""
    from emc_theory.jax_backend import x64

    def step(state, updates, g):
        del updates   # donated only: its buffer takes the new updates
        new_updates, new_state = tx.update(g, state)
        return new_state, new_updates

    with x64():
        program = jax.jit(step, donate_argnums=(0, 1))

    def run():
        with x64():
            box[0], box[1] = program(box[0], box[1], grad)
            jax.block_until_ready(box)
    run.box = box
    return run


def jax_step_cases(jax, d: int, dtype, ks, g: np.ndarray) -> dict:
    """JAX peers (extra ``jax``): the optax EMC (:func:`emc_theory.jax_backend.emc`) per reading
    and K, the readings of one K sharing one donated state (as the core's cases share one), and
    optax's SGD with momentum and Adam (K ``None``), in ``g``'s dtype."""
    import optax

    from emc_theory import jax_backend
    from emc_theory.jax_backend import x64

    cases = {}
    with x64():
        grad = jax.device_put(g)
        zeros = jax.numpy.zeros_like(grad)
        for K in ks:
            box = [jax_backend.emc(1e-3, K=K).init(grad), zeros.copy()]
            for reading in READINGS:
                tx = jax_backend.emc(1e-3, K=K, reading=reading)
                cases[(peer_emc_case_id("jax", reading), K)] = jax_step(jax, tx, box, grad)
        for case, tx in (("optax.sgd_momentum", optax.sgd(1e-3, momentum=0.9)),
                         ("optax.adam", optax.adam(1e-3))):
            cases[(case, None)] = jax_step(jax, tx, [tx.init(grad), zeros.copy()], grad)
    return cases


def jax_conditions(jax) -> dict:
    """What the JAX peers ran with: JAX and optax versions, the device, ``XLA_FLAGS``, and the
    CPU time over the wall time of a compiled elementwise pass over 4e6 floats (three calls):
    at most about 1 when XLA runs on one thread (less when the machine is busy), up to the
    number of cores on several."""
    import optax

    x = jax.numpy.ones(4 * 10**6, dtype=jax.numpy.float32)
    program = jax.jit(lambda v: jax.numpy.exp(jax.numpy.log(v + 1.0) * 1.5))
    program(x).block_until_ready()
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(3):
        program(x).block_until_ready()
    ratio = (time.process_time() - cpu) / (time.perf_counter() - wall)
    return {"jax": jax.__version__, "optax": optax.__version__,
            "device": str(jax.devices()[0]), "xla_flags": os.environ.get("XLA_FLAGS", ""),
            "cpu_over_wall": ratio}


def jax_sweep(jax, problem, optimizer: dict, lrs, steps: int, dtype: str):
    """The sweep of :func:`time_sweep` on the JAX backend (``sweep(..., backend="jax")``): its
    table."""
    return sweep([problem], [optimizer], lrs, steps=steps, progress=False, dtype=dtype,
                 backend="jax")


JAX_AGREEMENT = (1e-10, 1e-13)
"""Relative and absolute bound on the difference of a float64 JAX sweep's final values from
the NumPy sweep's (the agreement :func:`emc_theory.jax_backend.run_batch` states)."""


def sweep_differences(reference, other, dtype: str) -> dict:
    """How the table ``other`` differs from ``reference`` (same grid, run by run):
    ``differing_runs``, the runs whose status or stop step differ, whose final gap or gradient
    norm is finite in one table only or (float64) differs beyond :data:`JAX_AGREEMENT`, and
    ``max_rel_diff``, the largest relative difference of the final values finite in both (and
    nonzero in ``reference``)."""
    if len(reference.rows) != len(other.rows):
        raise ValueError(f"the tables must have the same runs, got {len(reference.rows)} and "
                         f"{len(other.rows)} rows")
    rel, absolute = JAX_AGREEMENT
    differ = np.zeros(len(reference.rows), bool)
    for name in ("status", "stop_step"):
        differ |= reference.column(name) != other.column(name)
    worst = 0.0
    for name in ("final_gap", "final_grad_norm"):
        a, b = other.column(name), reference.column(name)
        finite = np.isfinite(a) & np.isfinite(b)
        differ |= np.isfinite(a) != np.isfinite(b)
        gap, scale = np.abs(a[finite] - b[finite]), np.abs(b[finite])
        if np.dtype(dtype) == np.float64:
            differ[finite] |= gap > rel * scale + absolute
        if np.any(scale > 0):
            worst = max(worst, float(np.max(gap[scale > 0] / scale[scale > 0])))
    return {"differing_runs": int(differ.sum()), "max_rel_diff": worst}


PEERS = {"torch": torch_step_cases, "jax": jax_step_cases}
"""Peer backends' step cases: name -> ``f(module, d, dtype, ks, g) -> {(case id, K or None):
callable}`` (EMC's step as ``<backend>.emc.<reading>`` per K; a K-independent peer with K
``None``)."""

SWEEP_PEERS = {"jax": jax_sweep}
"""Peer backends' sweeps: name -> ``f(module, problem, optimizer, lrs, steps, dtype)`` running
the same sweep as :func:`emc_theory.sweep.sweep` (``optimizer`` is its optimizer dict, ``lrs``
the B step sizes) and returning the run-steps done, or its table (a
:class:`~emc_theory.sweep.SweepResult`: the run-steps are its stop steps' sum, and the table is
compared with the NumPy sweep's, :func:`sweep_differences`); timed as ``sweep.<name>`` beside
:data:`SWEEP` in the same rounds, after one untimed call (``first_call_s``: a compiling
backend compiles then)."""


def torch_matches_numpy(torch) -> float:
    """Largest relative difference of one torch-reference EMC step from the core's, float64."""
    rng = np.random.default_rng(0)
    g = rng.standard_normal(257)
    worst = 0.0
    for reading in READINGS:
        updates, _ = EMC(K=4, lr=0.1, reading=reading).update(g, EMC(K=4).init(g))
        param = torch.zeros(257, dtype=torch.float64)
        torch_emc_step(torch, param, torch.from_numpy(g.copy()), torch.zeros(4, 257,
                       dtype=torch.float64), 4, 0.1, reading)
        worst = max(worst, float(np.max(np.abs(param.numpy() - updates) / np.abs(updates))))
    return worst


# ----------------------------------------------------------------------------- sections


def time_steps(cfg: dict, peers: dict) -> list:
    """Per dtype and d, the honest floor, the core's EMC steps (in place and default) and the
    peers' steps (``peers``: backend name -> module, see :data:`PEERS`) interleaved; one row per
    (dtype, d, K, case) with the median paired ratio to the :data:`REFERENCE` of that K (a
    K-independent peer gets a row per K)."""
    rows = []
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for d in cfg["dims"]:
            g = rng.standard_normal(d).astype(dtype)
            cases = numpy_step_cases(d, dtype, cfg["ks"], g)
            for name, module in peers.items():
                if name in PEERS:
                    cases.update(PEERS[name](module, d, dtype, cfg["ks"], g))
            samples = interleaved(cases, cfg["rounds"])
            for K in cfg["ks"]:
                mine = {case: times for (case, k), times in samples.items() if k in (K, None)}
                for case, entry in summarize(mine, REFERENCE).items():
                    rows.append({"dtype": np.dtype(dtype).name, "d": d, "K": K, "case": case,
                                 **entry})
            del cases, samples
    return rows


def time_k_series(cfg: dict) -> list:
    """In-place EMC step time against K at one d (float64), interleaved, beside the honest floor
    of each K: the floor's own exponent in K is the most any step moving those bytes can show."""
    d = cfg["k_series_d"]
    g = np.random.default_rng(1).standard_normal(d)
    found = medians(interleaved(numpy_step_cases(d, np.float64, cfg["k_series"], g,
                                                 ("inplace",)), cfg["rounds"]))
    return [{"case": case, "K": K, "d": d, "median_s": seconds}
            for (case, K), seconds in found.items()]


def time_profile(cfg: dict) -> dict:
    """Where the time of a float64 K = 5 step goes, interleaved (median seconds and median paired
    ratios to the honest floor): the honest floor, the entropy pass alone, the linear and power
    steps in place, the linear step's default path with and without a buffer to recycle
    (``default``, ``default_held``), and one ``np.log`` / ``np.exp`` pass over d elements."""
    d = cfg["profile_d"]
    g = np.random.default_rng(2).standard_normal(d)
    rows, tiles = g.reshape(1, d), Tiles(1, d, g.dtype)
    box = [EMC(K=PROFILE_K).init(g)]
    magnitudes, scratch = np.abs(g), np.empty(d)
    cases = {FLOOR: floor_case(PROFILE_K, d, g.dtype),
             "entropy": lambda: row_entropy(rows, "l2", tiles),
             emc_case_id("linear"): emc_case(PROFILE_K, "linear", box, g),
             emc_case_id("power"): emc_case(PROFILE_K, "power", box, g),
             "np.log": lambda: np.log(magnitudes, out=scratch),
             "np.exp": lambda: np.exp(g, out=scratch)}
    for variant in ("default", "default_held"):
        cases[emc_case_id("linear", variant)] = emc_case(
            PROFILE_K, "linear", [EMC(K=PROFILE_K).init(g)], g, variant)
    found = summarize(interleaved(cases, cfg["rounds"]), FLOOR)
    return {"d": d, "K": PROFILE_K, "dtype": "float64",
            "seconds": {case: v["median_s"] for case, v in found.items()},
            "ratios": {case: v["ratio"] for case, v in found.items()}}


def _run_steps(result) -> int:
    """The run-steps of a sweep case's result: a number, or a table's stop steps summed."""
    if isinstance(result, SweepResult):
        return sum(row["stop_step"] for row in result.rows)
    return result


def time_sweep(cfg: dict, peers: dict | None = None) -> list:
    """Run-steps per second of the batched sweep (:data:`SWEEP`) at each B (float64, and float32
    at the largest B) against a loop of single ``minimize`` runs (:data:`LOOP`; the paired ratio
    ``over_loop``) and a bare loop without the runner (:data:`BARE_LOOP`), per reading; with the
    sweeps of the peer backends in ``peers`` that :data:`SWEEP_PEERS` knows
    (``sweep.<backend>``, with the paired ratio ``over_numpy`` to :data:`SWEEP` at the same B
    and dtype, the seconds of its untimed first call ``first_call_s`` and, for a peer returning
    its table, how that table differs from the NumPy sweep's, :func:`sweep_differences`)."""
    d, K, steps = cfg["sweep_d"], cfg["sweep_k"], cfg["sweep_steps"]
    problem = quadratic(d, cond=10.0, seed=0)
    lrs = np.geomspace(1e-3, 1e-2, cfg["loop_runs"])
    sweepers = {name: (SWEEP_PEERS[name], module) for name, module in (peers or {}).items()
                if name in SWEEP_PEERS}
    out, tables, first_calls = [], {}, {}

    def batched(reading, B, dtype):
        table = sweep([problem], [{"name": "emc", "K": K, "reading": reading}],
                      np.geomspace(1e-3, 1e-2, B), steps=steps, progress=False, dtype=dtype)
        tables[(SWEEP, reading, B, dtype)] = table
        return _run_steps(table)

    def peer(name, reading, B, dtype):
        run, module = sweepers[name]
        result = run(module, problem, {"name": "emc", "K": K, "reading": reading},
                     np.geomspace(1e-3, 1e-2, B), steps, dtype)
        if isinstance(result, SweepResult):
            tables[(sweep_case_id(name), reading, B, dtype)] = result
        return _run_steps(result)

    def loop(reading):
        rng = np.random.default_rng(0)
        total = 0
        for lr in lrs:
            x0 = problem.x_star + rng.standard_normal(d)
            total += int(minimize(EMC(K=K, lr=lr, reading=reading), problem, x0, steps,
                                  history=False).stop_step)
        return total

    def bare_loop(reading):
        """The same runs as ``loop`` without the runner: update, add, gradient, no checks."""
        rng = np.random.default_rng(0)
        for lr in lrs:
            x = problem.x_star + rng.standard_normal(d)
            optimizer = EMC(K=K, lr=lr, reading=reading)
            state = optimizer.init(x)
            g = problem.grad(x)
            for _ in range(steps):
                updates, state = optimizer.update(g, state, inplace=True)
                x += updates
                g = problem.grad(x)
        return steps * lrs.size

    for reading in SWEEP_READINGS:
        cases = {(LOOP, 1, "float64"): lambda r=reading: loop(r),
                 (BARE_LOOP, 1, "float64"): lambda r=reading: bare_loop(r)}
        sizes = [(B, "float64") for B in cfg["sweep_b"]] + [(max(cfg["sweep_b"]), "float32")]
        for B, dtype in sizes:
            cases[(SWEEP, B, dtype)] = lambda r=reading, B=B, dt=dtype: batched(r, B, dt)
            for name in sweepers:
                key = (sweep_case_id(name), B, dtype)
                cases[key] = lambda n=name, r=reading, B=B, dt=dtype: peer(n, r, B, dt)
                start = time.perf_counter()
                cases[key]()   # untimed: a compiling backend compiles here
                first_calls[key] = time.perf_counter() - start
        with one_thread():
            rates = rate_samples(cases, cfg["sweep_rounds"])
        loop_rates = np.asarray(rates[(LOOP, 1, "float64")])
        for (case, B, dtype), values in rates.items():
            entry = {"case": case, "reading": reading, "B": B, "dtype": dtype, "d": d, "K": K,
                     "steps": steps, "run_steps_per_s": float(np.median(values))}
            if case == SWEEP:
                entry["over_loop"] = float(np.median(np.asarray(values) / loop_rates))
            elif case.startswith("sweep."):
                numpy_rates = np.asarray(rates[(SWEEP, B, dtype)])
                entry["over_numpy"] = float(np.median(np.asarray(values) / numpy_rates))
                entry["first_call_s"] = first_calls[(case, B, dtype)]
                if (case, reading, B, dtype) in tables:
                    entry.update(sweep_differences(tables[(SWEEP, reading, B, dtype)],
                                                   tables[(case, reading, B, dtype)], dtype))
            out.append(entry)
    return out


def time_sweep_profile(cfg: dict) -> dict:
    r"""The parts of one step of the sweep's largest batch (``(B, d)``, K, float64),
    interleaved (median seconds): the problem's value and gradient and its bare
    :math:`d \times d` product, the EMC step per reading and its entropy pass, one bare
    ``np.log`` / ``np.exp`` / ``np.power`` (one exponent per run) pass over the batch, and the
    memory floor of the K buffers (an in-place pass over ``K B d`` floats)."""
    B, d, K = max(cfg["sweep_b"]), cfg["sweep_d"], cfg["sweep_k"]
    problem = quadratic(d, cond=10.0, seed=0)
    x = problem.x_star + np.random.default_rng(3).standard_normal((B, d))
    g = problem.grad(x)
    hessian = problem.hessian(problem.x_star)
    magnitudes = np.abs(g)
    exponents_per_run = np.linspace(1.0, 2.0, B)[:, None]
    tiles = Tiles(B, d, g.dtype)
    scratch = np.empty_like(g)
    cases = {"problem.value_and_grad": lambda: problem.value_and_grad(x),
             "problem.product": lambda: np.matmul(x, hessian, out=scratch),
             "entropy": lambda: row_entropy(g, "l2", tiles),
             "np.log": lambda: np.log(magnitudes, out=scratch),
             "np.exp": lambda: np.exp(magnitudes, out=scratch),
             "np.power": lambda: np.power(magnitudes, exponents_per_run, out=scratch),
             "floor.buffers": in_place_pass(np.ones(K * B * d))}
    for reading in SWEEP_READINGS:
        cases[emc_case_id(reading)] = emc_case(K, reading, [EMC(K=K).init(g)], g)
    return {"B": B, "d": d, "K": K, "dtype": "float64",
            "seconds": medians(interleaved(cases, cfg["rounds"]))}
