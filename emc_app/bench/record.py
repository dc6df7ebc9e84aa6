"""The benchmark record on disk: schema, writing (:func:`emc_theory.records.dumps`), reading, and
the conversion of older records to the current schema.

Schema 3: ``meta`` (with ``reference``, the floor case every step ratio is paired with, and
``peers``, the peer backends' versions); the measured sections ``steps``, ``k_series``,
``profile``, ``sweep``, ``sweep_profile``, ``torch_matches_numpy``
(:mod:`emc_app.bench.cases`), keyed by case and part identifiers; and ``analysis``
(:func:`emc_app.bench.analysis.analyse`), computed from them. Schema 3 pairs step ratios with
the honest floor (:data:`~emc_app.bench.cases.FLOOR`), times the default ``update`` beside the
in-place one, and adds the profile's ratios and the peers' sweeps.

Older records load (:func:`load`) with their measurements as they were and the analysis
recomputed under the current targets: schema 2 (the same layout, ratios against
:data:`~emc_app.bench.cases.LEGACY_FLOOR`) and schema 1 (keyed by prose, written before the
benchmark left the core, :func:`upgrade_v1`). Their step ratios are against the legacy floor, so
the step targets stay not measured.
"""
from __future__ import annotations

import json
from pathlib import Path

from emc_theory import records
from emc_theory.emc import READINGS

from .analysis import analyse
from .cases import BARE_LOOP, LEGACY_FLOOR, LOOP, SWEEP, emc_case_id

SCHEMA = 3
MEASURED = ("steps", "k_series", "profile", "sweep", "sweep_profile", "torch_matches_numpy")

_V1_STEP_CASES = {"floor": LEGACY_FLOOR, "torch_sgd_momentum": "torch.sgd_momentum",
                  "torch_adam": "torch.adam",
                  **{f"emc_{r}": emc_case_id(r) for r in READINGS},
                  **{f"torch_emc_{r}": f"torch.emc.{r}" for r in READINGS}}
_V1_PROFILE_PARTS = {"entropy": "entropy", "step_linear": emc_case_id("linear"),
                     "step_power": emc_case_id("power"), "log_pass": "np.log",
                     "exp_pass": "np.exp"}
_V1_SWEEP_PARTS = {"problem value and gradient": "problem.value_and_grad",
                   "the problem's d x d product": "problem.product", "entropy pass": "entropy",
                   "one np.log pass": "np.log", "one np.exp pass": "np.exp",
                   "one np.power pass": "np.power",
                   "memory floor of the K buffers": "floor.buffers",
                   "EMC step (power)": emc_case_id("power"),
                   "EMC step (linear)": emc_case_id("linear")}
_V1_SWEEP_KINDS = {"batched": SWEEP, "loop": LOOP, "bare loop": BARE_LOOP}


def complete(record: dict) -> dict:
    """``record`` (meta and measured sections) with ``schema`` and its ``analysis``."""
    return {**record, "schema": SCHEMA, "analysis": analyse(record)}


def _renamed(mapping: dict, key: str, what: str) -> str:
    if key not in mapping:
        raise ValueError(f"schema-1 bench record: unknown {what} {key!r}; known: "
                         f"{', '.join(mapping)}")
    return mapping[key]


def upgrade_v1(old: dict) -> dict:
    """A schema-1 record (no ``schema`` field; cases like ``emc_power``, parts and targets keyed
    by prose) as a current record: the same measurements under identifiers, ratios against
    :data:`~emc_app.bench.cases.LEGACY_FLOOR` (its floor); the derived sections (exponents,
    shares, reach, targets) are recomputed by :func:`~emc_app.bench.analysis.analyse`, not
    copied."""
    if "schema" in old:
        raise ValueError(f"not a schema-1 bench record (schema {old['schema']!r})")
    steps = [{**r, "case": _renamed(_V1_STEP_CASES, r["case"], "step case")}
             for r in old["steps"]]
    k_series = [{"case": LEGACY_FLOOR if r["reading"] == "floor" else emc_case_id(r["reading"]),
                 "K": r["K"], "d": r["d"], "median_s": r["median_s"]} for r in old["k_series"]]
    prof = old["profile"]
    profile = {"d": prof["d"], "K": prof["K"], "dtype": prof["dtype"],
               "seconds": {_renamed(_V1_PROFILE_PARTS, k, "profile part"): v
                           for k, v in prof["seconds"].items()}}
    sweep = []
    for r in old["sweep"]:
        row = {k: v for k, v in r.items() if k != "kind"}
        sweep.append({"case": _renamed(_V1_SWEEP_KINDS, r["kind"], "sweep kind"), **row})
    sprof = old["sweep_profile"]
    sweep_profile = {"B": sprof["B"], "d": sprof["d"], "K": sprof["K"], "dtype": sprof["dtype"],
                     "seconds": {_renamed(_V1_SWEEP_PARTS, k, "sweep part"): v
                                 for k, v in sprof["seconds"].items()}}
    meta = {**old["meta"], "reference": LEGACY_FLOOR}
    return complete({"meta": meta, "steps": steps, "k_series": k_series, "profile": profile,
                     "sweep": sweep, "sweep_profile": sweep_profile,
                     "torch_matches_numpy": old.get("torch_matches_numpy")})


def upgrade_v2(old: dict) -> dict:
    """A schema-2 record as a current record: the same measurements (ratios against
    :data:`~emc_app.bench.cases.LEGACY_FLOOR`, which its ``meta.reference`` names) and the
    analysis recomputed under the current targets."""
    if old.get("schema") != 2:
        raise ValueError(f"not a schema-2 bench record (schema {old.get('schema')!r})")
    if old["meta"].get("reference") != LEGACY_FLOOR:
        raise ValueError(f"a schema-2 bench record is paired with {LEGACY_FLOOR!r}, this one "
                         f"says {old['meta'].get('reference')!r}")
    return complete({k: old[k] for k in ("meta", *MEASURED)})


def load(path) -> dict:
    """The record at ``path``; a schema-1 or schema-2 record upgraded (:func:`upgrade_v1`,
    :func:`upgrade_v2`)."""
    record = json.loads(Path(path).read_text())
    if "schema" not in record:
        return upgrade_v1(record)
    if record["schema"] == 2:
        return upgrade_v2(record)
    if record["schema"] != SCHEMA:
        raise ValueError(f"{path}: bench record schema {record['schema']!r}, this version reads "
                         f"{SCHEMA} (and 1 and 2)")
    return record


def dumps(record: dict) -> str:
    """The record's canonical JSON text (:func:`emc_theory.records.dumps`)."""
    return records.dumps(record)
