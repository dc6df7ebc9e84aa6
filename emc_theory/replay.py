"""Replayable run records: everything needed to rerun a run from JSON and get the same outcome.

A record (:func:`run_spec`) is a JSON object::

    {"optimizer": optimizer.describe(), "problem": problem.describe(), "x0": [...],
     "steps": int, "tol": float, "gap_tol": float, "divergence_factor": float,
     "dtype": "float32"}

(``tol``, ``gap_tol`` and ``divergence_factor`` only when set; ``dtype`` only for a run that was
not float64, so float64 records keep their old bytes.) Before anything is built, :func:`replay`
checks the record against this schema (:func:`validate_spec`): the types and ranges of every
field, no unknown field, the sizes against caps (:data:`DEFAULT_LIMITS`: ``steps``, the dimension
``d``, the levels ``K``, ``samples`` of a problem's data, ``runs`` of a batch) that a caller may
raise explicitly (``limits=``), and the problem's stated constants (``d``, ``L``, ``mu``,
``f_star``, ``x_star``) against those of the problem rebuilt from its parameters, so a tampered
record is refused rather than replayed. Every error is a ValueError or TypeError naming the field
(``spec['steps']``, ``spec['problem']['f_star']``...) and its allowed range. A record is only
ever read as data: nothing in it is evaluated.
"""
from __future__ import annotations

import dataclasses
import math
import numbers

import numpy as np

from .optimizers import OPTIMIZERS, make_optimizer
from .problems import FACTORIES, make_problem
from .runner import minimize
from .validation import as_floating

_RUN_OPTIONS = ("tol", "gap_tol", "divergence_factor")
DTYPES = ("float64", "float32")
DEFAULT_LIMITS = {"steps": 1_000_000, "d": 4096, "K": 32, "samples": 100_000, "runs": 1024}
"""Caps on the sizes a replayed record may ask for (raise them with ``limits=``): ``steps``, the
dimension ``d`` (a rotated problem costs a d x d QR), the cascade levels ``K``, ``samples`` (a
problem's data rows: ``n``, ``m``) and ``runs`` (rows of a batched start point)."""
PROBLEM_KEYS = ("name", "params", "d", "L", "mu", "f_star", "x_star", "x_star_source")
STATED_RTOL = 1e-8
r"""Relative tolerance of the stated ``f_star`` and ``x_star`` against the rebuilt problem's (a
minimiser computed by Newton's method is exact to about :math:`10^{-12}` relative)."""


def run_spec(optimizer, problem, x0, steps: int, **options) -> dict:
    """The JSON-serialisable record of a run (``options``: tol, gap_tol, divergence_factor);
    a float32 ``x0`` records ``"dtype": "float32"`` (the run's dtype, honoured by
    :func:`replay`)."""
    unknown = set(options) - set(_RUN_OPTIONS)
    if unknown:
        raise ValueError(f"run options must be among {_RUN_OPTIONS}, got {sorted(unknown)}")
    x0 = as_floating(x0, "x0")
    if x0.dtype.name not in DTYPES:
        raise TypeError(f"x0 must be float64 or float32 (the dtypes a run is recorded in), got "
                        f"{x0.dtype}")
    spec = {"optimizer": optimizer.describe(), "problem": problem.describe(),
            "x0": np.asarray(x0, dtype=float).tolist(), "steps": int(steps),
            **{k: v for k, v in options.items() if v is not None}}
    if x0.dtype != np.float64:
        spec["dtype"] = x0.dtype.name
    return spec


def check_limits(limits=None) -> dict:
    """:data:`DEFAULT_LIMITS` updated with ``limits`` (a dict of integers >= 1, names among the
    defaults'), or an error naming the offending entry."""
    if limits is None:
        return dict(DEFAULT_LIMITS)
    if not isinstance(limits, dict):
        raise TypeError(f"limits must be a dict of caps among {sorted(DEFAULT_LIMITS)}, got "
                        f"{type(limits).__name__}")
    out = dict(DEFAULT_LIMITS)
    for name, value in limits.items():
        if name not in DEFAULT_LIMITS:
            raise ValueError(f"limits must name caps among {sorted(DEFAULT_LIMITS)}, got {name!r}")
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"limits[{name!r}] must be an integer >= 1, got {value!r}")
        out[name] = int(value)
    return out


def _where(path) -> str:
    return "spec" + "".join(f"[{p!r}]" for p in path)


def _int(path, value, low: int, high: int, cap: str = "") -> int:
    allowed = f"an integer in [{low}, {high}]" + (
        f" (cap limits[{cap!r}]; raise it with limits=)" if cap else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_where(path)} must be {allowed}, got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{_where(path)} must be {allowed}, got {value!r}")
    return int(value)


