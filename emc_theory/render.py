r"""The toolkit's one renderer of text for LaTeX and Markdown: escaping, booktabs and Markdown
tables, and macro definitions. The claim reports, the derivations, the experiments and the
benchmark all render through it, so a character prints the same way in every generated file.

Escaping (:func:`tex_escape`) turns plain text into pdfLaTeX text-mode input (the paper uses the
T1 font encoding): LaTeX's special characters become their text-mode commands (``<``, ``>`` and
``|`` as ``\textless{}``, ``\textgreater{}``, ``\textbar{}``, so that ``<<`` cannot become a
guillemet ligature), common non-ASCII symbols become LaTeX (Greek letters by name, ``≤`` as
``$\le$``), and any other non-ASCII character its code point ``[U+XXXX]``, so no input can break
the build.

Text that a person reads: :func:`plain_to_tex` typesets plain text whose formulas are written in
ASCII (``beta_k = 1 - 2^{-k}``) with the formulas in math mode; :func:`readable` and
:func:`readable_text` turn JSON values and Python reprs into ``key: value`` text with rounded
numbers; :func:`derivation_latex` typesets a derivation record. Tables: :func:`booktabs_table`
(a float), :func:`booktabs_tabular` (the tabular alone, optionally a ``tabularx`` of a given
width), :func:`table_float`, :func:`booktabs_longtable` and :func:`fitted_columns` (``p``
columns that fill the line exactly).
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


# ----------------------------------------------------------------------------- tables to \linewidth


def booktabs_tabular(colspec: str, header, rows, *, width: str | None = None,
                     header_rule: str = "") -> str:
    r"""The booktabs ``tabular`` alone (no float, caption or label): what a table file offers for
    ``\input`` into another document. With ``width`` (e.g. ``\linewidth``) it is a ``tabularx``
    of that width, whose ``X`` columns share what the other columns leave (the host needs the
    ``tabularx`` package). Cells are LaTeX already; returns the lines without a final newline."""
    header_rows = header if header and isinstance(header[0], (list, tuple)) else [header]
    width_cells = len(header_rows[-1])
    rows = [list(row) for row in rows]
    for row in rows:
        if len(row) != width_cells:
            raise ValueError(f"booktabs_tabular: every row must have {width_cells} cells (the "
                             f"header's), got {len(row)}: {row!r}")
    begin = (rf"\begin{{tabularx}}{{{width}}}{{{colspec}}}" if width
             else rf"\begin{{tabular}}{{{colspec}}}")
    lines = [begin, r"\toprule"]
    for i, row in enumerate(header_rows):
        lines += ([header_rule] if i and header_rule else []) + [" & ".join(row) + r" \\"]
    lines.append(r"\midrule")
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\bottomrule", r"\end{tabularx}" if width else r"\end{tabular}"]
    return "\n".join(lines)


def table_float(tabular: str, *, caption: str | None = None, label: str | None = None,
                size: str = r"\small", caption_below: bool = False,
                comment: str | None = None) -> str:
    r"""A ``table`` float around a ``tabular`` (e.g. from :func:`booktabs_tabular`): caption and
    label above it, or below with ``caption_below``; ``comment`` is a first ``%`` line."""
    titled = ([rf"\caption{{{caption}}}"] if caption is not None else []) + (
        [rf"\label{{{label}}}"] if label is not None else [])
    lines = ([f"% {comment}"] if comment else []) + [r"\begin{table}[htbp]", r"\centering" + size]
    lines += ([] if caption_below else titled) + [tabular] + (titled if caption_below else [])
    lines.append(r"\end{table}")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- readable values

_LONG_FLOAT = re.compile(r"(?<![\w.])(-?\d+\.\d{7,})(e[-+]?\d+)?(?![\w.])")
_BOOL_WORD = re.compile(r"\b(True|False)\b")


def format_number(x, digits: int = 4) -> str:
    """``x`` rounded to ``digits`` significant digits (``inf``/``nan`` as words; integers as
    they are)."""
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return str(x)
    x = float(x)
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    return f"{x:.{digits}g}"


def readable(value, digits: int = 4, max_items: int = 12) -> str:
    """A JSON-like value as text a person reads: ``key: value`` pairs (underscores in keys as
    spaces), lists as comma-separated items (a long list shortened, its length stated), floats
    to ``digits`` significant digits, booleans as yes/no, ``None`` as none; never a Python
    repr."""
    if isinstance(value, dict):
        return ", ".join(f"{_key(k)}: " + _nested(v, digits, max_items)
                         for k, v in value.items())
    if isinstance(value, (list, tuple)):
        items = [_nested(v, digits, max_items) for v in value]
        if len(items) > max_items:
            items = items[:max_items - 3] + ["...", *items[-2:]]
            return ", ".join(items) + f" ({len(value)} values)"
        return ", ".join(items)
    if value is None:
        return "none"
    if isinstance(value, (int, float)):
        return format_number(value, digits)
    if isinstance(value, str) and value in ("inf", "-inf", "nan"):
        return value
    return readable_text(value, digits) if isinstance(value, str) else str(value)


def _key(key) -> str:
    """A dict key for reading: words joined by underscores spaced out (``final_grad_norm`` ->
    ``final grad norm``), a subscripted symbol kept (``alpha_K``)."""
    key = str(key)
    return key if re.fullmatch(r"[A-Za-z]+_[A-Za-z0-9]{1,2}", key) else key.replace("_", " ")


def _nested(value, digits, max_items) -> str:
    text = readable(value, digits, max_items)
    return f"({text})" if isinstance(value, (dict, list, tuple)) and len(value) > 1 else text


def _literal_end(text: str, start: int) -> int | None:
    """Index after the bracket closing the one at ``text[start]`` (quotes respected)."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack, quote, i = [], None, start
    while i < len(text):
        ch = text[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in pairs:
            stack.append(pairs[ch])
        elif ch in ")]}":
            if not stack or stack.pop() != ch:
                return None
            if not stack:
                return i + 1
        i += 1
    return None


def readable_text(text, digits: int = 4) -> str:
    """Free text with the Python reprs a person should not read made readable: a dict, list or
    tuple literal (``{'a': 1}``, ``['x', 'y']``) becomes :func:`readable` text, a float printed
    with seven or more decimals is rounded to ``digits`` significant digits, ``True``/``False``
    become yes/no. Anything else is left as it is."""
    import ast

    text = str(text)
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in "{[(":
            end = _literal_end(text, i)
            if end is not None:
                fragment = text[i:end]
                try:
                    value = ast.literal_eval(fragment)
                except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                    value = fragment
                if isinstance(value, (dict, list, tuple)) and (
                        "'" in fragment or '"' in fragment or ch == "{" or ":" in fragment):
                    inner = readable(value, digits)
                    out.append(f"({inner})" if ch == "(" else inner)
                    i = end
                    continue
        out.append(ch)
        i += 1
    text = "".join(out)
    text = _LONG_FLOAT.sub(lambda m: format_number(float(m.group(0)), digits), text)
    return _BOOL_WORD.sub(lambda m: "yes" if m.group(1) == "True" else "no", text)


# ----------------------------------------------------------------------------- plain math to LaTeX

GREEK_NAMES = ("alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
               "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
               "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta",
               "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega")
MATH_FUNCTIONS = ("log", "exp", "sin", "cos", "tanh", "max", "min", "sup", "inf", "lim", "det",
                  "arg", "ln")
OPERATOR_NAMES = ("sign", "diag", "tr", "Var", "Cov", "softmax", "sigmoid", "erf", "sech",
                  "argmax", "argmin", "rank")
ACRONYMS = frozenset({"EMC", "ODE", "MGD", "DLN", "PEP", "SDP", "SGD", "BLAS", "CPU", "GPU",
                      "JAX", "PDF", "CLARABEL", "SCS", "MOSEK", "BFGS", "SNR", "JSON", "NaN",
                      "API", "CLI", "IEEE", "RNG", "ADAM", "LION", "MSE", "KKT", "SVD", "NTK",
                      "PAC", "OSQP", "ECOS", "CVXPY", "RAM"})
"""All-capital words kept as they are; other all-capital words (emphasis in plain text, e.g.
``LONGER``) are set as ``\\emph`` in lower case."""

_GREEK_NAME_SET = frozenset(GREEK_NAMES)
_SCRIPT_WORDS = {"max": r"\max", "min": r"\min", "inf": r"\infty"}
_MATH_TOKEN = re.compile(r"(?P<num>\d+(?:\.\d+)?(?:e[-+]?\d+)?)|(?P<name>[A-Za-z]+)|"
                         r"(?P<op>->|>=|<=|!=|\+-|\*\*|\|\||\.\.)|(?P<ws>\s+)|(?P<ch>.)", re.S)
_SUB_IDENT = ("(?:" + "|".join(GREEK_NAMES) + r"|Ht|sum|prod|max|min|lim|sup|[A-Za-z]{1,2}|"
              r"[A-Z][a-z]{2})")
_MATH_SUBSCRIPT = re.compile(
    rf"(?<![A-Za-z0-9_]){_SUB_IDENT}_(?:[{{(]|(?:{'|'.join(GREEK_NAMES)}|[A-Za-z0-9]{{1,3}}|max|"
    r"min|eff|inf|diff|MGD|ODE|tot)(?![A-Za-z0-9_]))")
_CODE_IDENT = re.compile(r"[A-Za-z0-9]+(?:[._][A-Za-z0-9]+)*_[A-Za-z0-9_.]*[A-Za-z0-9]")
_MARKERS = re.compile(r"\^|\*\*|->|>=|<=|!=|\|")
_OPERATOR_CHUNK = re.compile(r"^(=|<|>|<=|>=|->|\+|\*|/|~|!=|\+-|-|\^)$")
_NUMBER_CHUNK = re.compile(r"^[-+]?\d+(\.\d+)?(e[-+]?\d+)?$")
_SHORT_CHUNK = re.compile(r"^[A-Za-z](\([^ ]*\))?$|^[A-Za-z]\d{1,2}$|^[A-Za-z]{1,3}\([^ ]*\)$|^(?:"
                          + "|".join(MATH_FUNCTIONS + OPERATOR_NAMES) + r")$")
_EXPR_CHUNK = re.compile(r"^[A-Za-z0-9().+\-*/=<>,;\[\]]+$")
_EXPR_OPERATOR = re.compile(r"[+*/=<>]|(?<=[\w)])-|\w\.\.\w")
_FUNCTION_CALL = re.compile(r"^(?:[A-Za-z]|" + "|".join(MATH_FUNCTIONS + OPERATOR_NAMES)
                            + r")\(")
_SCI_NUMBER = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)e([-+]?\d+)(?![\w.])")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_KEY_FINDING = re.compile(r"\bKEY FINDING:\s*")

