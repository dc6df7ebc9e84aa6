r"""``emc-theory bench``: the cost of the core, measured side by side in one process.

Every timing runs with one thread (``threadpoolctl``; ``torch.set_num_threads(1)``). The cases of a
section are *interleaved*: each round times every case once (a case repeats its call until it has
run for at least ``MIN_SAMPLE_SECONDS``), and the record keeps the median over rounds of each case
and the median over rounds of each *paired ratio* (case / reference timed in the same round), so
drifts of the machine's speed cancel.

Sections:

* ``steps``: the memory floor, an in-place pass over the :math:`(2K+3)d` floats one step touches
  (``K`` buffers read and written, gradient, update, scratch), against one in-place EMC step per
  reading, for ``d`` in ``STEP_DIMS``, ``K`` in ``STEP_KS``, float64 and float32; with PyTorch
  (optional) also ``torch.optim.SGD(momentum)`` and ``torch.optim.Adam`` with ``foreach=True`` and
  EMC written with PyTorch foreach ops (a reference for this benchmark only);
* ``scaling``: step time against ``K`` at fixed ``d``; with ``steps``, the fitted exponents of
  time in ``d`` (``d >= 1e5``) and in ``K`` (claim C1), and the affine fit :math:`t = a + bK`;
* ``profile``: where a step's time goes: entropy pass alone, linear step, power step, and one
  ``np.log`` / ``np.exp`` pass over ``d`` elements;
* ``sweep``: the batched sweep engine at ``B`` runs (one array program) against a Python loop of
  single-run ``minimize`` calls, in run-steps per second;
* ``sweep_profile``: where one step of the largest sweep batch goes: the problem's value and
  gradient, the EMC step per reading (and its entropy pass), one ``np.log`` pass over the
  batch; the rest of the measured sweep step is the runner's bookkeeping;
* ``reach``: what the sweep-throughput and K-exponent targets would need: the least time of the
  parts of a sweep step no float64 NumPy step can skip, and the exponent in K of the leanest
  conceivable step (memory floor per level plus one log pass).

Results go to ``<out>/bench.json`` (the record) and ``<out>/bench.md`` (tables), with the machine,
its load average before and after, and the targets of issue 7 marked met or missed.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
from threadpoolctl import threadpool_limits

from .emc import EMC, READINGS
from .entropy import Tiles, row_entropy
from .problems import quadratic
from .runner import minimize
from .sweep import sweep

MIN_SAMPLE_SECONDS = 0.02
FULL = {"dims": [10**4, 10**5, 10**6, 10**7], "ks": [3, 5], "k_series": [1, 2, 3, 5, 8],
        "k_series_d": 10**6, "profile_d": 10**6, "sweep_b": [1, 100, 10**4], "sweep_d": 50,
        "sweep_k": 5, "sweep_steps": 1000, "loop_runs": 10, "rounds": 7, "sweep_rounds": 3}
QUICK = {"dims": [10**3, 10**4], "ks": [3, 5], "k_series": [1, 2, 4], "k_series_d": 10**4,
         "profile_d": 10**4, "sweep_b": [1, 10], "sweep_d": 10, "sweep_k": 3, "sweep_steps": 20,
         "loop_runs": 2, "rounds": 2, "sweep_rounds": 1}
TARGETS = {"power_over_floor": 6.0, "linear_over_floor": 3.0, "sweep_run_steps_per_s": 1.0e6,
           "sweep_over_loop": 40.0, "exponent_band": (0.85, 1.15)}
"""Issue 7's targets, at d = 1e6, K = 5, float64 (steps) and B = 1e4, d = 50, K = 5, 1000 steps
(sweep)."""


def interleaved(cases: dict, rounds: int) -> dict:
    """Seconds per call of each case in each round (cases timed in turn within a round)."""
    repeats = {}
    for name, fn in cases.items():
        fn()
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        repeats[name] = max(1, math.ceil(MIN_SAMPLE_SECONDS / max(once, 1e-9)))
    samples = {name: [] for name in cases}
    for _ in range(rounds):
        for name, fn in cases.items():
            start = time.perf_counter()
            for _ in range(repeats[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / repeats[name])
    return samples


def summarize(samples: dict, reference: str | None = None) -> dict:
    """Median seconds of each case and, against ``reference``, the median paired ratio."""
    out = {}
    for name, times in samples.items():
        entry = {"median_s": float(np.median(times)), "min_s": float(np.min(times))}
        if reference is not None:
            ratios = np.asarray(times) / np.asarray(samples[reference])
            entry["ratio"] = float(np.median(ratios))
        out[name] = entry
    return out


def fitted_exponent(x, y) -> float:
    """Least-squares slope of :math:`\\log y` against :math:`\\log x`."""
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def affine_fit(x, y) -> dict:
    """:math:`y = a + b x` by least squares, with the largest relative residual."""
    b, a = np.polyfit(np.asarray(x, float), np.asarray(y, float), 1)
    fitted = a + b * np.asarray(x, float)
    return {"a": float(a), "b": float(b),
            "max_rel_residual": float(np.max(np.abs(fitted - y) / np.asarray(y)))}


# ----------------------------------------------------------------------------- step cases


def _emc_case(K: int, reading: str, state_box: list, g: np.ndarray):
    opt = EMC(K=K, lr=1e-3, reading=reading)

    def step():
        _, state_box[0] = opt.update(g, state_box[0], inplace=True)
    return step


def _floor_case(buffer: np.ndarray):
    one = buffer.dtype.type(1)
    return lambda: np.multiply(buffer, one, out=buffer)


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


def _torch_cases(torch, d: int, dtype, ks) -> dict:
    tdtype = {np.float64: torch.float64, np.float32: torch.float32}[dtype]
    grad = torch.randn(d, dtype=tdtype, generator=torch.Generator().manual_seed(0))
    cases = {}
    for name, make in (("torch_sgd_momentum", lambda p: torch.optim.SGD(
            [p], lr=1e-3, momentum=0.9, foreach=True)),
                       ("torch_adam", lambda p: torch.optim.Adam([p], lr=1e-3, foreach=True))):
        param = torch.zeros(d, dtype=tdtype, requires_grad=True)
        param.grad = grad.clone()
        cases[name] = make(param).step
    for K in ks:
        param = torch.zeros(d, dtype=tdtype)
        momenta = torch.zeros(K, d, dtype=tdtype)
        for reading in READINGS:
            cases[f"torch_emc_{reading}_K{K}"] = (
                lambda p=param, m=momenta, K=K, r=reading:
                torch_emc_step(torch, p, grad, m, K, 1e-3, r))
    return cases


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


def bench_steps(cfg: dict, torch) -> list:
    """Floor, EMC per reading and torch peers per (dtype, d), interleaved; ratios to the floor."""
    rows = []
    rng = np.random.default_rng(0)
    for dtype in (np.float64, np.float32):
        for d in cfg["dims"]:
            g = rng.standard_normal(d).astype(dtype)
            cases, floors = {}, {}
            for K in cfg["ks"]:
                floors[K] = f"floor_K{K}"
                cases[floors[K]] = _floor_case(np.ones((2 * K + 3) * d, dtype))
                box = [EMC(K=K).init(g)]
                for reading in READINGS:
                    cases[f"emc_{reading}_K{K}"] = _emc_case(K, reading, box, g)
            if torch is not None:
                cases.update(_torch_cases(torch, d, dtype, cfg["ks"]))
            samples = interleaved(cases, cfg["rounds"])
            for K in cfg["ks"]:
                for name, entry in summarize(samples, floors[K]).items():
                    if name.endswith(f"K{K}") or (name.startswith("torch_") and "_K" not in name):
                        rows.append({"dtype": np.dtype(dtype).name, "d": d, "K": K,
                                     "case": name.replace(f"_K{K}", ""), **entry})
            del cases, samples
    return rows


def bench_k_series(cfg: dict) -> list:
    """EMC step time against K at one d (float64), interleaved, beside the memory floor of each
    K (an in-place pass over the step's (2K+3)d floats): the floor's own exponent in K is the
    most any step touching those bytes can show."""
    d = cfg["k_series_d"]
    g = np.random.default_rng(1).standard_normal(d)
    cases = {}
    for K in cfg["k_series"]:
        box = [EMC(K=K).init(g)]
        for reading in READINGS:
            cases[(reading, K)] = _emc_case(K, reading, box, g)
        cases[("floor", K)] = _floor_case(np.ones((2 * K + 3) * d))
    samples = interleaved(cases, cfg["rounds"])
    return [{"reading": r, "K": K, "d": d, "median_s": float(np.median(t))}
            for (r, K), t in samples.items()]


def exponents(step_rows: list, k_rows: list, dims) -> dict:
    """Fitted exponents of step time in d (d >= 1e5, else the dims measured) and in K."""
    big = [d for d in dims if d >= 10**5] or list(dims)
    in_d = {}
    for row in step_rows:
        if row["case"].startswith("emc_") and row["d"] in big:
            key = f"{row['case'][4:]} K={row['K']} {row['dtype']}"
            in_d.setdefault(key, {})[row["d"]] = row["median_s"]
    in_d = {k: fitted_exponent(list(v), list(v.values())) for k, v in in_d.items()}
    in_k = {}
    for reading in (*READINGS, "floor"):
        rows = [r for r in k_rows if r["reading"] == reading]
        ks, ts = [r["K"] for r in rows], [r["median_s"] for r in rows]
        in_k[reading] = {"exponent": fitted_exponent(ks, ts), "affine": affine_fit(ks, ts)}
    return {"d_range": big, "in_d": in_d, "in_K": in_k}


def bench_profile(cfg: dict) -> dict:
    """Where the time of a float64 K=5 step goes: entropy alone, linear and power steps, and one
    ``np.log`` / ``np.exp`` pass over d elements (interleaved)."""
    d = cfg["profile_d"]
    g = np.random.default_rng(2).standard_normal(d)
    rows = g.reshape(1, d)
    tiles = Tiles(1, d, g.dtype)
    box = [EMC(K=5).init(g)]
    magnitudes, scratch = np.abs(g), np.empty(d)
    cases = {"entropy": lambda: row_entropy(rows, "l2", tiles),
             "step_linear": _emc_case(5, "linear", box, g),
             "step_power": _emc_case(5, "power", box, g),
             "log_pass": lambda: np.log(magnitudes, out=scratch),
             "exp_pass": lambda: np.exp(g, out=scratch)}
    med = {k: float(np.median(v)) for k, v in interleaved(cases, cfg["rounds"]).items()}
    return {"d": d, "K": 5, "dtype": "float64", "seconds": med,
            "ns_per_element": {k: v / d * 1e9 for k, v in med.items()},
            "shares_of_power_step": {
                "entropy pass (one log per element)": med["entropy"] / med["step_power"],
                "cascade update and weighted sum": (med["step_linear"] - med["entropy"])
                / med["step_power"],
                "power reading (log, exp, copysign)": (med["step_power"] - med["step_linear"])
                / med["step_power"]}}


def bench_sweep_profile(cfg: dict, sweep_rows: list) -> dict:
    """The parts of one step of the sweep's largest batch (``(B, d)``, K, float64), interleaved,
    beside the sweep's measured time per batch step (``B`` / run-steps per second): the problem's
    value and gradient and its bare :math:`d \\times d` product, the EMC step per reading and its
    entropy pass, one bare ``np.log`` / ``np.exp`` / ``np.power`` (one exponent per run) pass over
    the batch, and the memory floor of the K buffers (an in-place pass over ``K B d`` floats)."""
    B, d, K = max(cfg["sweep_b"]), cfg["sweep_d"], cfg["sweep_k"]
    problem = quadratic(d, cond=10.0, seed=0)
    x = problem.x_star + np.random.default_rng(3).standard_normal((B, d))
    g = problem.grad(x)
    hessian = problem.hessian(problem.x_star)
    magnitudes = np.abs(g)
    exponents_per_run = np.linspace(1.0, 2.0, B)[:, None]
    tiles = Tiles(B, d, g.dtype)
    scratch = np.empty_like(g)
    cases = {"problem value and gradient": lambda: problem.value_and_grad(x),
             "the problem's d x d product": lambda: np.matmul(x, hessian, out=scratch),
             "entropy pass": lambda: row_entropy(g, "l2", tiles),
             "one np.log pass": lambda: np.log(magnitudes, out=scratch),
             "one np.exp pass": lambda: np.exp(magnitudes, out=scratch),
             "one np.power pass": lambda: np.power(magnitudes, exponents_per_run, out=scratch),
             "memory floor of the K buffers": _floor_case(np.ones(K * B * d))}
    for reading in ("power", "linear"):
        cases[f"EMC step ({reading})"] = _emc_case(K, reading, [EMC(K=K).init(g)], g)
    med = {k: float(np.median(v)) for k, v in interleaved(cases, cfg["rounds"]).items()}
    measured = {r["reading"]: B / r["run_steps_per_s"] for r in sweep_rows
                if r["kind"] == "batched" and r["B"] == B and r["dtype"] == "float64"}
    return {"B": B, "d": d, "K": K, "dtype": "float64", "seconds": med,
            "sweep_step_seconds": measured,
            "target_step_seconds": B / TARGETS["sweep_run_steps_per_s"],
            "rest_seconds": {reading: step - med["problem value and gradient"]
                             - med[f"EMC step ({reading})"] for reading, step in measured.items()}}


def unavoidable_sweep_parts(prof: dict) -> dict:
    r"""Per reading, the parts of a batch step that no float64 NumPy step can skip, from the
    measured ``sweep_profile`` (seconds): the problem's bare product, the per-element
    transcendental passes (the entropy's log; for a power reading also :math:`|m|^e`, the cheaper
    of a log and an exp pass or one ``np.power`` pass), and the K buffers' memory floor. NumPy
    runs these as separate passes, so their sum bounds the step from below; ``B`` over it bounds
    the run-steps per second from above."""
    sec = prof["seconds"]
    signed_power = min(sec["one np.log pass"] + sec["one np.exp pass"], sec["one np.power pass"])
    base = (sec["the problem's d x d product"] + sec["one np.log pass"]
            + sec["memory floor of the K buffers"])
    out = {}
    for reading in prof["sweep_step_seconds"]:
        least = base + (0.0 if reading == "linear" else signed_power)
        out[reading] = {"least_step_seconds": least,
                        "most_run_steps_per_s": prof["B"] / least,
                        "target_reachable": least <= prof["target_step_seconds"]}
    return out


def k_exponent_reach(k_rows: list, log_pass_seconds: float,
                     band=TARGETS["exponent_band"]) -> dict:
    r"""What the K-exponent band asks of a step. The leanest conceivable step costs the memory
    floor's slope :math:`b_f` per level plus, as its only fixed part, the entropy's one ``np.log``
    pass over ``d`` (:math:`t = t_{\log} + b_f K`; the floor's own fixed part is left out, which
    favours the band). Returns that step's fitted exponent over the measured K, and the per-level
    cost :math:`b^\ast` (and :math:`b^\ast / b_f`) at which a step with that fixed part would
    reach the band's lower edge (``None`` if the lean step is already inside)."""
    floor = sorted((r["K"], r["median_s"]) for r in k_rows if r["reading"] == "floor")
    ks = np.array([k for k, _ in floor], float)
    slope = affine_fit(ks, [t for _, t in floor])["b"]

    def exponent(per_level: float) -> float:
        return fitted_exponent(ks, log_pass_seconds + per_level * ks)

    lean = exponent(slope)
    needed = None
    if lean < band[0]:
        needed = float(brentq(lambda b: exponent(b) - band[0], slope, slope * 1e9))
    return {"K": ks.astype(int).tolist(), "floor_per_level_seconds": slope,
            "log_pass_seconds": log_pass_seconds, "lean_step_exponent": lean,
            "per_level_seconds_for_band": needed,
            "per_level_over_floor_for_band": None if needed is None else needed / slope}


def bench_sweep(cfg: dict) -> list:
    """Run-steps per second of the batched sweep at each B (float64, and float32 at the largest
    B) against a loop of single ``minimize`` runs (the ratio), and of a bare loop of single runs
    without the runner."""
    d, K, steps = cfg["sweep_d"], cfg["sweep_k"], cfg["sweep_steps"]
    problem = quadratic(d, cond=10.0, seed=0)
    out = []
    for reading in ("power", "linear"):
        def batched(B, dtype, reading=reading):
            table = sweep([problem], [{"name": "emc", "K": K, "reading": reading}],
                          np.geomspace(1e-3, 1e-2, B), steps=steps, progress=False, dtype=dtype)
            return sum(row["stop_step"] for row in table.rows)

        def loop(reading=reading):
            lrs = np.geomspace(1e-3, 1e-2, cfg["loop_runs"])
            rng = np.random.default_rng(0)
            total = 0
            for lr in lrs:
                x0 = problem.x_star + rng.standard_normal(d)
                with threadpool_limits(1):
                    total += int(minimize(EMC(K=K, lr=lr, reading=reading), problem, x0, steps,
                                          history=False).stop_step)
            return total

        def bare_loop(reading=reading):
            """The same runs as ``loop`` without the runner: update, add, gradient, no checks."""
            lrs = np.geomspace(1e-3, 1e-2, cfg["loop_runs"])
            rng = np.random.default_rng(0)
            for lr in lrs:
                x = problem.x_star + rng.standard_normal(d)
                optimizer = EMC(K=K, lr=lr, reading=reading)
                state = optimizer.init(x)
                g = problem.grad(x)
                with threadpool_limits(1):
                    for _ in range(steps):
                        updates, state = optimizer.update(g, state, inplace=True)
                        x += updates
                        g = problem.grad(x)
            return steps * lrs.size

        cases = {"loop": loop, "bare loop": bare_loop}
        rates = {(kind, 0, "float64"): [] for kind in cases}
        rates.update({("batched", B, "float64"): [] for B in cfg["sweep_b"]})
        rates[("batched", max(cfg["sweep_b"]), "float32")] = []
        for _ in range(cfg["sweep_rounds"]):
            for kind, B, dtype in rates:
                start = time.perf_counter()
                run_steps = cases[kind]() if kind in cases else batched(B, dtype)
                rates[(kind, B, dtype)].append(run_steps / (time.perf_counter() - start))
        loop_rates = np.asarray(rates[("loop", 0, "float64")])
        for (kind, B, dtype), values in rates.items():
            entry = {"reading": reading, "kind": kind, "B": B if kind == "batched" else 1,
                     "dtype": dtype, "d": d, "K": K, "steps": steps,
                     "run_steps_per_s": float(np.median(values))}
            if kind == "batched":
                entry["over_loop"] = float(np.median(np.asarray(values) / loop_rates))
            out.append(entry)
    return out


# ----------------------------------------------------------------------------- record


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "numpy": np.__version__, "platform": platform.platform()}


