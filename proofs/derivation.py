r"""The record every derivation returns, and the exact-decision helpers they share.

A :class:`Derivation` holds named :class:`ResultItem` s. Each item carries the sympy object it is
about (or ``None``), its LaTeX, the conclusion as plain data (``value``: a number, a sign
``"+"``/``"-"``/``"0"``, an interval ``[a, b]``, a bool, a list, or ``None``) and a ``status``:

* ``"proved"``: a general statement established symbolically (an exact identity decided by
  :func:`decide_zero`, a sign argument, an exact limit);
* ``"computed"``: exact or high-precision values for stated instances, or a conclusion resting on
  certified numerics;
* ``"undecided"``: sympy could not decide it; the item says what was attempted.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

import sympy as sp

from emc_theory.render import derivation_latex

STATUSES = ("proved", "computed", "undecided")

HT = sp.Symbol("Ht", positive=True)
TAU = sp.Symbol("tau", positive=True)
LATEX_NAMES = {HT: r"\tilde{H}"}

def latex(expr) -> str:
    r"""``sympy.latex`` with the project's symbol names (``Ht`` prints as :math:`\tilde H`)."""
    return sp.latex(expr, symbol_names=LATEX_NAMES)


def latex_rows(header: tuple[str, ...], rows) -> str:
    r"""A math-mode ``array`` with a header row (LaTeX cells, e.g. per-K values)."""
    spec = "r" + "l" * (len(header) - 1)
    body = r" \\ ".join(" & ".join(cells) for cells in rows)
    return (rf"\begin{{array}}{{{spec}}} {' & '.join(header)} \\ \hline " + body
            + r" \end{array}")


def decide_zero(expr) -> bool | None:
    r"""Decide whether ``expr`` is identically zero: ``True``, ``False``, or ``None`` (undecided).

    Tries, in order: the expanded numerator of ``together(expr)``, ``cancel``, ``simplify``
    (``simplify(a - b) == 0`` is the identity test), each followed by sympy's assumptions
    (``is_zero``), and finally ``Expr.equals(0)``, which evaluates at random points with precision
    checks and answers ``None`` when it cannot tell (e.g. undefined functions). Never structural
    equality of unsimplified expressions.
    """
    expr = sp.sympify(expr)
    if sp.expand(sp.fraction(sp.together(expr))[0]) == 0:
        return True
    for reduce in (sp.cancel, sp.simplify):
        expr = reduce(expr)
        if expr.is_zero is not None:
            return bool(expr.is_zero)
    answer = expr.equals(0)
    return None if answer is None else bool(answer)


def decided_status(decisions) -> str:
    """``"proved"`` if every decision is ``True``; ``"undecided"`` if any is ``None``.

    Raises if any is ``False``: an identity a derivation relies on failed, which is a bug.
    """
    decisions = list(decisions)
    if any(d is False for d in decisions):
        raise ArithmeticError("an identity that the derivation relies on is false")
    return "undecided" if any(d is None for d in decisions) else "proved"


def sign_of(expr) -> str | None:
    """Sign (``"+"``, ``"-"``, ``"0"``) of a constant, or of an expression whose sign sympy's
    assumptions decide; ``None`` if undecided.

    A nonzero sign comes from sympy's assumptions or from ``evalf(strict=True)``, which raises
    unless the value is known to full relative precision (so a nonzero result is certified);
    ``"0"`` only from :func:`decide_zero`.
    """
    expr = sp.sympify(expr)
    if expr.is_positive:
        return "+"
    if expr.is_negative:
        return "-"
    try:
        approx = expr.evalf(30, strict=True)
    except sp.core.evalf.PrecisionExhausted:
        approx = None
    if approx is not None and approx.is_Number and approx != 0:
        return "+" if approx > 0 else "-"
    return "0" if decide_zero(expr) else None


def to_float(expr, digits: int = 30) -> float:
    """An exact constant as a float, evaluated at ``digits`` significant digits first."""
    return float(sp.N(expr, digits))


@dataclass(frozen=True)
class ResultItem:
    """One conclusion of a derivation (see the module docstring for ``value`` and ``status``)."""

    expr: sp.Basic | None
    latex: str
    value: object
    status: str
    note: str = ""

    def __post_init__(self):
        if self.status not in STATUSES:
            raise ValueError(f"status must be one of {list(STATUSES)}, got {self.status!r}")
        json.dumps(self.value, allow_nan=False)   # TypeError / ValueError unless JSON-safe

    @classmethod
    def of(cls, expr, value, status: str, note: str = "", tex: str | None = None):
        """An item whose LaTeX defaults to that of ``expr``."""
        return cls(expr, latex(expr) if tex is None else tex, value, status, note)

    def to_json(self) -> dict:
        return {"expr": None if self.expr is None else str(self.expr), "latex": self.latex,
                "value": self.value, "status": self.status, "note": self.note}


@dataclass
class Derivation:
    """A named derivation: a plain-text ``title`` and ``statement`` and its ``results`` by key;
    optionally ``title_tex`` and ``statement_tex``, the title and statement typeset as LaTeX
    (written to the JSON only when set; the renderer uses them in place of the plain text)."""

    name: str
    title: str
    statement: str
    results: dict[str, ResultItem] = field(default_factory=dict)
    title_tex: str | None = None
    statement_tex: str | None = None

    def to_json(self) -> dict:
        return {"name": self.name, "title": self.title, "statement": self.statement,
                **({"title_tex": self.title_tex} if self.title_tex else {}),
                **({"statement_tex": self.statement_tex} if self.statement_tex else {}),
                "results": {key: item.to_json() for key, item in sorted(self.results.items())}}

    def to_latex(self) -> str:
        r"""A ``\paragraph`` and an ``itemize`` of results, typeset by
        :func:`emc_theory.render.derivation_latex` (formulas in math mode; amsmath and amssymb)."""
        return derivation_latex(self.to_json())

    def summary(self) -> str:
        """Plain-text summary: one line per result."""
        lines = [f"{self.name}: {self.title}"]
        for key, item in self.results.items():
            lines.append(f"  [{item.status:9s}] {key} = {json.dumps(item.value)}")
        return "\n".join(lines)
