r"""Plumbing shared by the experiment scripts: output locations, records, figures and LaTeX.

Output roots (command line first, then environment, then the default, relative to the current
directory like ``emc-theory check``):

* ``--results DIR`` / ``EMC_RESULTS_DIR`` (``results``): ``claims.json``, ``derivations.json`` and
  the run records ``experiments/<name>.json``;
* ``--generated DIR`` / ``EMC_GENERATED_DIR`` (``paper/generated``): what the paper inputs.

Everything written is a deterministic function of the parameters: records hold no timings, JSON
keys are sorted, figures carry no dates, so a rerun gives identical bytes.
"""
from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after selecting the Agg backend)
import numpy as np  # noqa: E402

from emc_theory import records  # noqa: E402
from emc_theory.render import (  # noqa: E402
    booktabs_tabular,
    keyed_latex_macros,
    latex_macros,
    table_float,
)

RECORD_SCHEMA = 1
TEXT_WIDTH_IN = 6.3
"""Width of the paper's text block in inches (A4, 2.5 cm margins): figures are made at this
width and included at ``\\linewidth``, so their fonts print at the size set here."""

STYLE = {
    "font.size": 8.5, "axes.titlesize": 8.5, "axes.labelsize": 8.5, "legend.fontsize": 7.5,
    "xtick.labelsize": 8, "ytick.labelsize": 8, "lines.linewidth": 1.2,
    "xtick.major.size": 3.5, "ytick.major.size": 3.5, "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "axes.grid": True, "grid.alpha": 0.3, "grid.linewidth": 0.5,
    "savefig.dpi": 200, "pdf.fonttype": 42,
}
plt.rcParams.update(STYLE)

OKABE_ITO = {"black": "#000000", "orange": "#E69F00", "sky_blue": "#56B4E9",
             "bluish_green": "#009E73", "yellow": "#F0E442", "blue": "#0072B2",
             "vermillion": "#D55E00", "reddish_purple": "#CC79A7"}
"""The Okabe-Ito palette (Okabe & Ito 2008): eight colours told apart under the common forms of
colour blindness. Every figure draws its categorical colours from it, and every line also has
its own line style or marker, so no distinction rests on colour alone."""
READING_COLORS = {"power": OKABE_ITO["vermillion"], "root": OKABE_ITO["orange"],
                  "linear": OKABE_ITO["black"]}
BASELINE_COLORS = {"gd": OKABE_ITO["blue"], "heavy_ball": OKABE_ITO["sky_blue"],
                   "nesterov": OKABE_ITO["bluish_green"], "adam": OKABE_ITO["reddish_purple"],
                   "lion": "#777777"}
LINE_STYLES = {"power": "-", "root": (0, (5, 1.5)), "linear": (0, (1, 1)),
               "gd": (0, (6, 2, 1, 2)), "heavy_ball": (0, (3, 1, 1, 1, 1, 1)),
               "nesterov": (0, (8, 2)), "adam": (0, (2, 2)), "lion": (0, (4, 1, 1, 1))}
"""A distinct dash pattern per method (EMC readings and baselines), beside its colour."""
METHOD_LABELS = {"gd": "GD", "heavy_ball": "heavy ball", "nesterov": "Nesterov", "adam": "Adam",
                 "lion": "Lion"}


@dataclass(frozen=True)
class Paths:
    """Where results (records, claims.json) and generated paper inputs go."""

    results: Path
    generated: Path

    @property
    def records(self) -> Path:
        return self.results / "experiments"


def resolve_paths(results=None, generated=None) -> Paths:
    """Paths from explicit values, else ``EMC_RESULTS_DIR`` / ``EMC_GENERATED_DIR``, else the
    defaults ``results`` and ``paper/generated``."""
    return Paths(Path(results or os.environ.get("EMC_RESULTS_DIR") or "results"),
                 Path(generated or os.environ.get("EMC_GENERATED_DIR") or "paper/generated"))


