"""The benchmark record as text: ``bench.md`` (:func:`render_markdown`) and the README's
``## Benchmark`` section (:func:`render_readme`, :func:`update_readme`). The record is keyed by
identifiers; the human labels of cases, parts and targets live here (and in the targets' own
label templates, :data:`emc_app.bench.analysis.TARGETS`). Tables go through
:func:`emc_theory.render.markdown_table`; orders are fixed here, never taken from the JSON's
(sorted) key order."""
from __future__ import annotations

from pathlib import Path

from emc_theory.emc import READINGS
from emc_theory.render import markdown_table

from .analysis import allowed_sweep_step_seconds, case_reading, target
from .cases import BARE_LOOP, FLOOR, LOOP, emc_case_id

PART_LABELS = {"problem.value_and_grad": "problem value and gradient",
               "problem.product": "the problem's d x d product", "entropy": "entropy pass",
               "np.log": "one np.log pass", "np.exp": "one np.exp pass",
               "np.power": "one np.power pass", "floor.buffers": "memory floor of the K buffers",
               emc_case_id("power"): "EMC step (power)",
               emc_case_id("linear"): "EMC step (linear)"}
"""Labels of the parts of a step, in the order the tables list them."""
SHARE_LABELS = {"entropy": "entropy pass (one log per element)",
                "cascade": "cascade update and weighted sum",
                "reading": "power reading (log, exp, copysign)"}
SWEEP_LABELS = {LOOP: "loop of single runs", BARE_LOOP: "bare loop (no runner)"}
FLOOR_TEXT = {FLOOR: ("an in-place pass over the (2K+3)d floats a step touches",
                      "an in-place pass over the (2K+3)d floats of the step")}
"""Per floor case: how the README and ``bench.md`` describe it (the record's ``reference``)."""
_PEER_LABELS = {"torch.sgd_momentum": "torch SGD momentum", "torch.adam": "torch Adam"}


def case_label(case: str) -> str:
    """The column label of a step case id (the id itself for a case without one)."""
    if case == FLOOR:
        return "floor"
    reading = case_reading(case)
    if reading is not None:
        variant = case.split(".", 2)[2] if case.count(".") == 2 else ""
        return f"EMC {reading}" + (" (in place)" if variant == "inplace" else
                                   f" ({variant})" if variant else "")
    if case.startswith("torch.emc."):
        return f"torch EMC {case.split('.')[2]}"
    return _PEER_LABELS.get(case, case)


def _by_reading(keys) -> list:
    return sorted(keys, key=lambda k: (READINGS.index(k) if k in READINGS else len(READINGS), k))


def _k_cases(in_k: dict) -> list:
    """The K series' cases: EMC readings in :data:`READINGS` order, then the rest (the floor)."""
    emc = sorted((c for c in in_k if case_reading(c)), key=lambda c: READINGS.index(
        case_reading(c)))
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


def _floor_text(record: dict) -> tuple:
    return FLOOR_TEXT[record["meta"].get("reference", FLOOR)]


def _header(record: dict) -> str:
    meta = record["meta"]
    return (f"{meta['machine']['cpu']}, {meta['machine']['cores']} cores, one thread pinned; "
            f"numpy {meta['machine']['numpy']}, torch {meta['torch'] or 'not installed'}; "
            f"{meta['rounds']} interleaved rounds, medians; load average before/after "
            f"{meta['load_before']} / {meta['load_after']}; {meta['date']}"
            + (" (quick settings)" if meta["quick"] else "") + ".")


def _targets_table(record: dict) -> list:
    rows = []
    for t in record["analysis"]["targets"]:
        measured = t["measured"]
        shown = (f"{measured[0]:.2f}..{measured[1]:.2f}" if isinstance(measured, list)
                 else f"{measured:.3g}")
        rows.append((target(t["id"]).text(t["subject"]), shown, "yes" if t["met"] else "no"))
    return markdown_table(("target", "measured", "met"), rows)


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