def targets(record: dict) -> list:
    """Issue 7's targets against the record (only those the record measured)."""
    out = []
    steps = {(r["dtype"], r["d"], r["K"], r["case"]): r for r in record["steps"]}
    for reading, limit in (("power", TARGETS["power_over_floor"]),
                           ("linear", TARGETS["linear_over_floor"])):
        row = steps.get(("float64", 10**6, 5, f"emc_{reading}"))
        if row:
            out.append({"target": f"{reading} step <= {limit:g}x memory floor (d=1e6, K=5, "
                                  "float64)", "measured": row["ratio"],
                        "met": row["ratio"] <= limit})
    for row in record["sweep"]:
        if row["kind"] == "batched" and row["B"] == 10**4:
            label = f"{row['reading']}, {row['dtype']}"
            out.append({"target": f"sweep B=1e4, d=50, K=5 ({label}) >= 1.0M run-steps/s",
                        "measured": row["run_steps_per_s"],
                        "met": row["run_steps_per_s"] >= TARGETS["sweep_run_steps_per_s"]})
            out.append({"target": f"sweep B=1e4 ({label}) >= 40x the Python loop",
                        "measured": row["over_loop"],
                        "met": row["over_loop"] >= TARGETS["sweep_over_loop"]})
    lo, hi = TARGETS["exponent_band"]
    exps = record["exponents"]
    if exps["in_d"]:
        values = list(exps["in_d"].values())
        out.append({"target": "exponent of step time in d (d >= 1e5) within 0.85..1.15",
                    "measured": [min(values), max(values)],
                    "met": all(lo <= v <= hi for v in values)})
    values = [exps["in_K"][reading]["exponent"] for reading in READINGS]
    out.append({"target": "exponent of step time in K within 0.85..1.15",
                "measured": [min(values), max(values)], "met": all(lo <= v <= hi for v in values)})
    return out


