r"""The toolkit's one renderer of text for LaTeX and Markdown: escaping, booktabs and Markdown
tables, and macro definitions. The claim reports, the derivations, the experiments and the
benchmark all render through it, so a character prints the same way in every generated file.

Escaping (:func:`tex_escape`) turns plain text into pdfLaTeX text-mode input (the paper uses the
T1 font encoding): LaTeX's special characters become their text-mode commands (``<``, ``>`` and
``|`` as ``\textless{}``, ``\textgreater{}``, ``\textbar{}``, so that ``<<`` cannot become a
guillemet ligature), common non-ASCII symbols become LaTeX (Greek letters by name, ``≤`` as
``$\le$``), and any other non-ASCII character its code point ``[U+XXXX]``, so no input can break
the build.
"""
from __future__ import annotations

import re
import unicodedata

TEX_SPECIALS = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
                "|": r"\textbar{}"}
"""ASCII characters that LaTeX's text mode does not print as themselves, and their commands."""

TEX_UNICODE = {"≤": r"$\le$", "≥": r"$\ge$", "≈": r"$\approx$", "±": r"$\pm$",
               "×": r"$\times$", "→": r"$\to$", "∞": r"$\infty$", "·": r"$\cdot$",
               "−": "-", "–": "--", "—": "---", "’": "'", "‘": "`", "“": "``", "”": "''",
               "…": r"\dots{}", "√": r"$\surd$", "∑": r"$\sum$", "‖": r"$\|$"}
"""Non-ASCII symbols with a LaTeX spelling (Greek letters are spelled by their Unicode name)."""

_GREEK = ("GREEK SMALL LETTER ", "GREEK CAPITAL LETTER ")
_MACRO_NAME = re.compile(r"^[A-Za-z]+$")


def _tex_char(ch: str) -> str:
    if ch in TEX_SPECIALS:
        return TEX_SPECIALS[ch]
    if ord(ch) < 128:
        return ch
    if ch in TEX_UNICODE:
        return TEX_UNICODE[ch]
    name = unicodedata.name(ch, "")
    if name.startswith(_GREEK):
        letter = name.split("LETTER ")[1].lower()
        return rf"$\{letter.capitalize() if 'CAPITAL' in name else letter}$"
    return f"[U+{ord(ch):04X}]"


def tex_escape(text) -> str:
    """Plain text (``str(text)``) made safe for pdfLaTeX's text mode (module docstring)."""
    return "".join(_tex_char(ch) for ch in str(text))


def booktabs_table(colspec: str, header, rows, *, caption: str | None = None,
                   label: str | None = None, size: str = r"\small", header_rule: str = "",
                   caption_below: bool = False, comment: str | None = None) -> str:
    r"""A ``table`` float holding a booktabs ``tabular``; every cell is LaTeX already (escape
    plain text with :func:`tex_escape`).

    ``header`` is one row of cells, or a list of rows separated by ``header_rule`` (e.g.
    ``\cmidrule`` lines under grouped columns). The caption and label go above the tabular, or
    below it with ``caption_below``; ``comment`` is a first ``%`` line. Returns the lines joined
    by newlines, without a final newline."""
    header_rows = header if header and isinstance(header[0], (list, tuple)) else [header]
    width = len(header_rows[-1])
    rows = [list(row) for row in rows]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"booktabs_table: every row must have {width} cells (the header's), "
                             f"got {len(row)}: {row!r}")
    titled = ([rf"\caption{{{caption}}}"] if caption is not None else []) + (
        [rf"\label{{{label}}}"] if label is not None else [])
    lines = ([f"% {comment}"] if comment else []) + [r"\begin{table}[htbp]", r"\centering" + size]
    lines += [] if caption_below else titled
    lines += [rf"\begin{{tabular}}{{{colspec}}}", r"\toprule"]
    for i, row in enumerate(header_rows):
        lines += ([header_rule] if i and header_rule else []) + [" & ".join(row) + r" \\"]
    lines.append(r"\midrule")
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += titled if caption_below else []
    lines.append(r"\end{table}")
    return "\n".join(lines)


def markdown_table(header, rows) -> list:
    """A Markdown (GitHub) table as a list of lines: header, ``|---|`` rule, one line per row
    (cells as given, converted with ``str``)."""
    header = [str(cell) for cell in header]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [str(cell) for cell in row]
        if len(cells) != len(header):
            raise ValueError(f"markdown_table: every row must have {len(header)} cells (the "
                             f"header's), got {len(cells)}: {cells!r}")
        out.append("| " + " | ".join(cells) + " |")
    return out


def macro_name(name: str) -> str:
    """``name`` if it is a valid macro name for :func:`latex_macros` (letters only), else
    ValueError."""
    if not isinstance(name, str) or not _MACRO_NAME.match(name):
        raise ValueError(f"macro name must consist of letters only, got {name!r}")
    return name


def latex_macros(macros: dict, comment: str | None = None) -> str:
    r"""``\newcommand{\Name}{value}`` lines, sorted by name (names: letters only; values are
    LaTeX already), after an optional ``%`` comment line; ends with a newline."""
    lines = [f"% {comment}"] if comment else []
    lines += [rf"\newcommand{{\{macro_name(name)}}}{{{macros[name]}}}" for name in sorted(macros)]
    return "\n".join(lines) + "\n"


def keyed_latex_macros(families: dict, comment: str | None = None) -> str:
    r"""``\Family{key}`` look-ups: per family a one-argument command that prints the value stored
    for ``key`` (``not checked`` for an unknown key), and one definition per key; ends with a
    newline."""
    lines = [f"% {comment}"] if comment else []
    for family in sorted(families):
        cs = macro_name(family).lower()
        lines.append(rf"\newcommand{{\{family}}}[1]{{\ifcsname {cs}@#1\endcsname"
                     rf"\csname {cs}@#1\endcsname\else not checked\fi}}")
        for key in sorted(families[family]):
            lines.append(rf"\expandafter\def\csname {cs}@{key}\endcsname"
                         rf"{{{families[family][key]}}}")
    return "\n".join(lines) + "\n"