_MATH_UNICODE = {"≤": r"\le ", "≥": r"\ge ", "≈": r"\approx ", "±": r"\pm ", "×": r"\times ",
                 "→": r"\to ", "∞": r"\infty ", "·": r"\cdot ", "−": "-", "√": r"\surd ",
                 "∑": r"\sum ", "‖": r"\| ", "…": r"\dots "}


def _is_greek(name: str) -> bool:
    return name in _GREEK_NAME_SET


def _math_name(name: str, script: bool = False) -> str:
    """One identifier in math mode."""
    if _is_greek(name):
        return "\\" + name + " "
    if name == "Ht":
        return r"\tilde H "
    if name.endswith("Ht") and len(name) <= 3:
        return _math_name(name[:-2]) + r"\tilde H "
    if script and name in _SCRIPT_WORDS:
        return _SCRIPT_WORDS[name] + " "
    if name in MATH_FUNCTIONS:
        return "\\" + name + " "
    if name in OPERATOR_NAMES:
        return rf"\operatorname{{{name}}} "
    if name in ("sum", "prod"):
        return "\\" + name + " "
    if name == "oo":
        return r"\infty "
    if name == "in" and not script:
        return r"\in "
    if name == "sqrt":
        return r"\surd "
    if len(name) <= 2 or (script and len(name) <= 1):
        return name
    return rf"\mathrm{{{name}}}"


