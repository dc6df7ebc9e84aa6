r"""Table: steps to reach the target gap :math:`f - f^\star \le \varepsilon (f(x_0) - f^\star)`
per method and problem, with each method's tuned step size."""
from __future__ import annotations

import re

import numpy as np

from emc_theory.render import tex_escape

from . import run_benchmark
from .benchmark_report import PROBLEM_LABELS, method_hyperparameters_tex, ordered, protocol_tex
from .common import (
    artifact_main,
    count_word,
    load_or_run,
    method_style,
    sci,
    stacked,
    write_macros,
    write_table_tex,
)
from .run_benchmark import lr_grid

STEM = "table_steps"


def macro_suffix(method_key: str) -> str:
    """``emc-power`` -> ``Power``, ``heavy_ball`` -> ``HeavyBall``: letters for macro names."""
    return "".join(part.title() for part in re.split(r"[-_]", method_key.removeprefix("emc-")))


def cell(method: dict, steps: int) -> str:
    """``median steps`` (or ``$>T$``)."""
    reached = method["median_steps_to_target"] <= steps
    return f"{method['median_steps_to_target']:.0f}" if reached else f"$>{steps}$"


def step_cell(method: dict) -> str:
    """The tuned step size as a power of ten (the grid is log-spaced), in parentheses; a dagger
    marks a grid edge."""
    edge = r"{}^\dagger" if method["lr_at_grid_edge"] else ""
    return rf"($10^{{{round(float(np.log10(method['lr'])), 2):g}}}{edge}$)"


def ended_below_target(problem: dict, method: dict, target_rel_gap: float) -> bool:
    """Whether the method's gap at the end of the budget is below the target, in the median over
    the start points (a run may reach the target and rise above it again: a cycle, a stall at
    rounding level)."""
    ratios = [float("inf") if final is None else final / initial if initial > 0 else 0.0
              for final, initial in zip(method["final_gap"], problem["initial_gap"], strict=True)]
    return bool(np.median(ratios) <= target_rel_gap)


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_benchmark, quick, seed, paths, rerun)
    p = record["parameters"]
    steps = p["steps"]
    columns = list(ordered(record))
    method_keys = [key for key, _ in columns[0][1]]
    labels = {key: method_style(m["optimizer"])["label"] for key, m in columns[0][1]}
    rows = []
    for i, key in enumerate(method_keys):
        rows.append([(r"\addlinespace " if i else "") + tex_escape(labels[key])]
                    + [cell(dict(methods)[key], steps) for _, methods in columns])
        rows.append([""] + [step_cell(dict(methods)[key]) for _, methods in columns])
    header = ["Method"] + [stacked(tex_escape(PROBLEM_LABELS[prob["describe"]["name"]]))
                           for prob, _ in columns]
    reached = {key: sum(dict(methods)[key]["median_steps_to_target"] <= steps
                        for _, methods in columns) for key in method_keys}
    ended = {key: sum(ended_below_target(prob, dict(methods)[key], p["target_rel_gap"])
                      for prob, methods in columns) for key in method_keys}
    fastest = []
    for prob, methods in columns:
        best = min(m["median_steps_to_target"] for _, m in methods)
        winners = [labels[k] for k, m in methods if m["median_steps_to_target"] == best]
        if best <= steps:
            fastest.append(f"{PROBLEM_LABELS[prob['describe']['name']]}: {' and '.join(winners)}")
    edges = sum(m["lr_at_grid_edge"] for _, methods in columns for _, m in methods)
    n_lr = lr_grid(p["lr_grid"]).size
    macros = {
        "BenchSteps": str(steps), "BenchTargetRelGap": sci(p["target_rel_gap"]),
        "BenchProblems": count_word(len(columns)), "BenchMethods": count_word(len(method_keys)),
        "BenchLrCount": str(n_lr), "BenchStarts": str(p["starts"]), "BenchSeed": str(p["seed"]),
        "BenchGridEdges": count_word(edges),
        "BenchFastest": tex_escape("; ".join(fastest)) if fastest else "no method",
    }
    for key in method_keys:
        macros["BenchReached" + macro_suffix(key)] = count_word(reached[key])
        macros["BenchEnded" + macro_suffix(key)] = count_word(ended[key])
    caption = (
        rf"Median number of steps (over the start points) to reach $f - f^\star \le "
        rf"{sci(p['target_rel_gap'])}\,(f(x_0) - f^\star)$ within $T = {steps}$ steps and, "
        rf"below it in parentheses, the tuned constant step $\eta$; $>{steps}$: not reached; "
        r"$^\dagger$: "
        r"the tuned $\eta$ is at an end of the grid. Methods: "
        + method_hyperparameters_tex(p["methods"]) + ". " + protocol_tex(p)
        + " Problems as in Figure~\\ref{fig:convergence}.")
    written = write_table_tex(paths, STEM, "@{}l" + "r" * len(columns) + "@{}", header, rows,
                              caption, "tab:steps", size=r"\scriptsize",
                              tabular_size=r"\footnotesize")
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