def reach(record: dict) -> dict:
    """What the sweep-throughput and K-exponent targets would need, from the measured parts
    (:func:`unavoidable_sweep_parts`, :func:`k_exponent_reach`)."""
    prof = record["profile"]
    if prof["d"] != record["k_series"][0]["d"]:
        raise ValueError(f"the profile's d ({prof['d']}) must be the K series' d "
                         f"({record['k_series'][0]['d']})")
    return {"sweep": unavoidable_sweep_parts(record["sweep_profile"]),
            "K_exponent": k_exponent_reach(record["k_series"], prof["seconds"]["log_pass"])}


def _reach_lines(record: dict) -> list:
    """Sentences on the two targets' reach (the record's ``reach`` section)."""
    found = record["reach"]
    prof, k = record["sweep_profile"], found["K_exponent"]
    sweep = "; ".join(
        f"{reading} {_ms(v['least_step_seconds'])} ms, so at most "
        f"{v['most_run_steps_per_s']:.3g} run-steps/s"
        for reading, v in found["sweep"].items())
    lines = [f"Sweep throughput: the parts of a batch step (B = {prof['B']:.0e}, d = {prof['d']}, "
             f"K = {prof['K']}, float64) that no NumPy step can skip, each measured as its own "
             f"pass (the problem's d x d product, the per-element log/exp the reading needs, "
             f"the K buffers' memory floor), add up to: {sweep}; 1.0M run-steps/s allows "
             f"{_ms(prof['target_step_seconds'])} ms per batch step."]
    band = (f"a step with that fixed part would need {_ms(k['per_level_seconds_for_band'])} ms "
            f"per level, {k['per_level_over_floor_for_band']:.1f}x the floor's, to reach "
            f"{TARGETS['exponent_band'][0]}" if k["per_level_seconds_for_band"] is not None
            else "that is inside the band")
    per_level = [v["affine"]["b"] / k["floor_per_level_seconds"]
                 for r, v in record["exponents"]["in_K"].items() if r != "floor"]
    lines.append(f"Exponent in K: the leanest conceivable step, the memory floor's "
                 f"{_ms(k['floor_per_level_seconds'])} ms per level plus one `np.log` pass over d "
                 f"({_ms(k['log_pass_seconds'])} ms) as its only fixed part, has exponent "
                 f"{k['lean_step_exponent']:.2f} over K in {k['K']}; {band}. The EMC steps "
                 f"measured cost {min(per_level):.2f}x to {max(per_level):.2f}x the floor's per "
                 f"level.")
    return lines


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}"


