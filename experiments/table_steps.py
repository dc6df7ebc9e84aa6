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
    write_macros,
    write_table_tex,
)
from .run_benchmark import lr_grid

STEM = "table_steps"


def macro_suffix(method_key: str) -> str:
    """``emc-power`` -> ``Power``, ``heavy_ball`` -> ``HeavyBall``: letters for macro names."""
    return "".join(part.title() for part in re.split(r"[-_]", method_key.removeprefix("emc-")))


def cell(method: dict, steps: int) -> str:
    """``median steps`` (or ``$>T$``) and the tuned step size as a power of ten (the grid is
    log-spaced); a dagger marks a grid edge."""
    reached = method["median_steps_to_target"] <= steps
    count = f"{method['median_steps_to_target']:.0f}" if reached else f"$>{steps}$"
    edge = r"{}^\dagger" if method["lr_at_grid_edge"] else ""
    return rf"{count} ($10^{{{round(float(np.log10(method['lr'])), 2):g}}}{edge}$)"


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_benchmark, quick, seed, paths, rerun)
    p = record["parameters"]
    steps = p["steps"]
    columns = list(ordered(record))
    method_keys = [key for key, _ in columns[0][1]]
    labels = {key: method_style(m["optimizer"])["label"] for key, m in columns[0][1]}
    rows = []
    for key in method_keys:
        rows.append([tex_escape(labels[key])]
                    + [cell(dict(methods)[key], steps) for _, methods in columns])
    header = ["Method"] + [tex_escape(PROBLEM_LABELS[prob["describe"]["name"]])
                           for prob, _ in columns]
    reached = {key: sum(dict(methods)[key]["median_steps_to_target"] <= steps
                        for _, methods in columns) for key in method_keys}
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
    caption = (
        rf"Median number of steps (over the start points) to reach $f - f^\star \le "
        rf"{sci(p['target_rel_gap'])}\,(f(x_0) - f^\star)$ within $T = {steps}$ steps and, in "
        rf"parentheses, the tuned constant step $\eta$; $>{steps}$: not reached; $^\dagger$: "
        r"the tuned $\eta$ is at an end of the grid. Methods: "
        + method_hyperparameters_tex(p["methods"]) + ". " + protocol_tex(p)
        + " Problems as in Figure~\\ref{fig:convergence}.")
    written = [write_table_tex(paths, STEM, "@{}l" + "r" * len(columns) + "@{}", header, rows,
                               caption, "tab:steps", size=r"\scriptsize")]
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
