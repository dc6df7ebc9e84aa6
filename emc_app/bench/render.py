"""The benchmark record as text: ``bench.md`` (:func:`render_markdown`) and the README's
``## Benchmark`` section (:func:`render_readme`, :func:`update_readme`). The record is keyed by
identifiers; the human labels of cases, parts and floors live here (and in the targets' own
label templates, :data:`emc_app.bench.analysis.TARGETS`). Tables go through
:func:`emc_theory.render.markdown_table`; orders are fixed here, never taken from the JSON's
(sorted) key order. Every ratio shown is the record's, paired with the floor its ``meta`` names
(the honest floor for a current record)."""
from __future__ import annotations

from pathlib import Path

from emc_theory.records import write_text
from emc_theory.render import markdown_table

from .analysis import (
    _reading_order,
    allowed_sweep_step_seconds,
    case_reading,
    record_floor,
    target,
)
from .cases import BARE_LOOP, FLOOR, JAX_AGREEMENT, LEGACY_FLOOR, LOOP, SWEEP, emc_case_id

PART_LABELS = {"problem.value_and_grad": "problem value and gradient",
               "problem.product": "the problem's d x d product", "entropy": "entropy pass",
               "np.log": "one np.log pass", "np.exp": "one np.exp pass",
               "np.power": "one np.power pass", "floor.buffers": "memory floor of the K buffers",
               emc_case_id("power"): "EMC step (power)",
               emc_case_id("linear"): "EMC step (linear)"}
"""Labels of the parts of a sweep step, in the order the tables list them."""
PROFILE_LABELS = {FLOOR: "honest floor", "entropy": "entropy pass",
                  "np.log": "one np.log pass over d", "np.exp": "one np.exp pass over d",
                  emc_case_id("linear"): "EMC linear step, in place",
                  emc_case_id("linear", "default"): "EMC linear step, default (buffer recycled)",
                  emc_case_id("linear", "default_held"):
                      "EMC linear step, default (caller holds the old state: fresh allocation)",
                  emc_case_id("power"): "EMC power step, in place"}
"""Labels of the parts of a step's profile, in the order the table lists them."""
SHARE_LABELS = {"entropy": "entropy pass (one log per element)",
                "cascade": "cascade update and weighted sum",
                "reading": "power reading (log, exp, copysign)"}
SWEEP_LABELS = {LOOP: "loop of single runs", BARE_LOOP: "bare loop (no runner)"}
FLOOR_TEXT = {
    FLOOR: "the honest floor, the least memory traffic of a step: an in-place pass over (K+1)d "
           "floats (the K buffers and the gradient read, the K buffers and the update written) "
           "plus one more read of the d gradient floats (the entropy needs the whole gradient "
           "before the weights)",
    LEGACY_FLOOR: "a legacy floor, an in-place pass over the (2K+3)d floats the step of that "
                  "time touched (K buffers, gradient, update, scratch), about twice the honest "
                  "floor's traffic"}
"""Per floor case: how the README and ``bench.md`` describe it (the record's ``reference``)."""
HONEST_FLOOR = ("The honest floor of a step with K buffers over d floats is its least memory "
                "traffic: an in-place pass over (K+1)d floats (the K buffers and the gradient "
                "read, the K buffers and the update written) plus one more read of the d "
                "gradient floats, which the entropy needs before the weights; (K+2)d floats "
                "read and (K+1)d written.")
"""The honest floor's formula, stated in the README and ``bench.md`` whatever the record."""
FLOOR_FIXED = {FLOOR: "the d floats of the gradient and of the update, and the entropy's "
                      "second read of the gradient",
               LEGACY_FLOOR: "the 3d floats of the gradient, the update and the scratch"}