def _header(record: dict) -> str:
    meta = record["meta"]
    return (f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores, one thread pinned; "
            f"numpy {meta['machine']['numpy']}, torch {meta['torch'] or 'not installed'}; "
            f"{meta['rounds']} interleaved rounds, medians; load average before/after "
            f"{meta['load_before']} / {meta['load_after']}; {meta['date']}"
            + (" (quick settings)" if meta["quick"] else "") + ".")


def _targets_table(record: dict) -> list:
    lines = ["| target | measured | met |", "|---|---|---|"]
    for t in record["targets"]:
        measured = t["measured"]
        shown = (f"{measured[0]:.2f}..{measured[1]:.2f}" if isinstance(measured, list)
                 else f"{measured:.3g}")
        lines.append(f"| {t['target']} | {shown} | {'yes' if t['met'] else 'no'} |")
    return lines


def _steps_table(record: dict, keep=lambda dtype, d: True) -> list:
    cases = list(dict.fromkeys(r["case"] for r in record["steps"]))
    lines = ["| dtype | d | K | " + " | ".join(cases) + " |",
             "|---|---|---|" + "---|" * len(cases)]
    keyed = {}
    for r in record["steps"]:
        keyed.setdefault((r["dtype"], r["d"], r["K"]), {})[r["case"]] = r
    for (dtype, d, K), by_case in keyed.items():
        if keep(dtype, d):
            cells = [f"{_ms(by_case[c]['median_s'])} ({by_case[c]['ratio']:.2f}x)"
                     if c in by_case else "" for c in cases]
            lines.append(f"| {dtype} | {d:.0e} | {K} | " + " | ".join(cells) + " |")
    return lines


