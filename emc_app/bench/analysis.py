r"""What the benchmark's measurements say: fitted exponents (:mod:`emc_theory.fit`), where a step's
time goes, the default path's cost over the in-place one, the targets met, missed or not
measured, and what the missed ones would need. Every function reads the measured sections of a
record (:mod:`emc_app.bench.cases`) and returns plain data keyed by identifiers; :func:`analyse`
computes the record's ``analysis`` section.

The targets are stated once, in :data:`TARGETS`: identifier, label, comparison, threshold, the
measurement they read and its conditions, and the issue that set them; the label is rendered
from these at render time. Step ratios are against the honest floor
(:data:`~emc_app.bench.cases.FLOOR`); a record measured against another floor (schema 1 and 2)
leaves the step targets not measured.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from emc_theory.emc import READINGS
from emc_theory.fit import affine_fit, fitted_exponent

from .cases import (
    FLOOR,
    JAX_AGREEMENT,
    LEGACY_FLOOR,
    REFERENCE,
    SWEEP,
    emc_case_id,
    peer_emc_case_id,
    sweep_case_id,
)

MEASURES = ("steps.ratio", "sweep.run_steps_per_s", "sweep.over_loop", "sweep.over_numpy",
            "sweep.differing_runs", "exponents.in_d", "exponents.in_K")
"""What a target can read: ``<section>.<field>`` of the rows of a measured section, or the fitted
exponents in d or in K (:func:`exponents`)."""


class _Blank(dict):
    def __missing__(self, key):
        return f"each {key}"


@dataclass(frozen=True)
class Target:
    """One target: ``measured <compare> threshold`` (``compare`` is ``"<="``, ``">="`` or
    ``"within"`` a closed band ``(low, high)``), ``measured`` being the field ``measure``
    (:data:`MEASURES`) of the rows selected by ``where``; a target is evaluated once per matching
    row, its subject the row's fields named in ``each`` (e.g. ``reading``, ``dtype``), and is
    *not measured* when no row matches. ``label`` is a ``str.format`` template over
    ``threshold`` (``threshold_M``: in millions; for a band ``low``/``high``), the fields of
    ``where`` and those of the subject (``each <field>`` where there is none); ``source`` is the
    issue that set it."""

    id: str
    label: str
    compare: str
    threshold: float | tuple
    measure: str
    where: dict = field(default_factory=dict)
    each: tuple = ()
    source: str = ""

    def __post_init__(self):
        if self.compare not in ("<=", ">=", "within"):
            raise ValueError(f"compare must be '<=', '>=' or 'within', got {self.compare!r}")
        if (self.compare == "within") != isinstance(self.threshold, tuple):
            raise ValueError("a 'within' target takes a (low, high) threshold, the others a "
                             "number")
        if self.measure not in MEASURES:
            raise ValueError(f"measure must be one of {MEASURES}, got {self.measure!r}")

    def met(self, measured) -> bool:
        """Whether ``measured`` (a number; for a band, every number of a list) meets the
        target."""
        if self.compare == "within":
            low, high = self.threshold
            values = measured if isinstance(measured, list) else [measured]
            return all(low <= v <= high for v in values)
        return measured <= self.threshold if self.compare == "<=" else measured >= self.threshold

    def text(self, subject: dict | None = None) -> str:
        """The label, filled in from the threshold, ``where`` and ``subject``."""
        values = _Blank({**{k: _short(v) for k, v in self.where.items()}, **(subject or {})})
        if self.compare == "within":
            values["low"], values["high"] = self.threshold
        else:
            values["threshold"] = self.threshold
            values["threshold_M"] = self.threshold / 1e6
        return self.label.format_map(values)


def _short(value):
    """Powers of ten from 1e3 on as ``1e4``; anything else unchanged."""
    if isinstance(value, int) and value >= 1000 and 10 ** round(np.log10(value)) == value:
        return f"1e{round(np.log10(value))}"
    return value


_STEP = {"d": 10**6, "K": 5, "dtype": "float64"}
_SWEEP = {"B": 10**4, "d": 50, "K": 5}


def _step_target(backend: str, case: str, reading: str, threshold: float, how: str) -> Target:
    """A step target of issue 17: the step ``case`` at most ``threshold`` honest floors."""
    label = (f"{backend} {reading} step{how} <= {{threshold:g}}x the honest floor "
             "(d={d}, K={K}, {dtype})")
    return Target(f"step.{backend.lower()}.{reading}", label, "<=", threshold, "steps.ratio",
                  {"case": case, **_STEP}, source="issue 17")


TARGETS = (
    _step_target("NumPy", emc_case_id("power"), "power", 4.0, " in place"),
    _step_target("NumPy", emc_case_id("linear"), "linear", 2.5, " in place"),
    _step_target("JAX", peer_emc_case_id("jax", "power"), "power", 3.0, ""),
    _step_target("JAX", peer_emc_case_id("jax", "linear"), "linear", 2.0, ""),
    Target("sweep.jax.over_numpy",
           "JAX sweep B={B}, d={d}, K={K} ({reading}, {dtype}) >= {threshold:g}x the NumPy "
           "sweep's run-steps/s", ">=", 4.0, "sweep.over_numpy",
           {"case": sweep_case_id("jax"), **_SWEEP, "reading": "power", "dtype": "float64"},
           source="issue 17"),
    Target("sweep.jax.same_results",
           "JAX sweep B={B}, d={d}, K={K} ({reading}, {dtype}): runs whose status, stop step or "
           f"final values (beyond {JAX_AGREEMENT[0]:g} relative) differ from the NumPy sweep's "
           "<= {threshold:g}",
           "<=", 0, "sweep.differing_runs",
           {"case": sweep_case_id("jax"), **_SWEEP, "reading": "power", "dtype": "float64"},
           source="issue 17"),
    Target("sweep.run_steps_per_s",
           "sweep B={B}, d={d}, K={K} ({reading}, {dtype}) >= {threshold_M:.1f}M run-steps/s", ">=",
           1.0e6, "sweep.run_steps_per_s", {"case": SWEEP, **_SWEEP}, ("reading", "dtype"),
           "issue 7"),
    Target("sweep.over_loop", "sweep B={B} ({reading}, {dtype}) >= {threshold:g}x the Python loop",
           ">=", 40.0, "sweep.over_loop", {"case": SWEEP, **_SWEEP}, ("reading", "dtype"),
           "issue 7"),
    Target("exponent.d", "exponent of step time in d (d >= {d_min}) within {low}..{high}",
           "within", (0.85, 1.15), "exponents.in_d", {"d_min": 10**5}, source="issue 7"),
    Target("exponent.K", "exponent of step time in K within {low}..{high}", "within",
           (0.85, 1.15), "exponents.in_K", source="issue 7"),
)
"""The targets of issues 7 and 17, each stated once (``sweep.jax.same_results`` is issue 17's
"with the same results" for the JAX sweep, :func:`emc_app.bench.cases.sweep_differences`; the
step targets of issue 7, 6x and 3x an in-place pass over the (2K+3)d floats a step touched, gave
way to issue 17's against the honest floor)."""


def target(target_id: str) -> Target:
    """The :class:`Target` with this id."""
    for t in TARGETS:
        if t.id == target_id:
            return t
    raise ValueError(f"unknown target {target_id!r}; known: {', '.join(t.id for t in TARGETS)}")


def case_reading(case: str) -> str | None:
    """The reading of an EMC case id (``emc.power.inplace`` -> ``power``), else ``None``."""
    parts = case.split(".")
    return parts[1] if parts[0] == "emc" and len(parts) > 1 and parts[1] in READINGS else None


def _reading_order(key: str) -> tuple:
    return (READINGS.index(key) if key in READINGS else len(READINGS), key)


# ----------------------------------------------------------------------------- fits


def exponents(steps: list, k_series: list) -> dict:
    """Fitted exponents of the EMC step time in d (over the measured d from the ``exponent.d``
    target's ``d_min`` on, or every measured d if fewer than two are that large; none if fewer
    than two d were measured), per (case, K, dtype), and
    in K per case of the K series (EMC readings and the floor), with the affine fit
    :math:`t = a + bK`."""
    dims = sorted({r["d"] for r in steps})
    d_min = target("exponent.d").where["d_min"]
    big = [d for d in dims if d >= d_min]
    big = big if len(big) >= 2 else dims
    in_d = {}
    for row in steps:
        if case_reading(row["case"]) and row["d"] in big and len(big) >= 2:
            in_d.setdefault((row["case"], row["K"], row["dtype"]), {})[row["d"]] = row["median_s"]
    in_d = [{"case": case, "K": K, "dtype": dtype,
             "exponent": fitted_exponent(list(times), list(times.values()))}
            for (case, K, dtype), times in in_d.items()]
    in_k = {}
    for case in dict.fromkeys(r["case"] for r in k_series):
        rows = sorted((r["K"], r["median_s"]) for r in k_series if r["case"] == case)
        ks, ts = [k for k, _ in rows], [t for _, t in rows]
        in_k[case] = {"exponent": fitted_exponent(ks, ts), "affine": affine_fit(ks, ts)._asdict()}
    return {"d_range": big, "in_d": in_d, "in_K": in_k}


def profile_shares(profile: dict) -> dict:
    """Shares of the power step's time: the entropy pass, the cascade update and weighted sum
    (linear step minus entropy), the power reading (power step minus linear step)."""
    sec = profile["seconds"]
    power, linear = sec[emc_case_id("power")], sec[emc_case_id("linear")]
    return {"entropy": sec["entropy"] / power, "cascade": (linear - sec["entropy"]) / power,
            "reading": (power - linear) / power}


def sweep_steps(sweep_rows: list, sweep_profile: dict) -> dict:
    """Per reading, the measured time of one step of the profiled batch (``B`` over the batched
    sweep's run-steps per second, float64) and the rest once the problem's value and gradient and
    the EMC step (timed in the profile) are taken off: the runner's bookkeeping."""
    B, sec = sweep_profile["B"], sweep_profile["seconds"]
    out = {}
    for row in sweep_rows:
        if row["case"] == SWEEP and row["B"] == B and row["dtype"] == "float64":
            step = B / row["run_steps_per_s"]
            out[row["reading"]] = {
                "step_seconds": step,
                "rest_seconds": step - sec["problem.value_and_grad"]
                - sec[emc_case_id(row["reading"])]}
    return out


def allowed_sweep_step_seconds(B: int) -> float:
    """Seconds per batch step of B runs that the ``sweep.run_steps_per_s`` target allows."""
    return B / target("sweep.run_steps_per_s").threshold


# ----------------------------------------------------------------------------- reach


def unavoidable_sweep_parts(seconds: dict, B: int, readings, allowed_step_seconds: float) -> dict:
    r"""Per reading, the parts of a batch step of ``B`` runs that no float64 NumPy step can skip,
    from the measured sweep profile ``seconds`` (part id -> seconds): the problem's bare product,
    the per-element transcendental passes (the entropy's log; for a power reading also
    :math:`|m|^e`, the cheaper of a log and an exp pass or one ``np.power`` pass), and the K
    buffers' memory floor. NumPy runs these as separate passes, so their sum bounds the step from
    below; ``B`` over it bounds the run-steps per second from above."""
    signed_power = min(seconds["np.log"] + seconds["np.exp"], seconds["np.power"])
    base = seconds["problem.product"] + seconds["np.log"] + seconds["floor.buffers"]
    out = {}
    for reading in readings:
        least = base + (0.0 if reading == "linear" else signed_power)
        out[reading] = {"least_step_seconds": least, "most_run_steps_per_s": B / least,
                        "target_reachable": least <= allowed_step_seconds}
    return out


def k_exponent_reach(k_rows: list, log_pass_seconds: float, band=None, floor: str = FLOOR) -> dict:
    r"""What the K-exponent band (default: the ``exponent.K`` target's) asks of a step. The
    leanest conceivable step costs the memory floor's slope :math:`b_f` per level plus, as its
    only fixed part, the entropy's one ``np.log`` pass over ``d`` (:math:`t = t_{\log} + b_f K`;
    the floor's own fixed part is left out, which favours the band). Returns that step's fitted
    exponent over the measured K, and the per-level cost :math:`b^\ast` (and
    :math:`b^\ast / b_f`) at which a step with that fixed part would reach the band's lower edge
    (``None`` if the lean step is already inside). ``floor`` is the floor case of the rows (the
    record's reference). Where the floor's measured time does not grow with K (timing noise at
    small d: a fitted slope <= 0) there is no lean step to speak of: its exponent and the
    per-level cost are ``None``."""
    band = target("exponent.K").threshold if band is None else band
    times = sorted((r["K"], r["median_s"]) for r in k_rows if r["case"] == floor)
    if len(times) < 2:
        raise ValueError(f"k_rows must hold the {floor} case at >= 2 values of K")
    ks = np.array([k for k, _ in times], float)
    slope = affine_fit(ks, [t for _, t in times]).b

    def exponent(per_level: float) -> float:
        return fitted_exponent(ks, log_pass_seconds + per_level * ks)

    lean = exponent(slope) if slope > 0 else None
    needed = None
    if lean is not None and lean < band[0]:
        needed = float(brentq(lambda b: exponent(b) - band[0], slope, slope * 1e9))
    return {"K": ks.astype(int).tolist(), "floor_per_level_seconds": slope,
            "log_pass_seconds": log_pass_seconds, "lean_step_exponent": lean,
            "per_level_seconds_for_band": needed,
            "per_level_over_floor_for_band": None if needed is None else needed / slope}


def step_reach(profile: dict) -> dict | None:
    r"""What the NumPy step targets ask, from the profile (ratios paired with the honest floor in
    the same rounds). NumPy evaluates a float64 ``log`` or ``exp`` as its own pass over the
    elements, and a step needs the entropy's log of every gradient entry and, for the power
    reading, :math:`|\tilde m|^{\gamma} = \exp(\gamma \log|\tilde m|)`, a log and an exp of
    every entry; no NumPy step can cost less than the honest floor plus those passes:

    .. math:: t_{\text{linear}} \ge t_f + t_{\log},\qquad
              t_{\text{power}} \ge t_f + 2 t_{\log} + t_{\exp}.

    Per reading (``linear``, ``power``): that least cost and the measured in-place step, both in
    honest floors, their difference ``rest`` (the other passes NumPy makes over the tiles: the
    entropy's scaling, squares and sums, the cascade's K-wide products and sums), the target's
    threshold, and whether the least cost is within it. ``None`` for
    a profile without the honest floor (schema 1 and 2) or at another d, K or dtype than the
    targets'."""
    ratios = profile.get("ratios")
    where = target("step.numpy.power").where
    if (not ratios or FLOOR not in ratios
            or any(profile[k] != where[k] for k in ("d", "K", "dtype"))):
        return None
    log, exp = ratios["np.log"], ratios["np.exp"]
    least = {"linear": 1.0 + log, "power": 1.0 + 2.0 * log + exp}
    out = {}
    for reading in ("power", "linear"):
        t = target(f"step.numpy.{reading}")
        measured = ratios[emc_case_id(reading)]
        out[reading] = {"least_over_floor": least[reading], "measured_over_floor": measured,
                        "rest_over_floor": measured - least[reading], "target": t.threshold,
                        "target_reachable": t.met(least[reading])}
    return out


def record_floor(record: dict) -> str:
    """The floor case the record's step ratios are paired with (:data:`LEGACY_FLOOR` for a record
    that does not say)."""
    return record["meta"].get("reference", LEGACY_FLOOR)


def reach(record: dict, steps_by_reading: dict) -> dict:
    """What the step, sweep-throughput and K-exponent targets would need, from the measured parts
    (:func:`step_reach`, :func:`unavoidable_sweep_parts`, :func:`k_exponent_reach`)."""
    prof, sprof = record["profile"], record["sweep_profile"]
    k_d = record["k_series"][0]["d"]
    if prof["d"] != k_d:
        raise ValueError(f"the profile's d ({prof['d']}) must be the K series' d ({k_d})")
    readings = sorted(steps_by_reading, key=_reading_order)
    return {"steps": step_reach(prof),
            "sweep": unavoidable_sweep_parts(sprof["seconds"], sprof["B"], readings,
                                             allowed_sweep_step_seconds(sprof["B"])),
            "K_exponent": k_exponent_reach(record["k_series"], prof["seconds"]["np.log"],
                                           floor=record_floor(record))}


def default_path(steps: list, profile: dict) -> dict:
    """The default (pure) ``update``'s cost over the in-place one, in honest floors: per reading
    at the step targets' d, K and dtype (``inplace``, ``default``, their difference ``extra``);
    and from the profile, the linear step in place, by default with a recycled buffer and by
    default with a fresh allocation (``default_held``). Empty where not measured."""
    where = target("step.numpy.power").where
    by_case = {r["case"]: r["ratio"] for r in steps
               if all(r[k] == where[k] for k in ("d", "K", "dtype"))}
    out = {"steps": {}, "profile": {}}
    for reading in READINGS:
        inplace, default = emc_case_id(reading), emc_case_id(reading, "default")
        if inplace in by_case and default in by_case:
            out["steps"][reading] = {"inplace": by_case[inplace], "default": by_case[default],
                                     "extra": by_case[default] - by_case[inplace]}
    ratios = profile.get("ratios") or {}
    cases = {"inplace": emc_case_id("linear"), "recycled": emc_case_id("linear", "default"),
             "fresh": emc_case_id("linear", "default_held")}
    if all(case in ratios for case in cases.values()):
        out["profile"] = {name: ratios[case] for name, case in cases.items()}
    return out


# ----------------------------------------------------------------------------- targets


def _matches(row: dict, where: dict) -> bool:
    return all(row.get(k) == v for k, v in where.items())


def _rows(record: dict, exps: dict, t: Target) -> list:
    """The (subject, measured value) pairs of target ``t`` in the record."""
    section, name = t.measure.split(".", 1)
    if section == "exponents":
        values = ([r["exponent"] for r in exps["in_d"]] if name == "in_d" else
                  [v["exponent"] for case, v in exps["in_K"].items() if case_reading(case)])
        return [({}, [min(values), max(values)])] if values else []
    if section == "steps" and record_floor(record) != REFERENCE:
        return []   # ratios against another floor than the targets'
    return [({k: row[k] for k in t.each}, row[name]) for row in record[section]
            if name in row and _matches(row, t.where)]


def evaluate_targets(record: dict, exps: dict) -> list:
    """Every target of :data:`TARGETS`, in that order: ``{"id", "subject", "measured",
    "met"}`` once per matching row (``subject``: the row's fields named in the target's
    ``each``, e.g. the sweep's reading and dtype, in the record's order; a band's ``measured`` is
    ``[min, max]``), or once with ``measured`` and ``met`` ``None`` where the record has no
    matching row (not measured: e.g. the JAX targets without JAX, or the step targets of a record
    against another floor)."""
    out = []
    for t in TARGETS:
        found = _rows(record, exps, t)
        out += [{"id": t.id, "subject": subject, "measured": value, "met": t.met(value)}
                for subject, value in found]
        if not found:
            out.append({"id": t.id, "subject": {}, "measured": None, "met": None})
    return out


def analyse(record: dict) -> dict:
    """The record's ``analysis`` section from its measured sections."""
    exps = exponents(record["steps"], record["k_series"])
    steps_by_reading = sweep_steps(record["sweep"], record["sweep_profile"])
    return {"exponents": exps, "profile_shares": profile_shares(record["profile"]),
            "sweep_steps": steps_by_reading, "reach": reach(record, steps_by_reading),
            "default_path": default_path(record["steps"], record["profile"]),
            "targets": evaluate_targets(record, exps)}