def artifact_parser(description: str) -> argparse.ArgumentParser:
    """The command line every script shares."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small grids (a fast pass)")
    parser.add_argument("--seed", type=int, default=0, help="seed of every random draw (0)")
    parser.add_argument("--results", default=None,
                        help="results root (default: $EMC_RESULTS_DIR or results)")
    parser.add_argument("--generated", default=None,
                        help="paper inputs (default: $EMC_GENERATED_DIR or paper/generated)")
    parser.add_argument("--rerun", action="store_true",
                        help="recompute the records even if matching ones exist")
    return parser


def parse_args(description: str, argv=None):
    """Parse the shared command line; returns ``(args, paths)``."""
    args = artifact_parser(description).parse_args(argv)
    if args.seed < 0:
        raise SystemExit(f"--seed must be an integer >= 0, got {args.seed}")
    return args, resolve_paths(args.results, args.generated)


# ----------------------------------------------------------------------------- records


def as_array(values) -> np.ndarray:
    """A record's list (``None`` = NaN) back as a float array."""
    return np.array(values, dtype=float)


def dumps(obj) -> str:
    """Deterministic, compact JSON text of a record (:func:`emc_theory.records.dumps`, compact
    form, non-finite values as ``null``)."""
    return records.dumps(obj, indent=None)


def load_or_run(module, quick: bool, seed: int, paths: Paths, rerun: bool = False) -> dict:
    """The record of run module ``module`` for ``module.parameters(quick, seed)``.

    A record on disk is reused when its parameters equal these (after a JSON round trip) and
    ``rerun`` is false; otherwise ``module.run(parameters)`` is computed and written to
    ``paths.records / f"{module.NAME}.json"``.
    """
    parameters = json.loads(dumps(module.parameters(quick, seed)))
    path = paths.records / f"{module.NAME}.json"
    if path.exists() and not rerun:
        record = json.loads(path.read_text())
        if record.get("schema") == RECORD_SCHEMA and record.get("parameters") == parameters:
            return record
    record = {"schema": RECORD_SCHEMA, "name": module.NAME, "parameters": parameters,
              "data": module.run(parameters)}
    text = dumps(record)
    write_text(path, text)
    return json.loads(text)


def artifact_main(make, description: str, argv=None) -> int:
    """``python -m experiments.<artifact>``: ``make(paths, quick, seed, rerun)`` returns the
    files it wrote, which are printed."""
    args, paths = parse_args(description, argv)
    written = make(paths, quick=args.quick, seed=args.seed, rerun=args.rerun)
    print("written: " + ", ".join(str(p) for p in written))
    return 0


def run_main(module, argv=None) -> int:
    """``python -m experiments.run_<name>``: compute the record and print where it went."""
    args, paths = parse_args(module.__doc__.splitlines()[0], argv)
    load_or_run(module, args.quick, args.seed, paths, rerun=True)
    print(f"written: {paths.records / (module.NAME + '.json')}")
    return 0


# ----------------------------------------------------------------------------- figures


def save_figure(fig, paths: Paths, stem: str) -> list:
    """Write ``stem.pdf`` and ``stem.png`` without time stamps; close the figure."""
    paths.generated.mkdir(parents=True, exist_ok=True)
    out = [paths.generated / f"{stem}.pdf", paths.generated / f"{stem}.png"]
    fig.savefig(out[0], metadata={"CreationDate": None, "ModDate": None, "Producer": None,
                                  "Creator": None})
    fig.set_layout_engine("none")  # keep the layout computed for the PDF: same page, half the time
    fig.savefig(out[1], metadata={"Software": None})
    plt.close(fig)
    return out


def method_style(spec: dict) -> dict:
    """Label, colour (Okabe-Ito) and dash pattern of a method record: each EMC reading and each
    baseline has its own colour and its own line style, EMC's drawn thicker."""
    if spec["name"] == "emc":
        reading = spec["reading"]
        return {"label": f"EMC ({reading})", "color": READING_COLORS[reading],
                "linestyle": LINE_STYLES[reading], "linewidth": 1.5}
    name = spec["name"]
    return {"label": METHOD_LABELS[name], "color": BASELINE_COLORS[name],
            "linestyle": LINE_STYLES[name], "linewidth": 1.1}


# ----------------------------------------------------------------------------- LaTeX