def render_readme(record: dict) -> str:
    """The README's benchmark section: the targets, the d = 1e6 float64 steps and what the
    misses come from, all from the record (``emc-theory bench --readme README.md``)."""
    lines = ["## Benchmark", "",
             "`emc-theory bench` measures the core side by side with a memory floor and PyTorch "
             "peers (optional extra `bench`), one thread pinned, interleaved rounds, medians of "
             "paired ratios; full tables in `results/bench.md`, the record in "
             "`results/bench.json`; `emc-theory bench --readme README.md` rewrites this "
             "section from the new record. Latest run: " + _header(record), "",
             "### Targets (issue 7)", "", *_targets_table(record), "",
             "One step at d = 1e6, float64, in milliseconds (median; in brackets the paired ratio "
             "to the memory floor, an in-place pass over the (2K+3)d floats a step touches):", "",
             *_steps_table(record, lambda dtype, d: dtype == "float64" and d == 10**6)]
    prof, in_k = record.get("sweep_profile"), record["exponents"]["in_K"]
    if prof and prof["sweep_step_seconds"]:
        steps = prof["sweep_step_seconds"]
        sec = prof["seconds"]
        lines += ["", f"Where the sweep's time goes (B = {prof['B']:.0e}, d = {prof['d']}, "
                      f"K = {prof['K']}): one step of the batch takes "
                      + " and ".join(f"{_ms(v)} ms ({r})" for r, v in steps.items())
                      + f" where 1.0M run-steps/s allows {_ms(prof['target_step_seconds'])} ms; "
                      f"the EMC step alone takes {_ms(sec['EMC step (power)'])} ms (power) and "
                      f"{_ms(sec['EMC step (linear)'])} ms (linear), one float64 `np.log` pass "
                      f"over the batch {_ms(sec['one np.log pass'])} ms (the power reading needs "
                      f"three such log/exp passes, the entropy one), the problem's value and "
                      f"gradient {_ms(sec['problem value and gradient'])} ms."]
    lines += ["", "Step time is affine in K at d = 1e6: " + "; ".join(
        f"{r} {_ms(v['affine']['a'])} ms + {_ms(v['affine']['b'])} ms per level"
        for r, v in in_k.items() if r != "floor")
        + (f". The memory floor itself has exponent {in_k['floor']['exponent']:.2f} in K over "
           "the same K" if "floor" in in_k else "")
        + ", so an exponent near 1 would need a step with almost no part independent of K."]
    for text in _reach_lines(record):
        lines += ["", text]
    return "\n".join(lines) + "\n"


