r"""Operation count of one EMC step, line by line from the paper's appendix pseudocode.

Elementwise operations per step (the gradient itself not counted), d parameters, K levels:

* entropy: :math:`q = g^2`, :math:`s = \sum q`, :math:`p = q/s`, :math:`p\log p` (log and product),
  :math:`\sum`: :math:`6d`;
* K buffer updates :math:`\beta m + (1-\beta) g`: two products and a sum each, :math:`3Kd`;
* weights: K exponentials and the normalisation, :math:`3K`;
* aggregate :math:`\sum_k \alpha_k m^{(k)}`: :math:`(2K-1)d`;
* update: the reading's :math:`h` (``power``/``root``: abs, log, product, exp, copysign:
  :math:`5d`; ``linear``: 0) and :math:`\theta - \eta h`: :math:`2d`.

Heavy ball (:math:`v = \beta v + g`, :math:`\theta - \eta v`) costs :math:`4d`. This is a count of
the algorithm as written, not of an implementation; the benchmark measures the latter.
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, ResultItem, latex_rows

K, D = sp.symbols("K d", positive=True, integer=True)
READING_OPS = {"power": 5 * D, "root": 5 * D, "linear": sp.Integer(0)}
HEAVY_BALL = 4 * D


def emc_ops(reading: str) -> sp.Expr:
    """Elementwise operations of one EMC step under ``reading``."""
    return sp.expand(6 * D + 3 * K * D + 3 * K + (2 * K - 1) * D + READING_OPS[reading] + 2 * D)


def derive() -> Derivation:
    results = {}
    degrees_d, degrees_K, ratios, rows = set(), set(), {}, []
    for reading in READING_OPS:
        ops = emc_ops(reading)
        poly = sp.Poly(ops, K, D)
        degrees_d.add(poly.degree(D))
        degrees_K.add(poly.degree(K))
        ratio = sp.limit(ops / HEAVY_BALL, D, sp.oo)
        ratios[reading] = {str(k): float(ratio.subs(K, k)) for k in (3, 5)}
        rows.append([reading, sp.latex(ops), sp.latex(ratio)])
        results[f"ops_{reading}"] = ResultItem.of(
            ops, str(ops), "computed",
            f"{reading}: operations per step; ratio to heavy ball as d -> oo: {ratio}")
    results["degree_in_d"] = ResultItem.of(
        None, max(degrees_d), "computed", "degree of the count in d, every reading",
        tex=r"\deg_d = " + str(max(degrees_d)))
    results["degree_in_K"] = ResultItem.of(
        None, max(degrees_K), "computed", "degree of the count in K, every reading",
        tex=r"\deg_K = " + str(max(degrees_K)))
    results["ratio_to_momentum"] = ResultItem.of(
        None, ratios, "computed",
        "EMC / heavy-ball operation count as d -> oo, at K = 3 and K = 5, per reading",
        tex=latex_rows(("\\text{reading}", "\\text{ops}", "\\text{ratio to heavy ball}"),
                       [[rf"\text{{{r}}}", o, q] for r, o, q in rows]))
    return Derivation(
        name="op_count",
        title="Operations per EMC step (appendix pseudocode)",
        statement="Counting elementwise operations line by line, one EMC step costs "
                  "(5K + c) d + 3K with c = 12 (power, root) or 7 (linear): degree 1 in d and "
                  "in K; heavy ball costs 4d.",
        results=results)


if __name__ == "__main__":
    print(derive().summary())
