r"""Regularity of the update function h under each reading, at 0 and at infinity.

For :math:`m > 0` and :math:`\gamma = 1 + s`, :math:`s \in (0, 1]` (entropy below its maximum):

* ``power``: :math:`h = m^{\gamma}`: slope :math:`\gamma m^{\gamma-1} \to 0` as :math:`m \to 0^+`
  (steps vanish faster than the gradient near a stationary point) and :math:`\to \infty` as
  :math:`m \to \infty` (no global Lipschitz constant: a fixed step is unstable far away);
* ``root``: :math:`h = m^{1/\gamma}`: slope :math:`\to \infty` as :math:`m \to 0^+` (not
  Lipschitz at the optimum: a constant step cannot settle there);
* ``linear``: slope 1 everywhere.

These are the mechanisms behind claim N1 (the power may cause instabilities) and the readings'
different behaviour in Theorem 1's checks.
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, ResultItem

M = sp.Symbol("m", positive=True)
S = sp.Symbol("s", positive=True)  # gamma = 1 + s > 1


def _slope_limits(h) -> tuple:
    slope = sp.diff(h, M)
    return slope, sp.limit(slope, M, 0, "+"), sp.limit(slope, M, sp.oo)


def _limit_value(value):
    return "oo" if value == sp.oo else float(value)


def derive() -> Derivation:
    readings = {"power": M ** (1 + S), "root": M ** (1 / (1 + S)), "linear": M}
    results = {}
    for name, h in readings.items():
        slope, at_zero, at_inf = _slope_limits(h)
        results[f"{name}_slope_limits"] = ResultItem.of(
            sp.Tuple(at_zero, at_inf), [_limit_value(at_zero), _limit_value(at_inf)], "proved",
            f"{name}: dh/dm = {slope}; limits as m -> 0+ and m -> oo (gamma = 1 + s, s > 0)",
            tex=rf"\frac{{dh}}{{dm}} = {sp.latex(slope)}")
    root_zero = sp.limit(sp.diff(readings["root"], M), M, 0, "+")
    power_inf = sp.limit(sp.diff(readings["power"], M), M, sp.oo)
    results["root_slope_at_zero_infinite"] = ResultItem.of(
        root_zero, bool(root_zero == sp.oo), "proved",
        "root reading: h is not Lipschitz at m = 0, so constant steps cannot converge to a "
        "stationary point unless gamma = 1 (maximal entropy)")
    results["power_not_globally_lipschitz"] = ResultItem.of(
        power_inf, bool(power_inf == sp.oo), "proved",
        "power reading: the slope grows without bound, so any fixed step is unstable from far "
        "enough away")
    return Derivation(
        name="reading_regularity",
        title="Slopes of the update function h at 0 and at infinity",
        statement="With gamma = 1 + s > 1: the power reading's slope tends to 0 at the optimum and "
                  "to infinity far away; the root reading's slope is infinite at 0; the linear "
                  "reading has slope 1.",
        results=results)


if __name__ == "__main__":
    print(derive().summary())