def update_readme(path, record: dict) -> None:
    """Replace the ``## Benchmark`` section of the README at ``path`` (up to the next ``## ``
    heading or the end) by :func:`render_readme`."""
    path = Path(path)
    text = path.read_text()
    start = text.index("\n## Benchmark\n") + 1
    end = text.find("\n## ", start)
    rest = "" if end < 0 else text[end:]
    path.write_text(text[:start] + render_readme(record) + rest)


def render_markdown(record: dict) -> str:
    """The record's tables (``bench.md``)."""
    lines = ["## Benchmark (`emc-theory bench`)", "", _header(record), "",
             "### Targets (issue 7)", "", *_targets_table(record)]
    lines += ["", "### What the missed targets would need"]
    for text in _reach_lines(record):
        lines += ["", text]
    lines += ["", "### One step against the memory floor",
              "", "Milliseconds per step (median); in brackets the median paired ratio to the "
              "floor, an in-place pass over the (2K+3)d floats of the step.", "",
              *_steps_table(record)]
    exps = record["exponents"]
    lines += ["", "### Scaling (claim C1)", "",
              f"Exponent of step time in d over d in {exps['d_range']}: " + ", ".join(
                  f"{k} {v:.2f}" for k, v in exps["in_d"].items()) + ".", "",
              "| reading | exponent in K | affine fit t = a + bK: a (ms) | b (ms per level) | "
              "max rel. residual |", "|---|---|---|---|---|"]
    for reading, v in exps["in_K"].items():
        a = v["affine"]
        label = "memory floor, (2K+3)d floats" if reading == "floor" else reading
        lines.append(f"| {label} | {v['exponent']:.2f} | {_ms(a['a'])} | {_ms(a['b'])} | "
                     f"{a['max_rel_residual']:.3f} |")
    ks = sorted({r["K"] for r in record["k_series"]})
    lines += ["", f"Over K in {ks} at d = {record['k_series'][0]['d']:.0e}. Even the memory "
                  "floor is affine in K (its fixed part is the 3d floats of the gradient, the "
                  "update and the scratch), so its power-law exponent is below 1 over this range."]
    prof = record["profile"]
    lines += ["", f"### Where a step's time goes (d = {prof['d']:.0e}, K = 5, float64)", "",
              "| part | share of the power step |", "|---|---|"]
    lines += [f"| {k} | {v:.0%} |" for k, v in prof["shares_of_power_step"].items()]
    ns = prof["ns_per_element"]
    lines += ["", f"One `np.log` pass: {ns['log_pass']:.2f} ns/element, one `np.exp` pass: "
              f"{ns['exp_pass']:.2f} ns/element; power step {ns['step_power']:.2f} ns/element.",
              "", "### Batched sweep against a Python loop of runs", "",
              "| reading | runs B | dtype | d | K | steps | run-steps/s | x loop |",
              "|---|---|---|---|---|---|---|---|"]
    for r in record["sweep"]:
        label = {"loop": "loop of single runs", "bare loop": "bare loop (no runner)"}.get(
            r["kind"], str(r["B"]))
        over = f"{r['over_loop']:.1f}" if "over_loop" in r else ""
        lines.append(f"| {r['reading']} | {label} | {r['dtype']} | {r['d']} | "
                     f"{r['K']} | {r['steps']} | {r['run_steps_per_s']:.3g} | {over} |")
    prof = record.get("sweep_profile")
    if prof:
        lines += ["", f"### Where a sweep step goes (B = {prof['B']:.0e}, d = {prof['d']}, "
                      f"K = {prof['K']}, float64)", "",
                  f"Milliseconds per step of the whole batch; the target of 1.0M run-steps/s "
                  f"allows {_ms(prof['target_step_seconds'])} ms. The parts are timed together "
                  f"(interleaved), the sweep in its own section: the rest is the difference of "
                  f"the two, and the machine's drift between sections (up to tens of percent) "
                  f"can make it negative.", "",
                  "| part | ms per batch step |", "|---|---|"]
        lines += [f"| {k} | {_ms(v)} |" for k, v in prof["seconds"].items()]
        for reading, step in prof["sweep_step_seconds"].items():
            lines += [f"| sweep step, {reading} (measured) | {_ms(step)} |",
                      f"| of which runner bookkeeping and the rest, {reading} | "
                      f"{_ms(prof['rest_seconds'][reading])} |"]
    if record.get("torch_matches_numpy") is not None:
        lines += ["", "The PyTorch EMC reference agrees with the core to a relative "
                      f"{record['torch_matches_numpy']:.1e} (one float64 step, every reading)."]
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emc-theory bench",
        description="Benchmark the EMC core side by side (one thread, interleaved rounds).")
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (a test)")
    parser.add_argument("--out", default="results", help="directory of bench.json and bench.md")
    parser.add_argument("--rounds", type=int, default=None, help="rounds per section")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peers")
    parser.add_argument("--readme", default=None,
                        help="also rewrite the '## Benchmark' section of this README")
    return parser


