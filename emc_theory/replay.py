"""Replayable run records: everything needed to rerun a run from JSON and get the same outcome."""
from __future__ import annotations

import numpy as np

from .optimizers import make_optimizer
from .problems import make_problem
from .runner import minimize
from .validation import as_floating

_RUN_OPTIONS = ("tol", "gap_tol", "divergence_factor")


def run_spec(optimizer, problem, x0, steps: int, **options) -> dict:
    """The JSON-serialisable record of a run (``options``: tol, gap_tol, divergence_factor)."""
    unknown = set(options) - set(_RUN_OPTIONS)
    if unknown:
        raise ValueError(f"run options must be among {_RUN_OPTIONS}, got {sorted(unknown)}")
    return {"optimizer": optimizer.describe(), "problem": problem.describe(),
            "x0": np.asarray(as_floating(x0, "x0"), dtype=float).tolist(), "steps": int(steps),
            **{k: v for k, v in options.items() if v is not None}}


def replay(spec: dict, **minimize_options):
    """Rebuild the optimizer and problem of a :func:`run_spec` record and run it again."""
    options = {k: spec[k] for k in _RUN_OPTIONS if k in spec}
    return minimize(make_optimizer(spec["optimizer"]), make_problem(spec["problem"]),
                    np.asarray(spec["x0"], dtype=float), spec["steps"], **options,
                    **minimize_options)
