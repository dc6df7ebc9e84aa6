"""The one renderer (:mod:`emc_theory.render`) and the one JSON writer (:mod:`emc_theory.records`).

Expected strings are written out by hand; the escaping and the macros are also checked with the
independent oracle that matters, pdfLaTeX itself: the escaped text compiled (T1 fonts, as the
paper) and read back with ``pdftotext`` must be the input. Those tests skip when TeX is missing
outside CI (under ``CI=true`` missing TeX fails)."""
import json
import math
import os
import shutil
import subprocess

import numpy as np
import pytest

from emc_theory.records import dumps
from emc_theory.render import (
    TEX_SPECIALS,
    booktabs_table,
    keyed_latex_macros,
    latex_macros,
    markdown_table,
    tex_escape,
)


def require_tex():
    missing = [t for t in ("pdflatex", "pdftotext") if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing under CI")
        pytest.skip(f"{', '.join(missing)} not installed")


def compile_text(tmp_path, body: str, preamble: str = "") -> str:
    """The text of a one-page pdfLaTeX document holding ``body``."""
    tex = tmp_path / "t.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{booktabs}\n"
                   + preamble + "\\pagestyle{empty}\n\\begin{document}\n" + body
                   + "\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:]
    return subprocess.run(["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout


# ----------------------------------------------------------------------------- escaping


def test_every_special_character_has_its_text_mode_command():
    assert tex_escape(r"\&%$#_{}~^<>|") == (
        r"\textbackslash{}\&\%\$\#\_\{\}\textasciitilde{}\textasciicircum{}\textless{}"
        r"\textgreater{}\textbar{}")
    assert tex_escape("plain text, 1.5 (a) [b] 'q' - ok") == "plain text, 1.5 (a) [b] 'q' - ok"
    assert tex_escape(3.25) == "3.25"   # str() of anything


def test_non_ascii_is_spelled_in_latex_or_as_its_code_point():
    assert tex_escape("η ≤ 1 & 50%") == r"$\eta$ $\le$ 1 \& 50\%"
    assert tex_escape("Ωα") == r"$\Omega$$\alpha$"
    assert tex_escape("a → b … c") == r"a $\to$ b \dots{} c"
    assert tex_escape("€") == "[U+20AC]"
    assert all(ord(c) < 128 for c in tex_escape("αβγ≤≥≈±×→∞·−–—’‘“”…√∑‖€ü"))


def test_escaped_text_prints_as_the_input(tmp_path):
    """pdfLaTeX is the oracle: every special character, and << / >> (which T1 would turn into
    guillemets if typed bare), print as themselves."""
    require_tex()
    text = "a<<b>>c |x| ~y^2 100% $5 #3 {z} back\\slash under_score & amp"
    printed = compile_text(tmp_path, tex_escape(text))
    assert printed.split("\n")[0].strip() == text


# ----------------------------------------------------------------------------- tables


def test_booktabs_table_caption_on_top_and_below():
    top = booktabs_table("ll", ["A", "B"], [["1", "2"], ("3", "4")], caption="Cap",
                         label="tab:x", comment="generated; do not edit")
    assert top == "\n".join([
        "% generated; do not edit", r"\begin{table}[htbp]", r"\centering\small", r"\caption{Cap}",
        r"\label{tab:x}", r"\begin{tabular}{ll}", r"\toprule", r"A & B \\", r"\midrule",
        r"1 & 2 \\", r"3 & 4 \\", r"\bottomrule", r"\end{tabular}", r"\end{table}"])
    below = booktabs_table("l", ["A"], [["1"]], caption="Cap", label="tab:y", size=r"\tiny",
                           caption_below=True)
    assert below.splitlines()[:3] == [r"\begin{table}[htbp]", r"\centering\tiny",
                                      r"\begin{tabular}{l}"]
    assert below.splitlines()[-4:] == [r"\end{tabular}", r"\caption{Cap}", r"\label{tab:y}",
                                       r"\end{table}"]


def test_booktabs_grouped_header_rows_and_bad_rows():
    text = booktabs_table("lrr", [["", r"\multicolumn{2}{c}{G}"], ["x", "a", "b"]],
                          [["1", "2", "3"]], header_rule=r"\cmidrule(lr){2-3}")
    lines = text.splitlines()
    i = lines.index(r"\toprule")
    assert lines[i + 1:i + 5] == [r" & \multicolumn{2}{c}{G} \\", r"\cmidrule(lr){2-3}",
                                  r"x & a & b \\", r"\midrule"]
    with pytest.raises(ValueError, match="3 cells"):
        booktabs_table("lrr", ["a", "b", "c"], [["1", "2"]])


def test_booktabs_table_compiles(tmp_path):
    require_tex()
    table = booktabs_table("lr", ["Name", "Value"], [[tex_escape("a_b"), "1"]], caption="C")
    printed = compile_text(tmp_path, table)
    assert "Name" in printed and "a_b" in printed and "Table 1: C" in printed


def test_markdown_table():
    assert markdown_table(("a", "b"), [(1, "x"), ["y", 2.5]]) == [
        "| a | b |", "|---|---|", "| 1 | x |", "| y | 2.5 |"]
    assert markdown_table(["only"], []) == ["| only |", "|---|"]
    with pytest.raises(ValueError, match="2 cells"):
        markdown_table(("a", "b"), [(1,)])


# ----------------------------------------------------------------------------- macros


def test_latex_macros_sorted_with_letters_only_names():
    assert latex_macros({"Zeta": "2", "Alpha": r"$\alpha$"}, "generated by x") == (
        "% generated by x\n\\newcommand{\\Alpha}{$\\alpha$}\n\\newcommand{\\Zeta}{2}\n")
    assert latex_macros({}) == "\n"
    for bad in ("Bad1", "with space", "", "é"):
        with pytest.raises(ValueError, match="letters only"):
            latex_macros({bad: "1"})


def test_keyed_macros_text():
    assert keyed_latex_macros({"Verdict": {"B": "no", "A": "yes"}}) == (
        "\\newcommand{\\Verdict}[1]{\\ifcsname verdict@#1\\endcsname"
        "\\csname verdict@#1\\endcsname\\else not checked\\fi}\n"
        "\\expandafter\\def\\csname verdict@A\\endcsname{yes}\n"
        "\\expandafter\\def\\csname verdict@B\\endcsname{no}\n")
    with pytest.raises(ValueError, match="letters only"):
        keyed_latex_macros({"V1": {}})


def test_macros_expand_in_latex(tmp_path):
    require_tex()
    preamble = (latex_macros({"Answer": "forty-two"})
                + keyed_latex_macros({"Verdict": {"EOne": "holds", "TOne": "fails"}}))
    printed = compile_text(tmp_path, r"\Answer; \Verdict{EOne}; \Verdict{TOne}; \Verdict{XY}.",
                           preamble)
    assert printed.split("\n")[0].strip() == "forty-two; holds; fails; not checked."


def test_tex_specials_are_the_ascii_characters_latex_reserves():
    """Every ASCII character LaTeX's text mode does not print as itself is escaped: the ten
    reserved ones, and <, >, | (OT1 prints other glyphs for them; T1 merges << into a
    guillemet)."""
    assert set(TEX_SPECIALS) == set("\\&%$#_{}~^<>|")


# ----------------------------------------------------------------------------- JSON


def test_dumps_is_sorted_indented_and_ends_with_a_newline():
    obj = {"b": [1, 2.5], "a": {"z": None, "y": True}}
    assert dumps(obj) == ('{\n "a": {\n  "y": true,\n  "z": null\n },\n "b": [\n  1,\n  2.5\n'
                          ' ]\n}\n')
    assert dumps(obj, indent=None) == '{"a":{"y":true,"z":null},"b":[1,2.5]}\n'
    assert dumps(obj, indent=2).startswith('{\n  "a": {\n    "y"')


def test_dumps_converts_numpy_and_non_finite_values():
    obj = {"x": np.float32(0.5), "n": np.int64(3), "arr": np.array([1.0, np.inf, np.nan]),
           3: (np.bool_(True), -math.inf)}
    assert json.loads(dumps(obj)) == {"x": 0.5, "n": 3, "arr": [1.0, None, None],
                                      "3": [True, None]}
    assert json.loads(dumps(obj, nonfinite=repr))["arr"] == [1.0, "inf", "nan"]
    assert dumps({"b": 1, "a": 2}) == dumps({"a": 2, "b": 1})   # key order never matters


def test_dumps_rejects_what_is_not_json_and_a_bad_indent():
    with pytest.raises(TypeError):
        dumps({"s": {1, 2}})
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="indent"):
            dumps({}, indent=bad)