def _real(path, value, *, low: float = -math.inf, low_open: bool = False,
          allow_none: bool = False, allowed: str = "a finite real number"):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_where(path)} must be {allowed}, got {value!r}")
    try:
        value = float(value)
    except OverflowError:   # an integer beyond the float range
        raise ValueError(f"{_where(path)} must be {allowed}, got an integer beyond the float "
                         "range") from None
    if not math.isfinite(value) or value < low or (low_open and value == low):
        raise ValueError(f"{_where(path)} must be {allowed}, got {value!r}")
    return value


def _dict(path, value, required=(), optional=None) -> dict:
    """``value`` if it is a dict with string keys holding ``required`` (and, when ``optional``
    is given, no key outside ``required + optional``)."""
    if not isinstance(value, dict):
        raise TypeError(f"{_where(path)} must be a JSON object (dict), got "
                        f"{type(value).__name__}")
    missing = [k for k in required if k not in value]
    if missing:
        raise ValueError(f"{_where(path)} lacks the field(s) {missing}")
    if optional is not None:
        unknown = sorted(map(str, set(value) - set(required) - set(optional)))
        if unknown:
            raise ValueError(f"{_where(path)} has unknown field(s) {unknown}; allowed: "
                             f"{sorted(set(required) | set(optional))}")
    return value


def _real_list(path, value, shape_hint: str) -> np.ndarray:
    """A nested list of finite reals (no bools, no strings) as a float64 array."""
    def walk(v, depth):
        if isinstance(v, list):
            if depth > 2:
                raise ValueError(f"{_where(path)} must be {shape_hint}, got a list nested deeper")
            for item in v:
                walk(item, depth + 1)
        elif isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise TypeError(f"{_where(path)} must be {shape_hint} of finite real numbers, got "
                            f"an entry {v!r}")
    if not isinstance(value, list):
        raise TypeError(f"{_where(path)} must be {shape_hint} (a JSON list), got "
                        f"{type(value).__name__}")
    walk(value, 1)
    try:
        arr = np.array(value, dtype=float)
    except ValueError:
        raise ValueError(f"{_where(path)} must be {shape_hint}, got a ragged list") from None
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{_where(path)} must hold finite numbers only")
    return arr


def _check_optimizer(spec, limits: dict) -> None:
    path = ("optimizer",)
    _dict(path, spec, required=("name", "lr"))
    name = spec["name"]
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise ValueError(f"{_where(path + ('name',))} must be one of {sorted(OPTIMIZERS)}, got "
                         f"{name!r}")
    cls = OPTIMIZERS[name]
    fields = {f.name for f in dataclasses.fields(cls) if f.init}
    _dict(path, spec, required=("name", "lr"), optional=sorted(fields - {"lr"}))
    for key, value in spec.items():
        if key != "lr" and not isinstance(value, (str, numbers.Real)):
            raise TypeError(f"{_where(path + (key,))} must be a number or a string, got "
                            f"{type(value).__name__}")
    if "K" in spec:
        _int(path + ("K",), spec["K"], 1, limits["K"], "K")
    lr = _dict(path + ("lr",), spec["lr"], required=("kind", "eta0"), optional=())
    eta0 = path + ("lr", "eta0")
    if isinstance(lr["eta0"], list):
        if np.any(_real_list(eta0, lr["eta0"], "a per-run list of step sizes") <= 0):
            raise ValueError(f"{_where(eta0)} must hold step sizes > 0")
    else:
        _real(eta0, lr["eta0"], low=0.0, low_open=True, allowed="a finite step size > 0")
    kind = lr["kind"]
    if not (isinstance(kind, str)
            or (isinstance(kind, list) and all(isinstance(k, str) for k in kind))):
        raise TypeError(f"{_where(path + ('lr', 'kind'))} must be a kind or a list of kinds "
                        f"(strings), got {kind!r}")


def _check_problem(spec, limits: dict):
    """Rebuild the problem of a record and compare its stated constants; return it."""
    path = ("problem",)
    _dict(path, spec, required=PROBLEM_KEYS, optional=())
    if not isinstance(spec["name"], str) or spec["name"] not in FACTORIES:
        raise ValueError(f"{_where(path + ('name',))} must be one of {sorted(FACTORIES)}, got "
                         f"{spec['name']!r}")
    params = _dict(path + ("params",), spec["params"])
    d = _int(path + ("d",), spec["d"], 2, limits["d"], "d")
    if "d" in params and params["d"] != d:
        raise ValueError(f"{_where(path + ('params', 'd'))} = {params['d']!r} differs from "
                         f"{_where(path + ('d',))} = {d}")
    for key in ("n", "m"):
        if key in params:
            _int(path + ("params", key), params[key], 1, limits["samples"], "samples")
    if not isinstance(spec["x_star_source"], str):
        raise TypeError(f"{_where(path + ('x_star_source',))} must be a string")
    _real(path + ("L",), spec["L"], low=0.0, low_open=True, allowed="a finite real > 0")
    _real(path + ("mu",), spec["mu"], low=0.0, allow_none=True,
          allowed="a finite real >= 0 or null")
    problem = make_problem(spec)   # refuses unknown parameters and a stated L or mu that differ
    if problem.d != d:
        raise ValueError(f"{_where(path + ('d',))} = {d} differs from the rebuilt problem's "
                         f"d = {problem.d}")
    check_stated_minimum(spec, problem, path)
    return problem