def _tokens(text: str) -> list:
    return [(m.lastgroup, m.group()) for m in _MATH_TOKEN.finditer(text)]


def _group(tokens: list, i: int):
    """``(inner tokens, next index)`` of the bracket group opening at ``tokens[i]``; an unclosed
    group runs to the end."""
    opening = tokens[i][1]
    closing = {"(": ")", "{": "}", "[": "]"}[opening]
    depth = 0
    for j in range(i, len(tokens)):
        if tokens[j][1] == opening:
            depth += 1
        elif tokens[j][1] == closing:
            depth -= 1
            if depth == 0:
                return tokens[i + 1:j], j + 1
    return tokens[i + 1:], len(tokens)


def _script(tokens: list, i: int, sub: bool):
    """The LaTeX of a sub- or superscript argument starting at ``tokens[i]`` and the index after
    it: a bracket group (parentheses dropped), or an optionally signed number or name."""
    if i >= len(tokens):
        return "{}", i
    kind, value = tokens[i]
    if value in ("(", "{"):
        inner, j = _group(tokens, i)
        return "{" + _math_tokens(inner, script=True) + "}", j
    sign = ""
    if value in ("-", "+") and i + 1 < len(tokens) and tokens[i + 1][0] in ("num", "name"):
        sign, i = value, i + 1
        kind, value = tokens[i]
    if kind == "num":
        return "{" + sign + value + "}", i + 1
    if kind == "name":
        digits = ""
        if i + 1 < len(tokens) and tokens[i + 1][0] == "num" and "." not in tokens[i + 1][1]:
            digits, i = tokens[i + 1][1], i + 1
        name = value if digits else _math_name(value, script=True).strip()
        return "{" + sign + name + digits + "}", i + 1
    if value == "*":
        return r"{\star}", i + 1
    return "{}", i