def _reach_lines(record: dict) -> list:
    """Sentences on the two targets' reach (the analysis' ``reach`` section)."""
    found = record["analysis"]["reach"]
    prof, k = record["sweep_profile"], found["K_exponent"]
    throughput = _millions(target("sweep.run_steps_per_s").threshold)
    sweep = "; ".join(
        f"{reading} {_ms(found['sweep'][reading]['least_step_seconds'])} ms, so at most "
        f"{found['sweep'][reading]['most_run_steps_per_s']:.3g} run-steps/s"
        for reading in _by_reading(found["sweep"]))
    lines = [f"Sweep throughput: the parts of a batch step (B = {prof['B']:.0e}, d = {prof['d']}, "
             f"K = {prof['K']}, {prof['dtype']}) that no NumPy step can skip, each measured as its "
             f"own pass (the problem's d x d product, the per-element log/exp the reading needs, "
             f"the K buffers' memory floor), add up to: {sweep}; {throughput} run-steps/s allows "
             f"{_ms(allowed_sweep_step_seconds(prof['B']))} ms per batch step."]
    band = (f"a step with that fixed part would need {_ms(k['per_level_seconds_for_band'])} ms "
            f"per level, {k['per_level_over_floor_for_band']:.1f}x the floor's, to reach "
            f"{target('exponent.K').threshold[0]}" if k["per_level_seconds_for_band"] is not None
            else "that is inside the band")
    in_k = record["analysis"]["exponents"]["in_K"]
    per_level = [v["affine"]["b"] / k["floor_per_level_seconds"]
                 for case, v in in_k.items() if case_reading(case)]
    lines.append(f"Exponent in K: the leanest conceivable step, the memory floor's "
                 f"{_ms(k['floor_per_level_seconds'])} ms per level plus one `np.log` pass over d "
                 f"({_ms(k['log_pass_seconds'])} ms) as its only fixed part, has exponent "
                 f"{k['lean_step_exponent']:.2f} over K in {k['K']}; {band}. The EMC steps "
                 f"measured cost {min(per_level):.2f}x to {max(per_level):.2f}x the floor's per "
                 f"level.")
    return lines


def render_readme(record: dict) -> str:
    """The README's benchmark section: the targets, the steps at the step targets' d and dtype
    and what the misses come from, all from the record (``emc-theory bench --readme
    README.md``)."""
    where = target("step.power.over_floor").where
    analysis = record["analysis"]
    lines = ["## Benchmark", "",
             "`emc-theory bench` measures the core side by side with a memory floor and PyTorch "
             "peers (optional extra `bench`), one thread pinned, interleaved rounds, medians of "
             "paired ratios; full tables in `results/bench.md`, the record in "
             "`results/bench.json`; `emc-theory bench --readme README.md` rewrites this "
             "section from the new record. Latest run: " + _header(record), "",
             "### Targets (issue 7)", "", *_targets_table(record), "",
             f"One step at d = {_power_of_ten(where['d'])}, {where['dtype']}, in milliseconds "
             "(median; in brackets the paired ratio to the memory floor, "
             f"{_floor_text(record)[0]}):", "",
             *_steps_table(record, lambda dtype, d: dtype == where["dtype"] and d == where["d"])]
    prof, in_k = record["sweep_profile"], analysis["exponents"]["in_K"]
    steps = analysis["sweep_steps"]
    if steps:
        sec = prof["seconds"]
        lines += ["", f"Where the sweep's time goes (B = {prof['B']:.0e}, d = {prof['d']}, "
                      f"K = {prof['K']}): one step of the batch takes "
                      + " and ".join(f"{_ms(steps[r]['step_seconds'])} ms ({r})"
                                     for r in _by_reading(steps))
                      + f" where {_millions(target('sweep.run_steps_per_s').threshold)} "
                      f"run-steps/s allows {_ms(allowed_sweep_step_seconds(prof['B']))} ms; "
                      f"the EMC step alone takes {_ms(sec[emc_case_id('power')])} ms (power) and "
                      f"{_ms(sec[emc_case_id('linear')])} ms (linear), one float64 `np.log` pass "
                      f"over the batch {_ms(sec['np.log'])} ms (the power reading needs "
                      f"three such log/exp passes, the entropy one), the problem's value and "
                      f"gradient {_ms(sec['problem.value_and_grad'])} ms."]
    k_d = record["k_series"][0]["d"]
    lines += ["", f"Step time is affine in K at d = {_power_of_ten(k_d)}: " + "; ".join(
        f"{case_reading(c)} {_ms(in_k[c]['affine']['a'])} ms + {_ms(in_k[c]['affine']['b'])} "
        "ms per level" for c in _k_cases(in_k) if case_reading(c))
        + (f". The memory floor itself has exponent {in_k[FLOOR]['exponent']:.2f} in K over "
           "the same K" if FLOOR in in_k else "")
        + ", so an exponent near 1 would need a step with almost no part independent of K."]
    for text in _reach_lines(record):
        lines += ["", text]
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
    path.write_text(text[:start] + render_readme(record) + rest)


