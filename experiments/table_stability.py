r"""Table: stability thresholds of :math:`u = \eta\lambda` for EMC's linear reading with frozen
weights, theory against the simulated brackets."""
from __future__ import annotations

from . import run_stability
from .common import artifact_main, count_word, load_or_run, sci, write_macros, write_table_tex
from .fig_stability import caption_conditions

STEM = "table_stability"
DIGITS = 6


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    record = load_or_run(run_stability, quick, seed, paths, rerun)
    p, data = record["parameters"], record["data"]
    settings = list(run_stability.WEIGHT_SETTINGS)
    rows, in_bracket, worst = [], 0, 0.0
    for K in p["K"]:
        row = [str(K)]
        for name in settings:
            s = data[str(K)][name]
            low, high = s["bracket"]
            row += [f"${sci(s['theory'], DIGITS)}$",
                    f"$[{sci(low, DIGITS)}, {sci(high, DIGITS)}]$",
                    f"${sci(s['relative_difference'], 2)}$"]
            in_bracket += s["theory_in_bracket"]
            worst = max(worst, abs(s["relative_difference"]))
        rows.append(row)
    total = len(p["K"]) * len(settings)
    header = [r"$K$", r"\multicolumn{3}{c}{$\tilde H = 0$: $\alpha_k = 1/K$}",
              r"\multicolumn{3}{c}{$\tilde H = 1$: $\alpha_k \propto e^{k/K}$}"]
    sub = ["", r"theory $u^\star$", "simulated bracket", "rel.\\ diff.",
           r"theory $u^\star$", "simulated bracket", "rel.\\ diff."]
    caption = (
        r"Stability threshold $u^\star$ of $u = \eta\lambda$ for EMC's linear reading with frozen "
        r"weights: theory (\texttt{proofs.linear\_stability.stability\_threshold}) and the "
        r"simulated bracket (last stable, first unstable $u$); rel.\ diff.: (bracket midpoint "
        rf"$-$ theory)/theory. The theory value lies inside the bracket in {in_bracket} of "
        rf"{total} cases. " + caption_conditions(p))
    written = [write_table_tex(paths, STEM, "@{}r rlr rlr@{}", [header, sub], rows, caption,
                               "tab:stability", size=r"\scriptsize",
                               header_rule=r"\cmidrule(lr){2-4}\cmidrule(lr){5-7}")]
    macros = {"StabilityKmin": str(min(p["K"])), "StabilityKmax": str(max(p["K"])),
              "StabilityInBracket": count_word(in_bracket), "StabilityCases": count_word(total),
              "StabilityWorstRelDiff": sci(worst, 2), "StabilitySteps": str(p["steps"]),
              "StabilityUstarUniformKmax": sci(data[str(max(p["K"]))]["uniform"]["theory"], 4),
              "StabilityUstarTopKmax": sci(data[str(max(p["K"]))]["top_entropy"]["theory"], 4)}
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
