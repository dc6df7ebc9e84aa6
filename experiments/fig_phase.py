r"""Figure: phase diagram of EMC (converged / stalled / diverged) over step size and start-point
scale, one panel per reading of h."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap
from matplotlib.patches import Patch

from . import run_phase
from .benchmark_report import problem_label
from .common import (
    OKABE_ITO,
    TEXT_WIDTH_IN,
    artifact_main,
    as_array,
    load_or_run,
    save_figure,
    sci,
    write_figure_tex,
    write_macros,
)

STEM = "fig_phase"
OUTCOME_COLORS = {"converged": OKABE_ITO["blue"], "stalled": OKABE_ITO["yellow"],
                  "diverged": OKABE_ITO["vermillion"]}
"""Okabe-Ito blue / yellow / vermillion: told apart under every common colour-vision deficiency
and in grey scale (dark / light / middle)."""


def cell_edges(centres: np.ndarray) -> np.ndarray:
    """Edges of log-spaced cells around log-spaced centres."""
    logs = np.log10(centres)
    half = (logs[1] - logs[0]) / 2
    return 10.0 ** np.concatenate([logs - half, [logs[-1] + half]])


def linear_summary(data: dict, lrs: np.ndarray) -> str:
    """Prose on the linear reading's panel: is the outcome the same for every start scale, and
    where does divergence start relative to the frozen-weight thresholds?"""
    outcome = run_phase.outcome_grid(data, "linear")
    invariant = bool(np.all(outcome == outcome[0]))
    diverged = lrs[np.any(outcome == run_phase.OUTCOMES.index("diverged"), axis=0)]
    stable = lrs[np.all(outcome != run_phase.OUTCOMES.index("diverged"), axis=0)]
    low, high = sorted(data["linear_threshold_lr"].values())
    text = ("the outcome of the linear reading is the same for every start scale"
            if invariant else "the outcome of the linear reading depends on the start scale")
    if diverged.size and stable.size:
        last_stable, first_diverged = stable[stable < diverged.min()].max(), diverged.min()
        inside = last_stable <= high and first_diverged >= low
        text += (rf", and it diverges from $\eta = {sci(first_diverged)}$ on (last step size "
                 rf"without divergence ${sci(last_stable)}$), "
                 + ("consistent with" if inside else "outside")
                 + rf" the frozen-weight thresholds $u^\star/L \in [{sci(low)}, {sci(high)}]$")
    return text


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_phase, quick, seed, paths, rerun)
    p, data = record["parameters"], record["data"]
    lrs, scales = as_array(data["lrs"]), as_array(data["scales"])
    cmap = ListedColormap([OUTCOME_COLORS[o] for o in run_phase.OUTCOMES])
    readings = p["readings"]
    fig, axes = plt.subplots(1, len(readings), figsize=(TEXT_WIDTH_IN, 2.6), sharey=True,
                             layout="constrained")
    thresholds = data["linear_threshold_lr"]
    for ax, reading in zip(axes, readings, strict=True):
        outcome = run_phase.outcome_grid(data, reading)
        ax.pcolormesh(cell_edges(lrs), cell_edges(scales), outcome, cmap=cmap, vmin=-0.5,
                      vmax=len(run_phase.OUTCOMES) - 0.5, rasterized=True)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"EMC ({reading})")
        ax.set_xlabel(r"step size $\eta$")
        for name, style in (("uniform", ":"), ("top_entropy", "--")):
            ax.axvline(thresholds[name], color="black", linestyle=style, linewidth=0.9)
    axes[0].set_ylabel(r"start scale $\|x_0 - x^\star\|$")
    handles = [Patch(color=c, label=o) for o, c in OUTCOME_COLORS.items()]
    handles += [plt.Line2D([], [], color="black", linestyle=":",
                           label=r"$u^\star/L$, linear, $\tilde H = 0$"),
                plt.Line2D([], [], color="black", linestyle="--",
                           label=r"$u^\star/L$, linear, $\tilde H = 1$")]
    fig.legend(handles=handles, loc="outside lower center", ncols=5)
    written = save_figure(fig, paths, STEM)

    counts = {r: {o: int(np.sum(run_phase.outcome_grid(data, r) == i))
                  for i, o in enumerate(run_phase.OUTCOMES)} for r in readings}
    macros = {"PhaseLinearSummary": linear_summary(data, lrs)} if "linear" in readings else {}
    total = len(lrs) * len(scales)
    macros.update({"PhaseRuns": str(total), "PhaseSteps": str(p["steps"]), "PhaseK": str(p["K"])})
    for reading in readings:
        for outcome in run_phase.OUTCOMES:
            macros[f"Phase{reading.title()}{outcome.title()}"] = str(counts[reading][outcome])
    described = {"name": p["problem"]["name"], "params": p["problem"]["params"],
                 "d": p["problem"]["params"]["d"]}
    caption = (
        rf"Outcome of EMC ($K = {p['K']}$, entropy \texttt{{{p['entropy']}}}, "
        rf"$\tau = {sci(p['tau'])}$) per reading of $h$ on a rotated {problem_label(described)} "
        rf"(geometric spectrum, $L = {sci(data['L'])}$, $\mu = {sci(data['mu'])}$, problem seed "
        rf"{p['problem']['params']['seed']}), over {p['lr_points']} constant step sizes "
        rf"$\eta \in [10^{{{p['log10_lr'][0]}}}, 10^{{{p['log10_lr'][1]}}}]$ and "
        rf"{p['scale_points']} start scales $s \in [10^{{{p['log10_scale'][0]}}}, "
        rf"10^{{{p['log10_scale'][1]}}}]$ (log-spaced), $x_0 = x^\star + s v$ with one unit "
        rf"direction $v$ from \texttt{{default\_rng({p['seed']})}}, $T = {p['steps']}$ steps. "
        rf"Converged: $f - f^\star \le {sci(p['target_rel_gap'])}\,(f(x_0) - f^\star)$ over the "
        rf"last {sci(100 * p['tail'])}\,\% of the steps; diverged: stopped by the runner "
        r"(growth by its divergence factor, or overflow); stalled: neither (still above the target "
        r"after $T$ steps: too slow, or stuck). Vertical lines: "
        r"stability threshold $u^\star/L$ of the linear reading with weights frozen at "
        r"$\tilde H = 0$ and $\tilde H = 1$ (Table~\ref{tab:stability}). Runs per panel: "
        + ", ".join(rf"{r}: {counts[r]['converged']} converged, {counts[r]['stalled']} stalled, "
                    rf"{counts[r]['diverged']} diverged" for r in readings)
        + f" of {total}.")
    written.append(write_figure_tex(paths, STEM, caption, "fig:phase"))
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