def render_markdown(record: dict) -> str:
    """The record's tables (``bench.md``)."""
    analysis = record["analysis"]
    lines = ["## Benchmark (`emc-theory bench`)", "", _header(record), "",
             "### Targets (issue 7)", "", *_targets_table(record)]
    lines += ["", "### What the missed targets would need"]
    for text in _reach_lines(record):
        lines += ["", text]
    lines += ["", "### One step against the memory floor",
              "", "Milliseconds per step (median); in brackets the median paired ratio to the "
              f"floor, {_floor_text(record)[1]}.", "",
              *_steps_table(record)]
    exps = analysis["exponents"]
    in_d = ", ".join(f"{case_reading(r['case'])} K={r['K']} {r['dtype']} {r['exponent']:.2f}"
                     for r in exps["in_d"])
    in_k_rows = []
    for case in _k_cases(exps["in_K"]):
        v = exps["in_K"][case]
        a = v["affine"]
        label = "memory floor, (2K+3)d floats" if case == FLOOR else case_reading(case) or case
        in_k_rows.append((label, f"{v['exponent']:.2f}", _ms(a["a"]), _ms(a["b"]),
                          f"{a['max_rel_residual']:.3f}"))
    lines += ["", "### Scaling (claim C1)", "",
              f"Exponent of step time in d over d in {exps['d_range']}: {in_d}.", "",
              *markdown_table(("reading", "exponent in K", "affine fit t = a + bK: a (ms)",
                               "b (ms per level)", "max rel. residual"), in_k_rows)]
    ks = sorted({r["K"] for r in record["k_series"]})
    lines += ["", f"Over K in {ks} at d = {record['k_series'][0]['d']:.0e}. Even the memory "
                  "floor is affine in K (its fixed part is the 3d floats of the gradient, the "
                  "update and the scratch), so its power-law exponent is below 1 over this range."]
    prof = record["profile"]
    shares = analysis["profile_shares"]
    lines += ["", f"### Where a step's time goes (d = {prof['d']:.0e}, K = {prof['K']}, "
                  f"{prof['dtype']})", "",
              *markdown_table(("part", "share of the power step"),
                              [(label, f"{shares[key]:.0%}") for key, label in
                               SHARE_LABELS.items()])]
    ns = {k: v / prof["d"] * 1e9 for k, v in prof["seconds"].items()}
    lines += ["", f"One `np.log` pass: {ns['np.log']:.2f} ns/element, one `np.exp` pass: "
              f"{ns['np.exp']:.2f} ns/element; power step {ns[emc_case_id('power')]:.2f} "
              "ns/element.", "", "### Batched sweep against a Python loop of runs", ""]
    sweep_rows = []
    for r in record["sweep"]:
        label = SWEEP_LABELS.get(r["case"], str(r["B"]))
        over = f"{r['over_loop']:.1f}" if "over_loop" in r else ""
        sweep_rows.append((r["reading"], label, r["dtype"], r["d"], r["K"], r["steps"],
                           f"{r['run_steps_per_s']:.3g}", over))
    lines += markdown_table(("reading", "runs B", "dtype", "d", "K", "steps", "run-steps/s",
                             "x loop"), sweep_rows)
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

