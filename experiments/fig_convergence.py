r"""Figure: convergence curves :math:`f(x_t) - f^\star` and :math:`\|\nabla f(x_t)\|` (log scale)
of EMC under each reading beside the baselines, every method with its tuned step size."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import run_benchmark
from .benchmark_report import method_hyperparameters_tex, ordered, problem_label, protocol_tex
from .common import (
    TEXT_WIDTH_IN,
    artifact_main,
    as_array,
    load_or_run,
    method_style,
    save_figure,
    sci,
    write_figure_tex,
)

STEM = "fig_convergence"
PLOT_FLOOR = 1e-17
"""Values below this (rounding level; f - f* <= 0 happens for a computed f*) are not drawn."""


def drawable(curve) -> np.ndarray:
    """A record's curve with values below the plot floor (or NaN) masked."""
    arr = as_array(curve)
    with np.errstate(invalid="ignore"):
        return np.where(arr > PLOT_FLOOR, arr, np.nan)


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_benchmark, quick, seed, paths, rerun)
    p = record["parameters"]
    n_problems = len(p["problems"])
    fig, axes = plt.subplots(n_problems, 2, figsize=(TEXT_WIDTH_IN, 1.3 * n_problems + 0.6),
                             layout="constrained", sharex=True)
    for row, (prob, methods) in enumerate(ordered(record)):
        for _, method in methods:
            style = method_style(method["optimizer"])
            steps = np.arange(len(method["f_gap_median"]))
            axes[row, 0].plot(steps, drawable(method["f_gap_median"]), **style)
            axes[row, 1].plot(steps, drawable(method["grad_norm_median"]), **style)
        axes[row, 0].set_ylabel(r"$f(x_t) - f^\star$")
        axes[row, 1].set_ylabel(r"$\|\nabla f(x_t)\|$")
        for ax in axes[row]:
            ax.set_yscale("log")
            ax.set_title(problem_label(prob["describe"]), fontsize=7, pad=2)
            ax.set_xlim(0, p["steps"])
    for ax in axes[-1]:
        ax.set_xlabel("step $t$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center", ncols=4)
    written = save_figure(fig, paths, STEM)
    caption = (
        rf"Convergence on {n_problems} convex problems of "
        rf"{method_hyperparameters_tex(p['methods'])}; each at its tuned step size (tuned values "
        r"in Table~\ref{tab:steps}). " + protocol_tex(p) + r" Curves: median over the start "
        r"points of $f(x_t) - f^\star$ (left) and $\|\nabla f(x_t)\|$ (right), log scale; "
        rf"values below ${sci(PLOT_FLOOR)}$ (rounding level) are not drawn. The protocol scores "
        r"the steps to the target only, so a curve may rise again after reaching it.")
    written.append(write_figure_tex(paths, STEM, caption, "fig:convergence"))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