"""Per floor case: what its part independent of K is."""
FLOOR_FORMULA = {FLOOR: "(K+1)d in place + d read", LEGACY_FLOOR: "(2K+3)d in place"}
PEER_LABELS = {"torch.sgd_momentum": "torch SGD momentum", "torch.adam": "torch Adam",
               "optax.sgd_momentum": "optax SGD momentum", "optax.adam": "optax Adam"}
"""Labels of K-independent peer cases."""
BACKEND_NAMES = {"torch": "torch", "jax": "JAX"}
"""How a peer backend's EMC cases (``<backend>.emc.<reading>``) are labelled."""
VARIANT_TEXT = {"inplace": "in place", "default": "default", "default_held": "default, held"}


def case_label(case: str) -> str:
    """The column label of a step case id (the id itself for a case without one)."""
    if case == FLOOR:
        return "honest floor"
    if case == LEGACY_FLOOR:
        return "floor (2K+3)d"
    reading = case_reading(case)
    if reading is not None:
        variant = case.split(".", 2)[2] if case.count(".") == 2 else ""
        return f"EMC {reading}" + (f" ({VARIANT_TEXT.get(variant, variant)})" if variant else "")
    parts = case.split(".")
    if len(parts) == 3 and parts[1] == "emc" and parts[0] in BACKEND_NAMES:
        return f"{BACKEND_NAMES[parts[0]]} EMC {parts[2]}"
    return PEER_LABELS.get(case, case)


def _by_reading(keys) -> list:
    return sorted(keys, key=_reading_order)


def _k_cases(in_k: dict) -> list:
    """The K series' cases: EMC readings in :data:`READINGS` order, then the rest (the floor)."""
    emc = sorted((c for c in in_k if case_reading(c)),
                 key=lambda c: _reading_order(case_reading(c)))
    return emc + sorted(c for c in in_k if not case_reading(c))


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g}"


def _power_of_ten(n: int) -> str:
    """``1e6`` for 10**6 (the short form the prose uses), else the number."""
    text = f"{n:.0e}"
    return text.replace("e+0", "e").replace("e+", "e") if text.startswith("1e") and float(
        text) == n else str(n)


def _millions(value: float) -> str:
    return f"{value / 1e6:.1f}M"


def _floor_text(record: dict) -> str:
    return FLOOR_TEXT[record_floor(record)]


def _header(record: dict) -> str:
    meta = record["meta"]
    peers = meta.get("peers", {"torch": meta.get("torch")})
    versions = ", ".join(f"{name} {version or 'not installed'}"
                         for name, version in peers.items())
    return (f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores, one thread pinned; "
            f"numpy {meta['machine']['numpy']}, {versions}; "
            f"{meta['rounds']} interleaved rounds, medians; load average before/after "
            f"{meta['load_before']} / {meta['load_after']}; {meta['date']}"
            + (" (quick settings)" if meta["quick"] else "") + "." + _jax_text(meta))


def _jax_text(meta: dict) -> str:
    """What the JAX peers ran with (``meta.jax``), if they ran."""
    jax = meta.get("jax")
    if not jax:
        return ""
    return (f" JAX peers on {jax['device']} with optax {jax['optax']}, XLA_FLAGS "
            f"`{jax['xla_flags'] or '(none)'}`; CPU time over wall time of a compiled pass "
            f"{jax['cpu_over_wall']:.2f} (at most 1 on one thread, up to the cores on more).")


def _legacy_note(record: dict) -> list:
    """A paragraph for a record measured against another floor than the honest one."""
    floor = record_floor(record)
    if floor == FLOOR:
        return []
    return ["", f"This record's step ratios are against {FLOOR_TEXT[floor]}; the step targets, "
                "stated against the honest floor, are not measured in it (rerun "
                "`emc-theory bench`)."]


def _targets_table(record: dict) -> list:
    rows = []
    for t in record["analysis"]["targets"]:
        measured, spec = t["measured"], target(t["id"])
        if measured is None:
            shown, met = "not measured", ""
        else:
            shown = (f"{measured[0]:.2f}..{measured[1]:.2f}" if isinstance(measured, list)
                     else f"{measured:.3g}")
            met = "yes" if t["met"] else "no"
        rows.append((spec.text(t["subject"]), spec.source, shown, met))
    return markdown_table(("target", "set by", "measured", "met"), rows)


