r"""Figure: stability threshold of :math:`u = \eta\lambda` against K for EMC's linear reading with
frozen weights: theory (:mod:`proofs.linear_stability`) as lines, simulated brackets on top."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from . import run_stability
from .common import (
    OKABE_ITO,
    TEXT_WIDTH_IN,
    artifact_main,
    load_or_run,
    save_figure,
    sci,
    write_figure_tex,
)

STEM = "fig_stability"
SETTING_STYLE = {
    "uniform": {"color": OKABE_ITO["blue"], "marker": "o", "linestyle": "-",
                "label": r"$\tilde H = 0$: $\alpha_k = 1/K$"},
    "top_entropy": {"color": OKABE_ITO["vermillion"], "marker": "s", "linestyle": "--",
                    "label": r"$\tilde H = 1$: $\alpha_k \propto e^{k/K}$"},
}


def settings_series(record: dict):
    """Per weight setting: K values, theory, simulated midpoints and bracket half-widths."""
    data = record["data"]
    Ks = record["parameters"]["K"]
    for name in run_stability.WEIGHT_SETTINGS:
        rows = [data[str(K)][name] for K in Ks]
        yield name, {
            "K": np.array(Ks), "theory": np.array([r["theory"] for r in rows]),
            "simulated": np.array([r["simulated"] for r in rows]),
            "half_width": np.array([(r["bracket"][1] - r["bracket"][0]) / 2 for r in rows]),
        }


def caption_conditions(p: dict) -> str:
    return (rf"Simulation: EMC (reading linear, entropy \texttt{{{p['entropy']}}}, "
            rf"$\tau = {sci(p['tau'])}$) on $f(x) = \frac{{\lambda}}{{2}}\|x\|^2$, "
            rf"$\lambda = {sci(p['curvature'])}$, $d = {p['d']}$, from $x_0 = e_1$ (every gradient "
            r"along $e_1$: $\tilde H_t = 0$) and from $x_0 = (1,\dots,1)/\sqrt d$ "
            r"($\tilde H_t = 1$), constant step $\eta = u/\lambda$, "
            rf"$T = {p['steps']}$ steps; stable means no divergence and $\max_{{t \ge 3T/4}} f "
            rf"\le \max_{{T/4 \le t < T/2}} f$. The threshold is bracketed on "
            rf"{p['coarse_points']} log-spaced $u \in [{sci(p['u_low'])}, {sci(p['u_high'])}]$, "
            rf"then refined {p['refinements']} times on {p['refine_points']} linearly spaced "
            rf"values; deterministic (no random draw, seed {p['seed']}).")


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_stability, quick, seed, paths, rerun)
    p = record["parameters"]
    fig, (ax, ax_rel) = plt.subplots(1, 2, figsize=(TEXT_WIDTH_IN, 2.6), layout="constrained",
                                     width_ratios=[1.4, 1])
    for name, s in settings_series(record):
        style = SETTING_STYLE[name]
        ax.plot(s["K"], s["theory"], color=style["color"], linewidth=1.2,
                linestyle=style["linestyle"], label=style["label"] + " (theory)")
        ax.errorbar(s["K"], s["simulated"], yerr=s["half_width"], linestyle="none",
                    marker=style["marker"], markerfacecolor="none", markersize=6, capsize=2,
                    color=style["color"], label=style["label"] + " (simulated)")
        rel = (s["simulated"] - s["theory"]) / s["theory"]
        ax_rel.errorbar(s["K"], rel, yerr=s["half_width"] / s["theory"], linestyle="none",
                        marker=style["marker"], markerfacecolor="none", capsize=2,
                        color=style["color"])
    ax.set_xlabel("cascade levels $K$")
    ax.set_ylabel(r"threshold $u^\star$ of $u = \eta\lambda$")
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=6)
    ax_rel.axhline(0.0, color="black", linewidth=0.8)
    ax_rel.set_xlabel("cascade levels $K$")
    ax_rel.set_ylabel(r"(simulated $-$ theory) / theory")
    ax_rel.ticklabel_format(axis="y", style="sci", scilimits=(-2, 2), useMathText=True)
    for a in (ax, ax_rel):
        a.set_xticks(p["K"])
    written = save_figure(fig, paths, STEM)
    caption = (
        r"Stability threshold $u^\star$ of $u = \eta\lambda$ for EMC's linear reading "
        r"($h = \tilde m$) with the weights frozen, against the number of levels $K$. Lines: "
        r"theory, the first crossing of the unit circle by an eigenvalue of the companion matrix "
        r"(\texttt{proofs.linear\_stability.stability\_threshold}). Markers: simulated thresholds, "
        r"bracket midpoints with the bracket as error bar; right: relative difference. "
        + caption_conditions(p))
    written.append(write_figure_tex(paths, STEM, caption, "fig:stability"))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
