r"""Figure: cascade weights :math:`\alpha_k(\tilde H)` and effective memory
:math:`T_{\mathrm{eff}}(\tilde H) = \sum_k \alpha_k 2^k` for each K (Propositions 1-2)."""
from __future__ import annotations

import matplotlib.pyplot as plt
from matplotlib.ticker import NullFormatter, ScalarFormatter

from . import run_weights
from .common import (
    LINE_STYLES,
    TEXT_WIDTH_IN,
    artifact_main,
    as_array,
    load_or_run,
    save_figure,
    sci,
    write_figure_tex,
    write_macros,
)

STEM = "fig_weights"
LEVEL_STYLES = tuple(LINE_STYLES.values())
"""A dash pattern per level (and per K in the bottom panel), beside the colour."""


def level_style(k: int):
    return LEVEL_STYLES[(k - 1) % len(LEVEL_STYLES)]


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_weights, quick, seed, paths, rerun)
    p, data = record["parameters"], record["data"]
    ht = as_array(data["ht"])
    Ks = p["K"]
    fig = plt.figure(figsize=(TEXT_WIDTH_IN, 4.0), layout="constrained")
    top_fig, bottom_fig = fig.subfigures(2, 1, height_ratios=[1.0, 1.1])
    top_axes = top_fig.subplots(1, len(Ks), sharey=True)
    ax_mem, ax_key = bottom_fig.subplots(1, 2, width_ratios=[3, 2])
    cmap = plt.get_cmap("viridis")
    # viridis (sequential, colour-blind safe) without its lightest yellow, legible on white
    color = {k: cmap(0.85 * (k - 1) / (max(Ks) - 1)) for k in range(1, max(Ks) + 1)}
    top = max(max(map(max, data["per_K"][str(K)]["weights"])) for K in Ks)
    for col, (K, ax) in enumerate(zip(Ks, top_axes, strict=True)):
        for k, w in enumerate(as_array(data["per_K"][str(K)]["weights"]), start=1):
            ax.plot(ht, w, color=color[k], linestyle=level_style(k))
        ax.set_title(f"$K={K}$")
        ax.set_xlabel(r"$\tilde H$")
        ax.set_ylim(0, 1.08 * top)
        ax.set_xlim(0, 1)
        if col == 0:
            ax.set_ylabel(r"weight $\alpha_k$")
    for K in Ks:
        memory = as_array(data["per_K"][str(K)]["effective_memory"])
        ax_mem.plot(ht, memory, color=color[K], linewidth=1.6, linestyle=level_style(K))
        ax_mem.annotate(f"$K={K}$", (1.0, memory[-1]), xytext=(3, 0),
                        textcoords="offset points", va="center", fontsize=7)
    ax_mem.set_yscale("log")
    ax_mem.yaxis.set_major_formatter(ScalarFormatter())
    ax_mem.yaxis.set_minor_formatter(NullFormatter())
    ax_mem.set_yticks([2, 4, 8, 16, 32])
    ax_mem.set_xlim(0, 1)
    ax_mem.set_xlabel(r"normalised gradient entropy $\tilde H = H/\log d$")
    ax_mem.set_ylabel("effective memory\n" + r"$T_{\mathrm{eff}} = \sum_k \alpha_k 2^k$ (steps)")
    ax_key.axis("off")
    ax_key.legend(handles=[plt.Line2D([], [], color=color[k], linestyle=level_style(k),
                                      label=rf"$k={k}$: memory $2^{{{k}}}$") for k in color],
                  loc="center", title="level $k$ (top row)\nand $K$ (bottom)")
    written = save_figure(fig, paths, STEM)

    per_K = data["per_K"]
    k_max = str(max(Ks))
    increasing = all(per_K[str(K)]["memory_increasing"] for K in Ks)
    top_level_at_one = all(per_K[str(K)]["argmax_level_at_1"] == K for K in Ks)
    memory = {K: as_array(per_K[str(K)]["effective_memory"]) for K in Ks}
    macros = {
        "WeightsKmin": str(min(Ks)), "WeightsKmax": str(max(Ks)), "WeightsTau": sci(p["tau"]),
        "WeightsGridPoints": str(p["ht_points"]),
        "WeightsMemoryTrend": "increases" if increasing else "is not monotone increasing",
        "WeightsTopLevelAtOne": ("the longest-memory level $k=K$" if top_level_at_one
                                 else "not always the level $k=K$"),
        "WeightsMemAtZeroKmax": sci(memory[max(Ks)][0], 3),
        "WeightsMemAtOneKmax": sci(memory[max(Ks)][-1], 3),
    }
    caption = (
        rf"Top: cascade weights $\alpha_k(\tilde H) \propto \exp(\lambda_k \tilde H/\tau)$, "
        rf"$\lambda_k = k/K$, $\tau = {sci(p['tau'])}$, for $K = {min(Ks)},\dots,{max(Ks)}$ "
        rf"on {p['ht_points']} equally spaced values of $\tilde H \in [0, 1]$; level $k$ has "
        r"$\beta_k = 1 - 2^{-k}$, i.e.\ memory $1/(1-\beta_k) = 2^k$ steps, so larger $k$ is "
        r"\emph{longer} memory. Bottom: effective memory $T_{\mathrm{eff}} = \sum_k \alpha_k 2^k$ "
        rf"(log scale). At $\tilde H = 0$ the weights are uniform ($1/K$); as $\tilde H$ grows "
        rf"$T_{{\mathrm{{eff}}}}$ {macros['WeightsMemoryTrend']} for every $K$ shown "
        rf"(for $K = {k_max}$ from ${macros['WeightsMemAtZeroKmax']}$ to "
        rf"${macros['WeightsMemAtOneKmax']}$ steps). The formulas need no reading of $h$ and "
        r"no random draw.")
    written.append(write_figure_tex(paths, STEM, caption, "fig:weights"))
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
