r"""The information a representation of a Lion update carries about its sign (claim LN1).

Tan & Huang model an update component as :math:`X \mid Y = \pm 1 \sim N(\pm\mu, \sigma^2)`,
:math:`Y` uniform, and propose the representation :math:`T = \tanh(\mu x/\sigma^2)` in place of
:math:`\operatorname{sign}(x)`. Results (identities decided by
:func:`~proofs.derivation.decide_zero`; ``value`` is the decision, ``None`` when undecided):

* ``posterior_is_logistic``: :math:`P(Y = 1 \mid x) = 1/(1 + e^{-2\mu x/\sigma^2})`;
* ``posterior_mean_is_tanh``: :math:`E[Y \mid x] = 2P(Y=1\mid x) - 1 = \tanh(\mu x/\sigma^2)`:
  the representation is the posterior mean, a sufficient statistic;
* ``jacobian_cancels``: for :math:`t = \tanh(a x)`, :math:`a > 0`, the Jacobian
  :math:`dx/dt` cancels in :math:`p_T(t \mid 1)/p_T(t \mid -1)`, so :math:`I(T;Y) = I(X;Y)` at
  every scale :math:`a` (the information argument does not fix the scale);
* ``sign_information_small_snr``: :math:`\log 2 - h_b(\tfrac12 - \delta) = 2\delta^2 +
  O(\delta^4)` (the Taylor coefficients of order 0, 1, 3 vanish) with
  :math:`\delta = \Phi(s) - \tfrac12 = s/\sqrt{2\pi} + O(s^3)`, so
  :math:`I(\operatorname{sign}X;Y) = s^2/\pi + O(s^4)`, against :math:`I(X;Y) = s^2/2 + O(s^4)`:
  sign keeps a fraction :math:`2/\pi` of the information at small :math:`s = \mu/\sigma`.
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation, ResultItem, decide_zero

X, T = sp.symbols("x t", real=True)
MU, SIGMA, A, S = sp.symbols("mu sigma a s", positive=True)


def likelihoods() -> dict:
    r""":math:`p(x \mid y) \propto \exp(-(x - y\mu)^2/(2\sigma^2))` for :math:`y = \pm 1`."""
    return {y: sp.exp(-(X - y * MU) ** 2 / (2 * SIGMA**2)) for y in (1, -1)}


def decisions() -> dict:
    """Each result's decision (``True``/``False``/``None``) with the expression it is about."""
    likelihood = likelihoods()
    posterior = likelihood[1] / (likelihood[1] + likelihood[-1])
    logistic = 1 / (1 + sp.exp(-2 * MU * X / SIGMA**2))
    mean = 2 * posterior - 1
    x_of_t = sp.atanh(T) / A
    jacobian = sp.diff(x_of_t, T)
    ratio_t = ((likelihood[1] * jacobian) / (likelihood[-1] * jacobian)).subs(X, x_of_t)
    ratio_x = (likelihood[1] / likelihood[-1]).subs(X, x_of_t)
    d = sp.Symbol("delta", positive=True)
    half = sp.Rational(1, 2)
    entropy_drop = sp.log(2) + (half - d) * sp.log(half - d) + (half + d) * sp.log(half + d)
    taylor = [sp.diff(entropy_drop, d, j).subs(d, 0) for j in range(4)]
    slope = sp.diff(sp.erf(S / sp.sqrt(2)) / 2, S).subs(S, 0)
    return {
        "posterior_is_logistic": (
            sp.Eq(posterior, logistic), decide_zero((posterior - logistic).rewrite(sp.exp))),
        "posterior_mean_is_tanh": (
            sp.Eq(mean, sp.tanh(MU * X / SIGMA**2)),
            decide_zero((mean - sp.tanh(MU * X / SIGMA**2)).rewrite(sp.exp))),
        "jacobian_cancels": (sp.Eq(ratio_t, ratio_x, evaluate=False),
                             decide_zero(ratio_t - ratio_x)),
        "sign_information_small_snr": (
            sp.Eq(sp.Symbol("I_sign"), S**2 / sp.pi),
            all(decide_zero(taylor[j]) for j in (0, 1, 3))
            and decide_zero(taylor[2] / 2 * slope**2 - 1 / sp.pi)),
    }


TEX = {
    "jacobian_cancels": (
        r"\frac{p_T(t \mid 1)}{p_T(t \mid -1)} = \frac{p_X(x(t) \mid 1)\,|x'(t)|}"
        r"{p_X(x(t) \mid -1)\,|x'(t)|} = \frac{p_X(x \mid 1)}{p_X(x \mid -1)}\Big|_{x = x(t)},"
        r"\quad t = \tanh(a x),\ a > 0 \quad\Rightarrow\quad I(T;Y) = I(X;Y)"),
    "sign_information_small_snr": (
        r"I(\operatorname{sign}X;Y) = \frac{s^2}{\pi} + O(s^4),\qquad "
        r"I(X;Y) = \frac{s^2}{2} + O(s^4),\qquad s = \mu/\sigma"),
}
"""Displays of the results whose sympy form is not the statement proved (an equation that
sympy evaluates to ``True``, a leading term without its order)."""

NOTES = {
    "posterior_is_logistic": "P(Y=1|x) = sigmoid(2 mu x/sigma^2)",
    "posterior_mean_is_tanh": "E[Y|x] = tanh(mu x/sigma^2): the representation is the posterior "
                              "mean, a sufficient statistic",
    "jacobian_cancels": "the Jacobian of t = tanh(a x) cancels in the likelihood ratio: "
                        "I(tanh(aX);Y) = I(X;Y) for every a > 0",
    "sign_information_small_snr": "I(sign X;Y) = s^2/pi + O(s^4) (leading term of the value; "
                                  "I(X;Y) = s^2/2 + O(s^4))",
}


def derive() -> Derivation:
    """Posterior, posterior mean, invariance under tanh, and sign's information at small SNR."""
    results = {key: ResultItem.of(expr, value, "undecided" if value is None else "proved",
                                  NOTES[key], tex=TEX.get(key))
               for key, (expr, value) in decisions().items()}
    return Derivation(
        name="lion_information",
        title="Information of tanh and sign representations of a Lion update (LN1)",
        statement="With X | Y = +-1 ~ N(+-mu, sigma^2), tanh(mu x/sigma^2) is the posterior mean "
                  "E[Y|x]; any tanh(a x), a > 0, is invertible and carries all of I(X;Y), while "
                  "sign(x) carries I(sign X;Y) = s^2/pi + O(s^4) against I(X;Y) = s^2/2 + O(s^4) "
                  "at small s = mu/sigma.",
        results=results,
        title_tex=(r"Information of $\tanh$ and $\operatorname{sign}$ representations of a Lion "
                   r"update (LN1)"),
        statement_tex=(r"With $X \mid Y = \pm 1 \sim N(\pm\mu, \sigma^2)$, "
                       r"$\tanh(\mu x/\sigma^2)$ is the posterior mean $E[Y \mid x]$; any "
                       r"$\tanh(a x)$, $a > 0$, is invertible and carries all of $I(X;Y)$, while "
                       r"$\operatorname{sign}(x)$ carries $I(\operatorname{sign}X;Y) = s^2/\pi + "
                       r"O(s^4)$ against $I(X;Y) = s^2/2 + O(s^4)$ at small $s = \mu/\sigma$."))


if __name__ == "__main__":
    print(derive().summary())
