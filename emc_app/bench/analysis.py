r"""What the benchmark's measurements say: fitted exponents (:mod:`emc_theory.fit`), where a step's
time goes, the targets met or missed, and what the missed ones would need. Every function reads
the measured sections of a record (:mod:`emc_app.bench.cases`) and returns plain data keyed by
identifiers; :func:`analyse` computes the record's ``analysis`` section.

The targets are stated once, in :data:`TARGETS`: identifier, label, comparison, threshold and the
conditions of the measurement they apply to; the label is rendered from these at render time.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import brentq

from emc_theory.emc import READINGS
from emc_theory.fit import affine_fit, fitted_exponent

from .cases import FLOOR, SWEEP, emc_case_id


@dataclass(frozen=True)
class Target:
    """One target: ``measured <compare> threshold`` (``compare`` is ``"<="``, ``">="`` or
    ``"within"`` a closed band ``(low, high)``) for the measurement selected by ``where``;
    ``label`` is a ``str.format`` template over ``threshold`` (``threshold_M``: in millions; for a
    band ``low``/``high``), the fields of
    ``where`` and those of the subject of each evaluation (e.g. ``reading``, ``dtype``)."""

    id: str
    label: str
    compare: str
    threshold: float | tuple
    where: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.compare not in ("<=", ">=", "within"):
            raise ValueError(f"compare must be '<=', '>=' or 'within', got {self.compare!r}")
        if (self.compare == "within") != isinstance(self.threshold, tuple):
            raise ValueError("a 'within' target takes a (low, high) threshold, the others a "
                             "number")

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
        values = {**{k: _short(v) for k, v in self.where.items()}, **(subject or {})}
        if self.compare == "within":
            values["low"], values["high"] = self.threshold
        else:
            values["threshold"] = self.threshold
            values["threshold_M"] = self.threshold / 1e6
        return self.label.format(**values)


def _short(value):
    """Powers of ten from 1e3 on as ``1e4``; anything else unchanged."""
    if isinstance(value, int) and value >= 1000 and 10 ** round(np.log10(value)) == value:
        return f"1e{round(np.log10(value))}"
    return value


_STEP = {"d": 10**6, "K": 5, "dtype": "float64"}
_SWEEP = {"B": 10**4, "d": 50, "K": 5}
TARGETS = (
    Target("step.power.over_floor",
           "power step <= {threshold:g}x memory floor (d={d}, K={K}, {dtype})", "<=", 6.0,
           {"case": emc_case_id("power"), **_STEP}),
    Target("step.linear.over_floor",
           "linear step <= {threshold:g}x memory floor (d={d}, K={K}, {dtype})", "<=", 3.0,
           {"case": emc_case_id("linear"), **_STEP}),
    Target("sweep.run_steps_per_s",
           "sweep B={B}, d={d}, K={K} ({reading}, {dtype}) >= {threshold_M:.1f}M run-steps/s", ">=",
           1.0e6, {"case": SWEEP, **_SWEEP}),
    Target("sweep.over_loop", "sweep B={B} ({reading}, {dtype}) >= {threshold:g}x the Python loop",
           ">=", 40.0, {"case": SWEEP, **_SWEEP}),
    Target("exponent.d", "exponent of step time in d (d >= {d_min}) within {low}..{high}",
           "within", (0.85, 1.15), {"d_min": 10**5}),
    Target("exponent.K", "exponent of step time in K within {low}..{high}", "within",
           (0.85, 1.15)),
)
"""Issue 7's targets."""


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