def main(argv=None) -> int:
    argv = list(argv) if argv is not None else None
    if argv and argv[0] == "--":  # ``emc-theory bench -- --quick`` passes the separator on
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.rounds is not None:
        cfg["rounds"] = max(1, args.rounds)
    torch = None
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(1)
        except ImportError:
            torch = None
    load_before = [round(x, 2) for x in os.getloadavg()]
    with threadpool_limits(1):
        record = {"meta": {"quick": args.quick, "rounds": cfg["rounds"], "config": cfg,
                           "machine": machine(), "torch": torch.__version__ if torch else None,
                           "load_before": load_before,
                           "date": datetime.datetime.now().isoformat(timespec="seconds")}}
        record["steps"] = bench_steps(cfg, torch)
        record["k_series"] = bench_k_series(cfg)
        record["exponents"] = exponents(record["steps"], record["k_series"], cfg["dims"])
        record["profile"] = bench_profile(cfg)
        record["sweep"] = bench_sweep(cfg)
        record["sweep_profile"] = bench_sweep_profile(cfg, record["sweep"])
        record["torch_matches_numpy"] = torch_matches_numpy(torch) if torch else None
    record["reach"] = reach(record)
    record["meta"]["load_after"] = [round(x, 2) for x in os.getloadavg()]
    record["targets"] = targets(record)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "bench.md").write_text(render_markdown(record))
    if args.readme:
        update_readme(args.readme, record)
    print(render_markdown(record))
    print(f"written: {out / 'bench.json'}, {out / 'bench.md'}")
    return 0
