r"""Table: stability thresholds of :math:`u = \eta\lambda` for EMC's linear reading with frozen
weights, theory against the simulated brackets."""
from __future__ import annotations

from . import run_stability
from .common import (
    artifact_main,
    count_word,
    load_or_run,
    sci,
    stacked,
    write_macros,
    write_table_tex,
)
from .fig_stability import caption_conditions

STEM = "table_stability"
DIGITS = (4, 8)
"""Fewest and most significant digits printed: as many as it takes for the theory value and the
bracket ends to print in their true order (to show whether the bracket holds the theory)."""


def separating_digits(theory: float, low: float, high: float) -> int:
    """The fewest significant digits (within :data:`DIGITS`) at which ``low``, ``theory`` and
    ``high`` printed keep the order and the distinctness they have."""
    def order(values):
        return [(a > b) - (a < b) for a, b in zip(values, values[1:], strict=False)]

    exact = order([low, theory, high])
    for digits in range(DIGITS[0], DIGITS[1] + 1):
        printed = [float(f"{x:.{digits}g}") for x in (low, theory, high)]
        if order(printed) == exact:
            return digits
    return DIGITS[1]


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
            digits = separating_digits(s["theory"], low, high)
            row += [f"${sci(s['theory'], digits)}$",
                    f"$[{sci(low, digits)}, {sci(high, digits)}]$",
                    f"${sci(s['relative_difference'], 2)}$"]
            in_bracket += s["theory_in_bracket"]
            worst = max(worst, abs(s["relative_difference"]))
        rows.append(row)
    total = len(p["K"]) * len(settings)
    header = [r"$K$", r"\multicolumn{3}{c}{$\tilde H = 0$: $\alpha_k = 1/K$}",
              r"\multicolumn{3}{c}{$\tilde H = 1$: $\alpha_k \propto e^{k/K}$}"]
    sub = [""] + 2 * [stacked(label, "c")
                      for label in (r"theory $u^\star$", "simulated bracket", "rel. diff.")]
    caption = (
        r"Stability threshold $u^\star$ of $u = \eta\lambda$ for EMC's linear reading with frozen "
        r"weights: theory (\texttt{proofs.linear\_stability.stability\_threshold}) and the "
        r"simulated bracket (last stable, first unstable $u$); rel.\ diff.: (bracket midpoint "
        rf"$-$ theory)/theory. The theory value lies inside the bracket in {in_bracket} of "
        rf"{total} cases. " + caption_conditions(p))
    written = write_table_tex(paths, STEM, "@{}r rlr rlr@{}", [header, sub], rows, caption,
                              "tab:stability", size=r"\scriptsize",
                              header_rule=r"\cmidrule(lr){2-4}\cmidrule(lr){5-7}",
                              tabular_size=r"\footnotesize")
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