def k_exponent_reach(k_rows: list, log_pass_seconds: float, band=None) -> dict:
    r"""What the K-exponent band (default: the ``exponent.K`` target's) asks of a step. The
    leanest conceivable step costs the memory floor's slope :math:`b_f` per level plus, as its
    only fixed part, the entropy's one ``np.log`` pass over ``d`` (:math:`t = t_{\log} + b_f K`;
    the floor's own fixed part is left out, which favours the band). Returns that step's fitted
    exponent over the measured K, and the per-level cost :math:`b^\ast` (and
    :math:`b^\ast / b_f`) at which a step with that fixed part would reach the band's lower edge
    (``None`` if the lean step is already inside)."""
    band = target("exponent.K").threshold if band is None else band
    floor = sorted((r["K"], r["median_s"]) for r in k_rows if r["case"] == FLOOR)
    if len(floor) < 2:
        raise ValueError(f"k_rows must hold the {FLOOR} case at >= 2 values of K")
    ks = np.array([k for k, _ in floor], float)
    slope = affine_fit(ks, [t for _, t in floor]).b

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


def reach(record: dict, steps_by_reading: dict) -> dict:
    """What the sweep-throughput and K-exponent targets would need, from the measured parts
    (:func:`unavoidable_sweep_parts`, :func:`k_exponent_reach`)."""
    prof, sprof = record["profile"], record["sweep_profile"]
    k_d = record["k_series"][0]["d"]
    if prof["d"] != k_d:
        raise ValueError(f"the profile's d ({prof['d']}) must be the K series' d ({k_d})")
    readings = sorted(steps_by_reading, key=_reading_order)
    return {"sweep": unavoidable_sweep_parts(sprof["seconds"], sprof["B"], readings,
                                             allowed_sweep_step_seconds(sprof["B"])),
            "K_exponent": k_exponent_reach(record["k_series"], prof["seconds"]["np.log"])}


# ----------------------------------------------------------------------------- targets


def _matches(row: dict, where: dict) -> bool:
    return all(row.get(k) == v for k, v in where.items())


def evaluate_targets(record: dict, exps: dict) -> list:
    """Each target of :data:`TARGETS` that the record measured: ``{"id", "subject", "measured",
    "met"}`` (``subject``: what the evaluation is of beyond the target's ``where``, e.g. the
    sweep's reading and dtype; a band's ``measured`` is ``[min, max]``). In the order of
    :data:`TARGETS`, the sweep's targets per sweep row in the record's order."""
    groups = {"step": [t for t in TARGETS if t.id.startswith("step.")],
              "sweep": [t for t in TARGETS if t.id.startswith("sweep.")],
              "exponent": [t for t in TARGETS if t.id.startswith("exponent.")]}
    if sum(map(len, groups.values())) != len(TARGETS):  # a new kind of target needs a branch
        raise ValueError("every target id must start with step., sweep. or exponent.")
    out = []
    for t in groups["step"]:
        for row in record["steps"]:
            if _matches(row, t.where):
                out.append({"id": t.id, "subject": {}, "measured": row["ratio"],
                            "met": t.met(row["ratio"])})
    sweep_measure = {"sweep.run_steps_per_s": "run_steps_per_s", "sweep.over_loop": "over_loop"}
    for row in record["sweep"]:
        for t in groups["sweep"]:
            if _matches(row, t.where):
                value = row[sweep_measure[t.id]]
                out.append({"id": t.id, "subject": {"reading": row["reading"],
                                                    "dtype": row["dtype"]},
                            "measured": value, "met": t.met(value)})
    found = {"exponent.d": [r["exponent"] for r in exps["in_d"]],
             "exponent.K": [v["exponent"] for case, v in exps["in_K"].items()
                            if case_reading(case)]}
    for t in groups["exponent"]:
        values = found[t.id]
        if values:
            out.append({"id": t.id, "subject": {}, "measured": [min(values), max(values)],
                        "met": t.met(values)})
    return out


def analyse(record: dict) -> dict:
    """The record's ``analysis`` section from its measured sections."""
    exps = exponents(record["steps"], record["k_series"])
    steps_by_reading = sweep_steps(record["sweep"], record["sweep_profile"])
    return {"exponents": exps, "profile_shares": profile_shares(record["profile"]),
            "sweep_steps": steps_by_reading, "reach": reach(record, steps_by_reading),
            "targets": evaluate_targets(record, exps)}
