"""How the benchmark times: interleaved rounds, medians and paired ratios, one pinned thread, and
the machine a record was measured on. Nothing here knows what is timed (that is
:mod:`emc_app.bench.cases`).

Within a section every case is timed once per round, in turn; a case repeats its call until it has
run for at least :data:`MIN_SAMPLE_SECONDS`. A section keeps, per case, the median over rounds and,
against a reference case, the median of the *paired* ratios (case / reference in the same round),
so drifts of the machine's speed between rounds cancel.
"""
from __future__ import annotations

import contextlib
import math
import os
import platform
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

MIN_SAMPLE_SECONDS = 0.02


def interleaved(cases: dict, rounds: int) -> dict:
    """Seconds per call of each case (a dict key -> zero-argument callable) in each of ``rounds``
    rounds, the cases timed in turn within a round; returns key -> list of seconds."""
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}")
    repeats = {}
    for key, fn in cases.items():
        fn()
        start = time.perf_counter()
        fn()
        once = time.perf_counter() - start
        repeats[key] = max(1, math.ceil(MIN_SAMPLE_SECONDS / max(once, 1e-9)))
    samples = {key: [] for key in cases}
    for _ in range(rounds):
        for key, fn in cases.items():
            start = time.perf_counter()
            for _ in range(repeats[key]):
                fn()
            samples[key].append((time.perf_counter() - start) / repeats[key])
    return samples


def medians(samples: dict) -> dict:
    """Median seconds of each case of :func:`interleaved`."""
    return {key: float(np.median(times)) for key, times in samples.items()}


def summarize(samples: dict, reference=None) -> dict:
    """Per case ``{"median_s", "min_s"}`` and, against the case ``reference``, ``"ratio"``: the
    median over rounds of the paired ratio case / reference."""
    if reference is not None and reference not in samples:
        raise ValueError(f"reference {reference!r} is not one of the timed cases")
    out = {}
    for key, times in samples.items():
        entry = {"median_s": float(np.median(times)), "min_s": float(np.min(times))}
        if reference is not None:
            entry["ratio"] = float(np.median(np.asarray(times) / np.asarray(samples[reference])))
        out[key] = entry
    return out


def rate_samples(cases: dict, rounds: int) -> dict:
    """Work per second of each case (a callable returning the units of work it did, e.g. run-steps)
    in each of ``rounds`` rounds, the cases run in turn within a round (no repeats: each call is
    long)."""
    rates = {key: [] for key in cases}
    for _ in range(rounds):
        for key, fn in cases.items():
            start = time.perf_counter()
            work = fn()
            rates[key].append(work / (time.perf_counter() - start))
    return rates


def load_average() -> list:
    """The 1, 5 and 15 minute load averages, rounded to 0.01."""
    return [round(x, 2) for x in os.getloadavg()]


def machine() -> dict:
    """CPU model, cores, Python and NumPy versions and platform of this machine."""
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


def import_torch(wanted: bool):
    """PyTorch pinned to one thread, or ``None`` when not ``wanted`` or not installed."""
    if not wanted:
        return None
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


JAX_ONE_THREAD = "--xla_cpu_multi_thread_eigen=false"
"""The XLA flag that keeps XLA's CPU computations on one thread (read when JAX makes its CPU
client, i.e. at its first computation in the process)."""


def import_jax(wanted: bool):
    """JAX, with :data:`JAX_ONE_THREAD` added to ``XLA_FLAGS`` first (effective only if JAX has
    not computed yet in this process: :func:`emc_app.bench.cases.jax_conditions` measures it),
    or ``None`` when not ``wanted`` or when JAX, optax or :mod:`emc_theory.jax_backend` cannot
    be imported."""
    if not wanted:
        return None
    flags = os.environ.get("XLA_FLAGS", "")
    if JAX_ONE_THREAD not in flags.split():
        os.environ["XLA_FLAGS"] = f"{flags} {JAX_ONE_THREAD}".strip()
    try:
        import jax
        import optax  # noqa: F401

        import emc_theory.jax_backend  # noqa: F401
    except ImportError:
        return None
    return jax


@contextlib.contextmanager
def one_thread():
    """Every BLAS/OpenMP pool limited to one thread for the duration."""
    with threadpool_limits(1):
        yield