def check_stated_minimum(spec: dict, problem, path=("problem",)) -> None:
    """A record's stated minimum (``f_star``, ``x_star`` of ``spec``, a ``describe()`` output)
    against ``problem`` rebuilt from its parameters, to :data:`STATED_RTOL`: a record altered or
    written by another version is refused, naming the field."""
    stated = _real(path + ("f_star",), spec.get("f_star"), allow_none=True)
    if (stated is None) != (problem.f_star is None) or (
            stated is not None and not math.isclose(stated, problem.f_star, rel_tol=STATED_RTOL,
                                                    abs_tol=STATED_RTOL)):
        raise ValueError(f"{_where(path + ('f_star',))} = {stated!r} differs from the rebuilt "
                         f"problem's minimum f_star = {problem.f_star!r}: the record was altered "
                         "or written by another version")
    if spec.get("x_star") is None:
        x_star = None
    else:
        x_star = _real_list(path + ("x_star",), spec["x_star"],
                            f"a list of {problem.d} numbers")
    rebuilt = problem.x_star
    if (x_star is None) != (rebuilt is None) or (x_star is not None and (
            x_star.shape != rebuilt.shape
            or not np.allclose(x_star, rebuilt, rtol=STATED_RTOL, atol=STATED_RTOL))):
        raise ValueError(f"{_where(path + ('x_star',))} differs from the rebuilt problem's "
                         "minimiser: the record was altered or written by another version")


def validate_spec(spec, limits=None):
    """Check a :func:`run_spec` record (module docstring); return ``(optimizer, problem, x0,
    options)`` ready for :func:`~emc_theory.runner.minimize`, or raise a ValueError/TypeError
    naming the field."""
    limits = check_limits(limits)
    _dict((), spec, required=("optimizer", "problem", "x0", "steps"),
          optional=(*_RUN_OPTIONS, "dtype"))
    steps = _int(("steps",), spec["steps"], 1, limits["steps"], "steps")
    dtype = spec.get("dtype", "float64")
    if dtype not in DTYPES:
        raise ValueError(f"spec['dtype'] must be one of {list(DTYPES)}, got {dtype!r}")
    options = {}
    for key in ("tol", "gap_tol"):
        if key in spec:
            options[key] = _real((key,), spec[key], low=0.0, low_open=True, allow_none=True,
                                 allowed="a finite real > 0 or null")
    if "divergence_factor" in spec:
        options["divergence_factor"] = _real(("divergence_factor",), spec["divergence_factor"],
                                             low=1.0, allowed="a finite real >= 1")
    _check_optimizer(spec["optimizer"], limits)
    problem_spec = spec["problem"]
    _dict(("problem",), problem_spec, required=PROBLEM_KEYS)
    d = _int(("problem", "d"), problem_spec["d"], 2, limits["d"], "d")
    params = _dict(("problem", "params"), problem_spec["params"])
    if "d" in params and params["d"] != d:
        raise ValueError(f"spec['problem']['params']['d'] = {params['d']!r} differs from "
                         f"spec['problem']['d'] = {d}")
    x0 = _real_list(("x0",), spec["x0"], f"a list of d = {d} numbers or a list of such lists")
    if x0.ndim not in (1, 2) or x0.shape[-1] != d or x0.size == 0:
        raise ValueError(f"spec['x0'] must have shape ({d},) or (runs, {d}) (d of the problem), "
                         f"got shape {x0.shape}")
    if x0.ndim == 2:
        _int(("x0",), x0.shape[0], 1, limits["runs"], "runs")
    if dtype != "float64":
        with np.errstate(over="ignore"):
            x0 = x0.astype(dtype)
        if not np.all(np.isfinite(x0)):
            raise ValueError(f"spec['x0'] overflows {dtype} (the run's dtype)")
    problem = _check_problem(problem_spec, limits)
    optimizer = make_optimizer(spec["optimizer"])
    return optimizer, problem, x0, {"steps": steps, **options}


def replay(spec: dict, *, limits=None, **minimize_options):
    """Check a :func:`run_spec` record (:func:`validate_spec`, caps ``limits``), rebuild its
    optimizer and problem and run it again in the record's dtype."""
    optimizer, problem, x0, options = validate_spec(spec, limits)
    steps = options.pop("steps")
    return minimize(optimizer, problem, x0, steps, **options, **minimize_options)
