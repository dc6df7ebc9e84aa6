r"""The modified equation of heavy ball at fixed :math:`\lambda = \gamma/(1-\beta)^2` (claim DL1).

Heavy ball :math:`w_{k+1} - w_k - \beta(w_k - w_{k-1}) + \gamma\nabla F(w_k) = 0` with
:math:`w_k = W(kh)`, :math:`h = \gamma/(1-\beta)`, :math:`\epsilon = 1 - \beta`,
:math:`\gamma = \lambda\epsilon^2`, :math:`h = \lambda\epsilon`: Taylor-expanding :math:`W(t \pm h)`
to fourth order and dividing by :math:`\gamma` gives a Laurent polynomial in :math:`\epsilon`,

.. math:: \dot W + \lambda\ddot W + g - \epsilon\,\tfrac{\lambda}{2}\ddot W + O(\epsilon^2)

(:math:`g = \nabla F(W)`; symbols ``W1``..``W4`` are the derivatives of :math:`W`). Results:

* ``order0`` and ``first_correction``: the :math:`\epsilon^0` and :math:`\epsilon^1`
  coefficients (``value``: their sympy string);
* ``limit_is_ode``: the :math:`\epsilon^{-1}` coefficient vanishes and the :math:`\epsilon^0`
  coefficient is :math:`\dot W + \lambda\ddot W + g`: at fixed :math:`\lambda` the iterates follow
  :math:`\lambda\ddot W + \dot W + \nabla F = 0` up to :math:`O(1-\beta)`, on the time scale
  :math:`t = k\gamma/(1-\beta)`. (Equivalently heavy ball is the semi-implicit Euler scheme with
  step :math:`h` for that ODE; the first correction shifts :math:`\lambda` to
  :math:`\lambda(1 - \epsilon/2)`.)
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, ResultItem, decide_zero

EPS, LAM, G = sp.symbols("epsilon lambda g", positive=True)
W = sp.symbols("W1:5")  # W', W'', W''', W''''
ORDER = 4
NAMES = {W[0]: r"\dot W", W[1]: r"\ddot W", W[2]: r"W^{(3)}", W[3]: r"W^{(4)}",
         G: r"\nabla F(W)"}
"""How the derivatives of the path and the gradient print in LaTeX."""


def tex(expr) -> str:
    """``sympy.latex`` with the path's derivatives as dots and ``g`` as the gradient."""
    return sp.latex(expr, symbol_names=NAMES)


def scheme_over_gamma() -> sp.Expr:
    r""":math:`[W(t+h) - W(t) - \beta(W(t) - W(t-h)) + \gamma g]/\gamma`, expanded: a polynomial in
    :math:`\epsilon` and :math:`1/\epsilon`."""
    h, gamma = LAM * EPS, LAM * EPS**2

    def shift(step):
        return sum(W[i] * step ** (i + 1) / sp.factorial(i + 1) for i in range(ORDER))

    scheme = shift(h) - (1 - EPS) * (-shift(-h)) + gamma * G
    return sp.expand(scheme / gamma)


def expansion() -> dict:
    """The coefficients of the expansion and whether its limit is the ODE."""
    laurent = scheme_over_gamma()
    singular = laurent.coeff(EPS, -1)
    order0, order1 = laurent.coeff(EPS, 0), laurent.coeff(EPS, 1)
    limit = decide_zero(singular) and decide_zero(order0 - (W[0] + LAM * W[1] + G))
    return {"order0": order0, "first_correction": order1, "singular": singular,
            "limit_is_ode": limit}


def derive() -> Derivation:
    """The modified equation of heavy ball at fixed lambda."""
    e = expansion()
    ode = W[0] + LAM * W[1] + G
    return Derivation(
        name="momentum_path",
        title="Modified equation of heavy ball at fixed lambda (DL1)",
        statement="At fixed lambda = gamma/(1-beta)^2, heavy ball divided by gamma is "
                  "W' + lambda W'' + grad F - (1-beta) lambda W''/2 + O((1-beta)^2): its "
                  "iterates follow lambda W'' + W' + grad F = 0 up to O(1-beta) (time "
                  "t = k gamma/(1-beta)).",
        results={
            "order0": ResultItem.of(e["order0"], str(e["order0"]), "computed",
                                    "coefficient of (1-beta)^0 of [scheme]/gamma",
                                    tex=r"[(1-\beta)^{0}] = " + tex(e["order0"])),
            "first_correction": ResultItem.of(e["first_correction"],
                                              str(e["first_correction"]), "computed",
                                              "coefficient of (1-beta)^1 of [scheme]/gamma",
                                              tex=r"[(1-\beta)^{1}] = "
                                              + tex(e["first_correction"])),
            "limit_is_ode": ResultItem.of(
                sp.Eq(e["order0"], ode, evaluate=False), e["limit_is_ode"],
                "undecided" if e["limit_is_ode"] is None else "proved",
                "with w_k = W(k h), h = gamma/(1-beta), the 1/(1-beta) term vanishes and the "
                "(1-beta)^0 term is the ODE lambda W'' + W' + grad F",
                tex=(r"\frac{w_{k+1} - w_k - \beta(w_k - w_{k-1}) + \gamma\nabla F(w_k)}{\gamma}"
                     r" = " + tex(ode) + r" + O(1-\beta)")),
        },
        title_tex=r"Modified equation of heavy ball at fixed $\lambda$ (DL1)",
        statement_tex=(r"At fixed $\lambda = \gamma/(1-\beta)^2$, heavy ball divided by "
                       r"$\gamma$ is $\dot W + \lambda \ddot W + \nabla F - (1-\beta) \lambda "
                       r"\ddot W/2 + O((1-\beta)^2)$: its iterates follow $\lambda \ddot W + "
                       r"\dot W + \nabla F = 0$ up to $O(1-\beta)$ (time "
                       r"$t = k\gamma/(1-\beta)$)."))


if __name__ == "__main__":
    print(derive().summary())