def _steps_table(record: dict, keep=lambda dtype, d: True) -> list:
    cases = list(dict.fromkeys(r["case"] for r in record["steps"]))
    keyed = {}
    for r in record["steps"]:
        keyed.setdefault((r["dtype"], r["d"], r["K"]), {})[r["case"]] = r
    rows = []
    for (dtype, d, K), by_case in keyed.items():
        if keep(dtype, d):
            cells = [f"{_ms(by_case[c]['median_s'])} ({by_case[c]['ratio']:.2f}x)"
                     if c in by_case else "" for c in cases]
            rows.append((dtype, f"{d:.0e}", K, *cells))
    return markdown_table(("dtype", "d", "K", *map(case_label, cases)), rows)


def _step_reach_line(record: dict) -> list:
    """The sentence on the NumPy step targets' reach (``reach.steps``), if measured."""
    found = record["analysis"]["reach"].get("steps")
    if not found:
        return []
    prof = record["profile"]
    parts = "; ".join(
        f"{reading}: at least {v['least_over_floor']:.2f}x, target {v['target']:g}x, "
        f"{'within reach' if v['target_reachable'] else 'out of reach'} (measured "
        f"{v['measured_over_floor']:.2f}x, of which {v['rest_over_floor']:.2f}x the other passes)"
        for reading, v in ((r, found[r]) for r in _by_reading(found)))
    ratios = prof["ratios"]
    return [f"Step targets: NumPy evaluates a float64 log or exp one element at a time, as its own "
            f"pass (here {ratios['np.log']:.2f}x and {ratios['np.exp']:.2f}x the honest floor "
            f"per pass over d = {_power_of_ten(prof['d'])}), and a step needs the entropy's log "
            "of every gradient entry and, for the power reading, a log and an exp of every entry "
            "of the aggregate; so no NumPy step costs less than the honest floor plus those "
            f"passes, in honest floors: {parts}. The other passes are the arithmetic NumPy runs "
            "one operation at a time over each cache-sized tile (the entropy's scaling, squares "
            "and sums; the K buffers' products and sums and the weighted aggregate, each over "
            "all K levels)."]


def _reach_lines(record: dict) -> list:
    """Sentences on the targets' reach (the analysis' ``reach`` section)."""
    found = record["analysis"]["reach"]
    prof, k = record["sweep_profile"], found["K_exponent"]
    throughput = _millions(target("sweep.run_steps_per_s").threshold)
    sweep = "; ".join(
        f"{reading} {_ms(found['sweep'][reading]['least_step_seconds'])} ms, so at most "
        f"{found['sweep'][reading]['most_run_steps_per_s']:.3g} run-steps/s"
        for reading in _by_reading(found["sweep"]))
    lines = _step_reach_line(record)
    lines.append(
        f"Sweep throughput: the parts of a batch step (B = {prof['B']:.0e}, d = {prof['d']}, "
        f"K = {prof['K']}, {prof['dtype']}) that no NumPy step can skip, each measured as its "
        f"own pass (the problem's d x d product, the per-element log/exp the reading needs, "
        f"the K buffers' memory floor), add up to: {sweep}; {throughput} run-steps/s allows "
        f"{_ms(allowed_sweep_step_seconds(prof['B']))} ms per batch step.")
    band = (f"a step with that fixed part would need {_ms(k['per_level_seconds_for_band'])} ms "
            f"per level, {k['per_level_over_floor_for_band']:.1f}x the floor's, to reach "
            f"{target('exponent.K').threshold[0]}" if k["per_level_seconds_for_band"] is not None
            else "that is inside the band")
    in_k = record["analysis"]["exponents"]["in_K"]
    if k["lean_step_exponent"] is None:
        lines.append(f"Exponent in K: the floor's time did not grow with K in this run (fitted "
                     f"{_ms(k['floor_per_level_seconds'])} ms per level over K in {k['K']}), "
                     "so no leanest step can be derived from it.")
        return lines
    per_level = [v["affine"]["b"] / k["floor_per_level_seconds"]
                 for case, v in in_k.items() if case_reading(case)]
    lines.append(f"Exponent in K: the leanest conceivable step, the floor's "
                 f"{_ms(k['floor_per_level_seconds'])} ms per level plus one `np.log` pass over d "
                 f"({_ms(k['log_pass_seconds'])} ms) as its only fixed part, has exponent "
                 f"{k['lean_step_exponent']:.2f} over K in {k['K']}; {band}. The EMC steps "
                 f"measured cost {min(per_level):.2f}x to {max(per_level):.2f}x the floor's per "
                 f"level.")
    return lines