def _math_tokens(tokens: list, script: bool = False) -> str:
    """Math-mode LaTeX of a token list (see :func:`plain_to_tex`)."""
    out, i = [], 0
    while i < len(tokens):
        kind, value = tokens[i]
        nxt = tokens[i + 1][1] if i + 1 < len(tokens) else ""
        if kind == "ws":
            out.append(" ")
        elif kind == "num":
            out.append(_sci(value))
        elif kind == "name":
            if nxt == "~" and (i + 2 >= len(tokens) or tokens[i + 2][0] != "name"):
                out.append(rf"\tilde{{{_math_name(value).strip()}}}")
                i += 2
                continue
            if value == "sqrt" and nxt == "(":
                inner, j = _group(tokens, i + 1)
                out.append(r"\sqrt{" + _math_tokens(inner, script) + "}")
                i = j
                continue
            out.append(_math_name(value, script))
            if nxt and tokens[i + 1][0] == "num" and not script:
                out.append("_{" + nxt + "}")
                i += 2
                continue
        elif value in ("^", "**", "_"):
            arg, i = _script(tokens, i + 1, sub=value == "_")
            out.append(("_" if value == "_" else "^") + arg)
            continue
        elif value == "*":
            out.append(r"\cdot " if _multiplies(tokens, i) else r"^{\star}")
        else:
            out.append({"->": r"\to ", ">=": r"\ge ", "<=": r"\le ", "!=": r"\ne ",
                        "+-": r"\pm ", "||": r"\| ", "..": r"\ldots ", "~": r"\sim ",
                        "{": r"\{", "}": r"\}", "\\": r"\setminus ", "%": r"\%", "&": r"\&",
                        "#": r"\#", "$": r"\$", '"': "''", "`": "'"}.get(value, None)
                       or _math_char(value))
        i += 1
    return "".join(out).strip()


def _multiplies(tokens: list, i: int) -> bool:
    """Whether the ``*`` at ``tokens[i]`` is a product (``eta0*L``, ``(a) * (b)``) rather than a
    star (``x*``, ``f(x*)``, ``||x - x*||``, ``u*=6``)."""
    if i == 0:
        return False
    following = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
    if following[0] in ("num", "name") or following[1] == "(":
        return True
    if following[0] == "ws":
        after = next((t for t in tokens[i + 1:] if t[0] != "ws"), ("", ""))
        return after[0] in ("num", "name") or after[1] == "("
    return False


def _sci(number: str) -> str:
    """``1.5e-03`` as ``1.5\times 10^{-3}`` (``1e-3`` as ``10^{-3}``, ``0.00e+00`` as ``0``)."""
    mantissa, _, exponent = number.partition("e")
    if not exponent:
        return number
    if float(mantissa) == 0:
        return "0"
    if int(exponent) == 0:
        return mantissa
    lead = "" if float(mantissa) == 1 else mantissa + r"\times "
    lead = "-" if float(mantissa) == -1 else lead
    return lead + f"10^{{{int(exponent)}}}"


def _math_char(ch: str) -> str:
    if ord(ch) < 128:
        return ch
    if ch in _MATH_UNICODE:
        return _MATH_UNICODE[ch]
    name = unicodedata.name(ch, "")
    if name.startswith(_GREEK):
        letter = name.split("LETTER ")[1].lower()
        return "\\" + (letter.capitalize() if "CAPITAL" in name else letter) + " "
    return rf"\text{{[U+{ord(ch):04X}]}}"


