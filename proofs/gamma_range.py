r"""Range and monotonicity of the update's power :math:`\gamma(H) = 2 - H/H_{\max}` (claim G1).

On :math:`H \in [0, H_{\max}]`, :math:`H_{\max} = \log d > 0` (``d >= 2``):
:math:`d\gamma/dH = -1/H_{\max} < 0`, so :math:`\gamma` decreases from 2 to 1 and its range is
:math:`[1, 2]`. At ``d = 1``, :math:`H = H_{\max} = \log 1 = 0` and :math:`\gamma = 2 - 0/0`: the
limit along :math:`H = c H_{\max}`, :math:`H_{\max} \to 0^+`, is :math:`2 - c`, which depends on
the path, so no value is determined (a gap of the paper).
"""
from __future__ import annotations

import sympy as sp

from .derivation import HT, Derivation, ResultItem, decide_zero, decided_status, sign_of

H = sp.Symbol("H", nonnegative=True)
H_MAX = sp.Symbol("H_max", positive=True)
D = sp.Symbol("d", integer=True, positive=True)

GAMMA = 2 - H / H_MAX
PATHS = (sp.Integer(0), sp.Rational(1, 2), sp.Integer(1))


def derive() -> Derivation:
    """Endpoint values, derivative sign and range of gamma; the d = 1 case."""
    slope = sp.diff(GAMMA, H)
    ends = [GAMMA.subs(H, 0), GAMMA.subs(H, H_MAX)]
    h_unit = sp.Symbol("s", positive=True)   # H = s H_max with s in (0, 1]
    path_limits = [sp.limit(GAMMA.subs(H, c * H_MAX), H_MAX, 0, "+") for c in PATHS]
    square_path = sp.limit(GAMMA.subs(H, H_MAX**2), H_MAX, 0, "+")
    results = {
        "gamma_of_normalised_entropy": ResultItem.of(
            sp.Eq(sp.Symbol("gamma"), GAMMA.subs(H, HT * H_MAX)), None,
            decided_status([decide_zero(GAMMA.subs(H, HT * H_MAX) - (2 - HT))]),
            "with Ht = H/H_max, gamma = 2 - Ht"),
        "dgamma_dH": ResultItem.of(
            slope, sign_of(slope), "proved",
            "dgamma/dH = -1/H_max < 0 for d >= 2 (H_max = log d > 0): strictly decreasing"),
        "endpoint_values": ResultItem.of(
            sp.Tuple(*ends), [int(e) for e in ends], "proved",
            "gamma(0) = 2 (one-hot gradient), gamma(H_max) = 1 (uniform gradient)"),
        "range": ResultItem.of(
            sp.Interval(1, 2), [1, 2], decided_status(
                [decide_zero(GAMMA.subs(H, h_unit * H_MAX) - (2 - h_unit))]),
            "gamma is affine and decreasing on [0, H_max], so its range is exactly [1, 2]: "
            "the paper's claim G1 holds for d >= 2"),
        "H_max": ResultItem.of(
            sp.log(D), None, "proved",
            "H_max = log d: positive for d >= 2, zero for d = 1"),
        "d1_undefined": ResultItem.of(
            None, None, "proved",
            "d = 1: p = (1), H = 0 and H_max = log 1 = 0, so gamma = 2 - 0/0 is undefined; the "
            "paper does not address it (gap)",
            tex=r"d = 1:\ \gamma = 2 - \tfrac{0}{0}"),
        "d1_path_limits": ResultItem.of(
            sp.Tuple(*path_limits, square_path), [float(v) for v in path_limits + [square_path]],
            "proved",
            "limits of gamma as H_max -> 0+ along H = c H_max for c = 0, 1/2, 1 and along "
            "H = H_max^2: 2, 3/2, 1, 2; path dependent, so no continuous extension to d = 1",
            tex=r"\lim_{H_{\max}\to 0^+} \gamma(c H_{\max}) = 2 - c"),
    }
    return Derivation(
        name="gamma_range",
        title="Range of the power gamma(H) = 2 - H/H_max",
        statement="For d >= 2, gamma(H) = 2 - H/H_max is strictly decreasing on [0, H_max] with "
                  "range [1, 2] (claim G1 holds). For d = 1, H_max = log 1 = 0 and gamma is 0/0: "
                  "its limit depends on the path, so gamma is undefined (a gap).",
        results=results)


if __name__ == "__main__":
    print(derive().summary())