def _default_path_lines(record: dict) -> list:
    """What the default (pure) ``update`` costs over the in-place one (``default_path``)."""
    found = record["analysis"].get("default_path") or {}
    steps, prof = found.get("steps") or {}, found.get("profile") or {}
    if not steps and not prof:
        return []
    where = target("step.numpy.power").where
    text = ("The default `update` is pure: it writes the new state into other memory than the "
            "state it was given, so its K buffers cost a read of the old, a write of the new "
            "and, before each cache line is written, a read of the new (the CPU's "
            "write-allocate): about one extra pass over the K d floats. It recycles the buffers "
            "of the state it was given one step earlier when the caller no longer holds them; "
            "without that, every step would also pay the page faults and the kernel's zeroing "
            "of a fresh allocation.")
    if steps:
        text += (f" At d = {_power_of_ten(where['d'])}, K = {where['K']}, {where['dtype']}, in "
                 "honest floors: " + "; ".join(
                     f"{reading} {steps[reading]['default']:.2f}x by default against "
                     f"{steps[reading]['inplace']:.2f}x in place ({steps[reading]['extra']:+.2f})"
                     for reading in _by_reading(steps)) + ".")
    if prof:
        d = _power_of_ten(record["profile"]["d"])
        text += (f" In the profile (linear, d = {d}): {prof['inplace']:.2f}x in place, "
                 f"{prof['recycled']:.2f}x by default with a recycled buffer, {prof['fresh']:.2f}x "
                 "by default while the caller still holds the old state (a fresh allocation).")
    return [text]


def render_readme(record: dict) -> str:
    """The README's benchmark section: a summary for users (what is measured, against what,
    how many targets are met, one step's cost beside the floor and the peers); the targets,
    the profiles and why the misses happen are in ``results/bench.md``
    (``emc-theory bench --readme README.md``)."""
    where = target("step.numpy.power").where
    jax = ("and JAX peers (optional extra `jax`: the optax EMC, optax's Adam and SGD "
           "momentum, the JAX sweep), " if record["meta"].get("jax") else "")
    measured = [t for t in record["analysis"]["targets"] if t["measured"] is not None]
    met = sum(bool(t["met"]) for t in measured)
    missed = sorted({target(t["id"]).source for t in measured if not t["met"]})
    lines = ["## Benchmark", "",
             "`emc-theory bench` measures the core side by side with the honest floor and "
             f"PyTorch peers (optional extra `bench`), {jax}one thread pinned, interleaved rounds, "
             "medians of paired ratios. " + HONEST_FLOOR + " Latest run: " + _header(record),
             *_legacy_note(record), "",
             f"{met} of {len(measured)} measured targets are met"
             + (f" (missed targets were set by {', '.join(missed)})" if missed else "")
             + "; the targets, where a step's and a sweep's time goes, and what the missed "
             "targets would need are in `results/bench.md`, the record in `results/bench.json`.",
             "",
             f"One step at d = {_power_of_ten(where['d'])}, {where['dtype']}, in milliseconds "
             "(median; in brackets the paired ratio to the floor, "
             f"{_floor_text(record)}):", "",
             *_steps_table(record, lambda dtype, d: dtype == where["dtype"] and d == where["d"])]
    return "\n".join(lines) + "\n"