def _expression(chunk: str) -> bool:
    """A chunk such as ``k/(k+n-1)``, ``n=50`` or ``eta0*L=1``: operators between operands that
    are numbers, one- or two-letter names, Greek letters or math functions."""
    if not (_EXPR_CHUNK.match(chunk) and _EXPR_OPERATOR.search(chunk)):
        return False
    names = re.findall(r"[A-Za-z]+", chunk)
    return all(_math_word(n) or (n.endswith("Ht") and len(n) <= 3) for n in names)


def _math_word(word: str) -> bool:
    """A name that reads as mathematics inside a formula: one or two letters, a Greek letter,
    a math function or operator name."""
    return (len(word) <= 2 or _is_greek(word) or word in MATH_FUNCTIONS
            or word in OPERATOR_NAMES or word in ("Ht", "sum", "prod", "grad", "sqrt"))


def _classify(chunk: str) -> str:
    """``math``, ``code``, ``op``, ``num``, ``short`` or ``text`` for one whitespace-free chunk
    (trailing punctuation already split off)."""
    if not chunk:
        return "text"
    if _OPERATOR_CHUNK.match(chunk):
        return "op"
    if _NUMBER_CHUNK.match(chunk):
        return "num"
    if "^" in chunk or "**" in chunk:
        return "math"
    if "'" in chunk or '"' in chunk or "=True" in chunk or "=False" in chunk:
        return "code" if "_" in chunk else "text"
    for m in _CODE_IDENT.finditer(chunk):
        if not _MATH_SUBSCRIPT.match(chunk, m.start()) or m.group().count("_") > 1:
            return "code"
    if _MARKERS.search(chunk) or _MATH_SUBSCRIPT.search(chunk) or _expression(chunk):
        return "math"
    names = re.findall(r"[A-Za-z]+", chunk)
    if names and all(_is_greek(n) or n in ("Ht", "oo") or len(n) == 1 for n in names) and (
            any(_is_greek(n) or n in ("Ht", "oo") for n in names)):
        return "math"
    if re.fullmatch(r"(?:[A-Za-z]|" + "|".join(GREEK_NAMES) + r")\(.+\)", chunk) \
            and chunk[0] not in "aAI":
        return "math"
    if re.search(r"[A-Za-z]~(?![A-Za-z])", chunk):
        return "math"
    if (_SHORT_CHUNK.match(chunk) or _FUNCTION_CALL.match(chunk)) and chunk not in "aAI":
        return "short"
    return "text"


_TEXT_RELATIONS = {"->": r"$\to$", "<=": r"$\le$", ">=": r"$\ge$", "!=": r"$\ne$"}
_GREEK_WORD = re.compile(r"(?<![A-Za-z])(" + "|".join(GREEK_NAMES) + r"|Ht)(?![A-Za-z])")


def _text_tex(text: str) -> str:
    """Prose in text mode: escaped, Greek names inside words (``same-lambda``) as letters,
    shouted words as ``\\emph`` in lower case."""
    parts, last = [], 0
    for m in re.finditer(_CAPS_WORD.pattern + "|" + _GREEK_WORD.pattern + "|"
                         + _SCI_NUMBER.pattern + r"|->|<=|>=|!=", text):
        word = m.group()
        if word in ACRONYMS:
            continue
        if word in _TEXT_RELATIONS:
            piece = _TEXT_RELATIONS[word]
        elif _SCI_NUMBER.fullmatch(word):
            piece = "$" + _sci(word) + "$"
        elif _GREEK_WORD.fullmatch(word):
            piece = "$" + _math_name(word).strip() + "$"
        else:
            piece = rf"\emph{{{word.lower()}}}"
        parts += [tex_escape(text[last:m.start()]), piece]
        last = m.end()
    return "".join(parts) + tex_escape(text[last:])


def code_tex(chunk: str) -> str:
    r"""``chunk`` as code: escaped, in typewriter (``\texttt``), breakable after each underscore."""
    escaped = tex_escape(chunk).replace(r"\_", r"\_\allowbreak{}")
    return rf"\texttt{{{escaped}}}"


_OPENING = {"(": ")", "[": "]", "{": "}"}
_CLOSING = {v: k for k, v in _OPENING.items()}


