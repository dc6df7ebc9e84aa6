r"""Figure: normalised gradient entropy :math:`\tilde H_t`, the power
:math:`\gamma_t = 2 - \tilde H_t` and the effective memory along EMC's tuned trajectories of the
convergence benchmark."""
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
    write_macros,
)

STEM = "fig_entropy"


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_benchmark, quick, seed, paths, rerun)
    p = record["parameters"]
    emc_methods = [m for m in p["methods"] if m["name"] == "emc"]
    n_rows = len(p["problems"])
    fig, axes = plt.subplots(n_rows, 2, figsize=(TEXT_WIDTH_IN, 1.25 * n_rows + 0.5),
                             layout="constrained", sharex=True)
    lowest_ht, stats = {}, []
    for row, (prob, methods) in enumerate(ordered(record)):
        for key, method in methods:
            if "normalized_entropy" not in method:
                continue
            style = method_style(method["optimizer"])
            ht = as_array(method["normalized_entropy"])      # first start point
            steps = np.arange(1, ht.size + 1)
            axes[row, 0].plot(steps, ht, **style)
            axes[row, 1].plot(steps, as_array(method["effective_memory"]), **style)
            lowest_ht[key] = min(lowest_ht.get(key, 1.0), float(np.nanmin(ht)))
            stats.append(float(np.nanmedian(ht)))
        ax_h, ax_m = axes[row]
        ax_h.set_ylim(-0.02, 1.02)
        ax_h.set_ylabel(r"$\tilde H_t$")
        gamma_axis = ax_h.secondary_yaxis("right", functions=(lambda h: 2 - h, lambda g: 2 - g))
        gamma_axis.set_ylabel(r"$\gamma_t = 2 - \tilde H_t$")
        ax_m.set_ylabel(r"$T_{\mathrm{eff}} = \sum_k \alpha_k 2^k$")
        for ax in axes[row]:
            ax.set_title(problem_label(prob["describe"]), fontsize=7, pad=2)
            ax.set_xlim(1, p["steps"])
    for ax in axes[-1]:
        ax.set_xlabel("step $t$")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside upper center",
               ncols=len(emc_methods))
    written = save_figure(fig, paths, STEM)
    K = emc_methods[0]["K"]
    macros = {"EntropyMedianMin": sci(min(stats), 2), "EntropyMedianMax": sci(max(stats), 2),
              "EntropyLowest": sci(min(lowest_ht.values()), 2), "BenchK": str(K)}
    caption = (
        r"Normalised gradient entropy $\tilde H_t = H(g_t)/\log d$ with $\gamma_t = 2 - "
        r"\tilde H_t$ on the right axis (left), and the effective memory $T_{\mathrm{eff}} = "
        r"\sum_k \alpha_k 2^k$ (right), along the tuned trajectories of "
        r"Figure~\ref{fig:convergence} (first start point) of "
        + method_hyperparameters_tex(emc_methods) + ". " + protocol_tex(p)
        + rf" Across problems and readings the median of $\tilde H_t$ over a trajectory lies "
        rf"between ${macros['EntropyMedianMin']}$ and ${macros['EntropyMedianMax']}$; its lowest "
        rf"value is ${macros['EntropyLowest']}$. Once $f - f^\star$ reaches rounding level the "
        r"gradient is rounding noise and so is $\tilde H_t$.")
    written.append(write_figure_tex(paths, STEM, caption, "fig:entropy"))
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