def update_readme(path, record: dict) -> None:
    """Replace the ``## Benchmark`` section of the README at ``path`` (up to the next ``## ``
    heading or the end) by :func:`render_readme`."""
    path = Path(path)
    text = path.read_text()
    if "\n## Benchmark\n" not in text:
        raise ValueError(f"{path} has no '## Benchmark' section to replace")
    start = text.index("\n## Benchmark\n") + 1
    end = text.find("\n## ", start)
    rest = "" if end < 0 else text[end:]
    write_text(path, text[:start] + render_readme(record) + rest)


def _profile_table(prof: dict) -> list:
    """The profile's parts in milliseconds and, where measured, honest floors."""
    ratios = prof.get("ratios") or {}
    rows = []
    for key, label in PROFILE_LABELS.items():
        if key in prof["seconds"]:
            ratio = f"{ratios[key]:.2f}x" if key in ratios else ""
            rows.append((label, _ms(prof["seconds"][key]), ratio))
    return markdown_table(("part", "ms", "x honest floor"), rows)


def render_markdown(record: dict) -> str:
    """The record's tables (``bench.md``)."""
    analysis = record["analysis"]
    floor = record_floor(record)
    lines = ["## Benchmark (`emc-theory bench`)", "", _header(record), "", HONEST_FLOOR,
             *_legacy_note(record), "", "### Targets", "", *_targets_table(record)]
    lines += ["", "### What the missed targets would need"]
    for text in _reach_lines(record):
        lines += ["", text]
    lines += ["", "### One step against the floor",
              "", "Milliseconds per step (median); in brackets the median paired ratio to the "
              f"floor, {_floor_text(record)}. `default` is the pure `update`, `in place` "
              "`update(..., inplace=True)`.", "",
              *_steps_table(record)]
    for text in _default_path_lines(record):
        lines += ["", text]
    exps = analysis["exponents"]
    in_d = ", ".join(f"{case_label(r['case'])} K={r['K']} {r['dtype']} {r['exponent']:.2f}"
                     for r in exps["in_d"])
    in_k_rows = []
    for case in _k_cases(exps["in_K"]):
        v = exps["in_K"][case]
        a = v["affine"]
        label = (f"{case_label(case)}, {FLOOR_FORMULA[case]}" if case in FLOOR_FORMULA
                 else case_reading(case) or case)
        in_k_rows.append((label, f"{v['exponent']:.2f}", _ms(a["a"]), _ms(a["b"]),
                          f"{a['max_rel_residual']:.3f}"))
    lines += ["", "### Scaling (claim C1)", "",
              f"Exponent of step time in d over d in {exps['d_range']}: {in_d}.", "",
              *markdown_table(("reading", "exponent in K", "affine fit t = a + bK: a (ms)",
                               "b (ms per level)", "max rel. residual"), in_k_rows)]
    ks = sorted({r["K"] for r in record["k_series"]})
    lines += ["", f"Over K in {ks} at d = {record['k_series'][0]['d']:.0e}, in place. Even the "
                  f"floor is affine in K (its fixed part is {FLOOR_FIXED[floor]}), so its "
                  "power-law exponent is below 1 over this range."]
    prof = record["profile"]
    shares = analysis["profile_shares"]
    lines += ["", f"### Where a step's time goes (d = {prof['d']:.0e}, K = {prof['K']}, "
                  f"{prof['dtype']})", "",
              *markdown_table(("part", "share of the power step"),
                              [(label, f"{shares[key]:.0%}") for key, label in
                               SHARE_LABELS.items()]), "",
              *_profile_table(prof)]
    ns = {k: v / prof["d"] * 1e9 for k, v in prof["seconds"].items()}
    lines += ["", f"One `np.log` pass: {ns['np.log']:.2f} ns/element, one `np.exp` pass: "
              f"{ns['np.exp']:.2f} ns/element; power step {ns[emc_case_id('power')]:.2f} "
              "ns/element.", "", "### Batched sweep against a Python loop of runs", ""]
    sweep_rows = []
    peers = any("over_numpy" in r for r in record["sweep"])
    compared = any("differing_runs" in r for r in record["sweep"])
    for r in record["sweep"]:
        label = SWEEP_LABELS.get(r["case"], str(r["B"]))
        if r["case"] not in SWEEP_LABELS and r["case"] != SWEEP:   # a peer backend's sweep
            backend = r["case"].split(".", 1)[1]
            label += f" ({BACKEND_NAMES.get(backend, backend)})"
        row = [r["reading"], label, r["dtype"], r["d"], r["K"], r["steps"],
               f"{r['run_steps_per_s']:.3g}", f"{r['over_loop']:.1f}" if "over_loop" in r else ""]
        if peers:
            row.append(f"{r['over_numpy']:.2f}" if "over_numpy" in r else "")
        if compared:
            row += ([str(r["differing_runs"]), f"{r['max_rel_diff']:.1e}",
                     f"{r['first_call_s']:.3g}"] if "differing_runs" in r else ["", "", ""])
        sweep_rows.append(row)
    lines += markdown_table(("reading", "runs B", "dtype", "d", "K", "steps", "run-steps/s",
                             "x loop", *(("x NumPy sweep",) if peers else ()),
                             *(("runs differing", "max rel. diff", "first call (s)")
                               if compared else ())), sweep_rows)
    if compared:
        lines += ["", "A peer backend's sweep runs the NumPy sweep's grid (same start points and "
                      "step sizes); it is called once before the timed rounds (first call: a "
                      "compiling backend compiles then), and its table is compared with the "
                      "NumPy sweep's of the same rounds: runs differing = runs whose status or "
                      "stop step differ, whose final gap or gradient norm is finite in one "
                      f"table only or, in float64, differs beyond {JAX_AGREEMENT[0]:g} relative "
                      f"+ {JAX_AGREEMENT[1]:g} (the agreement the JAX backend states); max rel. "
                      "diff = the largest relative difference of those final values."]
    prof = record["sweep_profile"]
    parts = [(label, _ms(prof["seconds"][key])) for key, label in PART_LABELS.items()
             if key in prof["seconds"]]
    for reading in _by_reading(analysis["sweep_steps"]):
        step = analysis["sweep_steps"][reading]
        parts += [(f"sweep step, {reading} (measured)", _ms(step["step_seconds"])),
                  (f"of which runner bookkeeping and the rest, {reading}",
                   _ms(step["rest_seconds"]))]
    lines += ["", f"### Where a sweep step goes (B = {prof['B']:.0e}, d = {prof['d']}, "
                  f"K = {prof['K']}, {prof['dtype']})", "",
              f"Milliseconds per step of the whole batch; the target of "
              f"{_millions(target('sweep.run_steps_per_s').threshold)} run-steps/s "
              f"allows {_ms(allowed_sweep_step_seconds(prof['B']))} ms. The parts are timed "
              f"together (interleaved), the sweep in its own section: the rest is the difference "
              f"of the two, and the machine's drift between sections (up to tens of percent) "
              f"can make it negative.", "",
              *markdown_table(("part", "ms per batch step"), parts)]
    if record.get("torch_matches_numpy") is not None:
        lines += ["", "The PyTorch EMC reference agrees with the core to a relative "
                      f"{record['torch_matches_numpy']:.1e} (one float64 step, every reading)."]
    return "\n".join(lines) + "\n"