def _depth(text: str) -> int:
    return sum(text.count(o) - text.count(c) for o, c in _OPENING.items())


def _strip_prose(raw: str):
    """``(lead, formula, trail)``: unbalanced opening brackets in front, and sentence
    punctuation and unbalanced closing brackets at the end, split off a formula's text."""
    lead = ""
    while raw[:1] in _OPENING and raw.count(raw[0]) > raw.count(_OPENING[raw[0]]):
        lead, raw = lead + raw[0], raw[1:]
    trail = ""
    while raw:
        last = raw[-1]
        if last in ",;:" or (last == "." and not raw[-2:-1].isdigit() and not raw.endswith("..")):
            pass
        elif last in _CLOSING and raw.count(last) > raw.count(_CLOSING[last]):
            pass
        else:
            break
        trail, raw = last + trail, raw[:-1]
    return lead, raw, trail


_FORMULA_KINDS = ("math", "op", "num", "short")


def plain_to_tex(text) -> str:
    r"""Plain text that writes its mathematics in ASCII (``beta_k = 1 - 2^{-k}``,
    ``H_t/H_max in [0, 1]``, ``|m|^gamma``, ``x**2``, ``eta0*L``, ``Ht -> 0``) as pdfLaTeX input:
    the formulas in math mode (Greek names as letters, ``_``/``^``/``**`` as sub- and
    superscripts with parenthesised arguments grouped, ``->``, ``>=``, ``<=`` as arrows and
    relations, ``||`` as a norm bar, ``Ht`` as :math:`\tilde H`, ``x*`` as :math:`x^\star`,
    ``1e-3`` as :math:`10^{-3}`), identifiers of code (``entropy_bounds``, ``inv_t``) in
    typewriter, everything else escaped prose (:func:`tex_escape`; all-capital emphasis such as
    ``LONGER`` as ``\emph{longer}``, a ``KEY FINDING:`` marker dropped). Never emits
    ``\textasciicircum`` or a literal brace; the brackets it adds are balanced, so any input
    compiles."""
    text = _KEY_FINDING.sub("", str(text))
    pieces = re.split(r"(\s+)", text)
    items = []                                  # [kind, core, raw chunk, space after]
    for k in range(0, len(pieces), 2):
        raw = pieces[k]
        space = pieces[k + 1] if k + 1 < len(pieces) else ""
        core = _strip_prose(raw)[1] if raw else ""
        items.append([_classify(core) if core != "in" else "in", core, raw, space])
    n = len(items)
    out, k = [], 0
    while k < n:
        kind, core, raw, space = items[k]
        if kind not in _FORMULA_KINDS:
            lead, core, trail = _strip_prose(raw) if raw else ("", "", "")
            body = code_tex(core) if kind == "code" else _text_tex(core)
            out.append(_text_tex(lead) + body + _text_tex(trail) + space)
            k += 1
            continue
        j, body = k, raw
        first_lead = _strip_prose(raw)[0] if raw else ""
        while j + 1 < n:
            nxt_kind, nxt_core, nxt_raw, _ = items[j + 1]
            open_inside = _depth(body[len(first_lead):]) > 0
            ends_clause = _strip_prose(body)[2] and not open_inside
            joins = nxt_kind in _FORMULA_KINDS or (
                nxt_kind == "in" and items[j][0] in ("math", "short", "num")) or (
                open_inside and nxt_kind == "text" and _math_word(nxt_core)
                and nxt_core.isalpha() and nxt_core not in ("a", "A", "I", "at", "of", "or",
                                                            "in", "is", "as", "on", "to", "by",
                                                            "if", "be", "no", "so", "we"))
            if ends_clause or not joins:
                break
            if _strip_prose(nxt_raw)[0] and items[j][0] not in ("op", "in") and not open_inside:
                break
            j += 1
            body += " " + nxt_raw
        run = items[k:j + 1]
        while len(run) > 1 and run[-1][0] in ("op", "in"):
            run.pop()
        body = " ".join(r[2] for r in run)
        kinds = [r[0] for r in run]
        is_formula = "math" in kinds or (len(run) >= 3 and "op" in kinds[1:-1])
        if not is_formula and kinds == ["short"] and len(core) == 1 and core not in "aAI" \
                and _strip_prose(raw)[1] == core:
            is_formula = k > 0 and items[k - 1][1] in ("for", "at", "of", "with", "where")
        if not is_formula:
            lead, core, trail = _strip_prose(raw) if raw else ("", "", "")
            out.append(_text_tex(lead) + _text_tex(core) + _text_tex(trail) + space)
            k += 1
            continue
        lead, formula, trail = _strip_prose(body)
        latex = _math_tokens(_tokens(formula))
        out.append(_text_tex(lead) + (f"${latex}$" if latex else "") + _text_tex(trail)
                   + run[-1][3])
        k += len(run)
    return "".join(out)