def sci(x, digits: int = 3) -> str:
    r"""``x`` in math-mode LaTeX: plain for :math:`10^{-2} \le |x| < 10^4`, else
    :math:`m \times 10^{e}` with ``digits`` significant digits; ``None``/NaN give ``--``."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "--"
    x = float(x)
    if x == 0:
        return "0"
    if 1e-2 <= abs(x) < 1e4:
        return f"{x:.{digits}g}"
    mantissa, exponent = f"{x:.{digits - 1}e}".split("e")
    exponent = int(exponent)
    if float(mantissa) in (1.0, -1.0):
        return ("-" if x < 0 else "") + f"10^{{{exponent}}}"
    return f"{mantissa}\\times10^{{{exponent}}}"


def stacked(label: str, align: str = "r") -> str:
    """A header cell on two lines (split at its last space; a label without a space stays as
    it is), aligned ``align`` (``r``, ``c`` or ``l``), so that narrow columns keep the table
    within the line."""
    head, _, tail = label.rpartition(" ")
    return (rf"\begin{{tabular}}[b]{{@{{}}{align}@{{}}}}{head}\\{tail}\end{{tabular}}" if head
            else label)


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (:func:`emc_theory.records.write_text`: a temporary
    file in the same directory, fsync, ``os.replace``), creating the directory: a reader or an
    interrupted run never leaves an empty or truncated record or table."""
    return records.write_text(path, text)


def write_figure_tex(paths: Paths, stem: str, caption: str, label: str) -> Path:
    """``stem.tex``: a float including ``stem.pdf`` at text width with a generated caption."""
    lines = [f"% generated by experiments.{stem}; do not edit", r"\begin{figure}[htbp]",
             r"\centering", rf"\includegraphics[width=\linewidth]{{generated/{stem}}}",
             rf"\caption{{{caption}}}", rf"\label{{{label}}}", r"\end{figure}"]
    return write_text(paths.generated / f"{stem}.tex", "\n".join(lines) + "\n")


TABULAR_SUFFIX = "_tabular"
"""``<stem>_tabular.tex``: the tabular of table ``<stem>.tex`` alone, for ``\\input`` elsewhere."""


def write_table_tex(paths: Paths, stem: str, colspec: str, header: list, rows: list,
                    caption: str, label: str, size: str = r"\small", header_rule: str = "",
                    width: str | None = None, tabular_size: str = "") -> list:
    r"""A table in two files: ``stem.tex``, the float (booktabs, caption on top, label; the
    caption may refer to this paper), and ``stem_tabular.tex``, its tabular alone for
    ``\input`` into another document (no caption, no reference to this paper's labels; it fits
    ``\linewidth`` under default article margins, at the host's font size or, for a table of
    many numeric columns, at ``tabular_size`` set inside a group). Cells are LaTeX already
    (escape text with :func:`emc_theory.render.tex_escape`). ``width`` (e.g. ``\linewidth``)
    makes it a ``tabularx`` of that width whose ``X`` columns take the rest.

    ``header`` is one row of cells, or a list of rows separated by ``header_rule`` (e.g.
    ``\cmidrule`` lines under grouped columns). Returns both paths."""
    tabular = booktabs_tabular(colspec, header, rows, width=width, header_rule=header_rule)
    table = table_float(tabular, caption=caption, label=label, size=size,
                        comment=f"generated by experiments.{stem}; do not edit")
    needs = "booktabs, array" + (", tabularx" if width else "")
    if tabular_size:
        tabular = "{" + tabular_size + "\n" + tabular + "}"
    return [write_text(paths.generated / f"{stem}.tex", table + "\n"),
            write_text(paths.generated / f"{stem}{TABULAR_SUFFIX}.tex",
                       f"% generated by experiments.{stem}; do not edit. Needs {needs}.\n"
                       + tabular + "\n")]


def write_macros(paths: Paths, stem: str, macros: dict, source: str) -> Path:
    r"""``stem.tex`` of ``\newcommand{\Name}{value}`` lines (names: letters only), sorted;
    ``source`` names the script in the header (:func:`emc_theory.render.latex_macros`)."""
    return write_text(paths.generated / f"{stem}.tex",
                      latex_macros(macros, f"generated by experiments.{source}; do not edit"))


def write_keyed_macros(paths: Paths, stem: str, families: dict, source: str) -> Path:
    r"""``\Family{key}`` look-ups (:func:`emc_theory.render.keyed_latex_macros`): per family a
    one-argument command that prints the value stored for ``key`` (``not checked`` for an unknown
    key), and one definition per key."""
    return write_text(paths.generated / f"{stem}.tex", keyed_latex_macros(
        families, f"generated by experiments.{source}; do not edit"))


def count_word(n: int) -> str:
    """Small counts as words for prose (``0`` -> ``none``... ``10`` -> ``ten``), else digits."""
    words = ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
    return words[n] if 0 <= n < len(words) else str(n)