# ----------------------------------------------------------------------------- derivations

_TRIVIAL_DISPLAYS = frozenset({"", r"\text{True}", r"\text{False}", "True", "False",
                               r"\mathrm{True}", r"\mathrm{False}"})


def derivation_latex(derivation: dict, heading: str = r"\paragraph") -> str:
    r"""A derivation record (``proofs.derivation.Derivation.to_json()``) as LaTeX: the title as a
    ``heading``, the statement, and per result its key, status and note with its formula
    displayed. Plain-text fields are typeset by :func:`plain_to_tex` unless the record carries a
    ``<field>_tex`` form; a displayed formula that is only a truth value (``\text{True}``) is
    left out (the status and note say it). Needs amsmath and amssymb."""
    def field(record, key):
        return record.get(f"{key}_tex") or plain_to_tex(readable_text(record.get(key, "")))

    lines = [r"\begingroup\sloppy", rf"{heading}{{{field(derivation, 'title')}}}",
             field(derivation, "statement"), r"\begin{itemize}"]
    for key, item in derivation["results"].items():
        note = field(item, "note")
        lines.append(rf"\item \texttt{{{tex_escape(key)}}} ({tex_escape(item['status'])})"
                     + (f". {note}" if note else "."))
        display = (item.get("latex") or "").strip()
        if display not in _TRIVIAL_DISPLAYS:
            lines.append(rf"\[ {display} \]")
    lines += [r"\end{itemize}", r"\par\endgroup"]
    return "\n".join(lines) + "\n"


def fitted_columns(*columns) -> str:
    r"""A column specification whose ``p`` columns fill ``\linewidth`` exactly: each column a
    ``(fraction, alignment)`` pair (alignment ``"l"`` for ragged right, ``"r"`` for ragged
    left, ``"j"`` justified), fractions summing to at most 1, outer padding removed. The widths
    subtract the column padding, so the table never runs wider than the line, whatever the
    document's margins."""
    if sum(f for f, _ in columns) > 1 + 1e-9:
        raise ValueError(f"fitted_columns: fractions must sum to at most 1, got "
                         f"{sum(f for f, _ in columns)}")
    align = {"l": r">{\raggedright\arraybackslash}", "r": r">{\raggedleft\arraybackslash}",
             "j": ""}
    specs = [rf"{align[a]}p{{\dimexpr {f:g}\linewidth-2\tabcolsep\relax}}" for f, a in columns]
    return "@{}" + "".join(specs) + "@{}"


def booktabs_longtable(colspec: str, header, rows, *, caption: str | None = None,
                       label: str | None = None, size: str = r"\small",
                       comment: str | None = None) -> str:
    r"""A booktabs ``longtable`` (it breaks across pages; the header repeats): for a table that
    may run longer than a page. Use :func:`fitted_columns` for a ``colspec`` that fits the line.
    Needs the longtable, booktabs and array packages. Cells are LaTeX already."""
    header = " & ".join(header) + r" \\"
    rows = [list(row) for row in rows]
    for row in rows:
        if len(row) != colspec.count("p{") and "p{" in colspec:
            raise ValueError(f"booktabs_longtable: a row has {len(row)} cells, the columns "
                             f"are {colspec.count('p{')}: {row!r}")
    titled = ((rf"\caption{{{caption}}}" if caption is not None else "")
              + (rf"\label{{{label}}}" if label is not None else ""))
    lines = ([f"% {comment}"] if comment else []) + [r"\begingroup" + size,
                                                     rf"\begin{{longtable}}{{{colspec}}}"]
    if titled:
        lines.append(titled + r" \\")
    lines += [r"\toprule", header, r"\midrule", r"\endfirsthead", r"\toprule", header,
              r"\midrule", r"\endhead", r"\bottomrule", r"\endlastfoot"]
    lines += [" & ".join(row) + r" \\" for row in rows]
    lines += [r"\end{longtable}", r"\endgroup"]
    return "\n".join(lines)
