"""The words a person reads in the records of the claims E1, M1, G1, P1, P2, C1, C2, EG1, DL1,
DL2, GL1, LN1 and their repairs (reasons, conditions, evidence summaries, counterexample
descriptions): no Python reprs (dicts, lists, ``True``/``False``/``None``), numbers rounded to
what supports them (checked against the exact facts of the same record), results kept out of the
conditions, and the LaTeX forms of titles and statements present where they hold mathematics and
compiling with pdflatex."""
import os
import re
import shutil
import subprocess

import pytest

from claims.support.base import CheckConfig, ClaimResult, Verdict
from claims.support.registry import get_claim, repair_ids, run_claim
from emc_theory.render import ACRONYMS

IDS = ("E1", "M1", "G1", "P1", "P2", "C1", "C2", "EG1", "DL1", "DL2", "GL1", "LN1")
ALL_IDS = tuple(rid for cid in IDS for rid in (cid, *repair_ids(cid)))

REPRS = {
    "a truth value or None": re.compile(r"\b(True|False|None)\b"),
    "a quoted item of a list, tuple or dict": re.compile(r"[\[{(,]\s*'[^']*'\s*[,:\]})]"),
    "a dict with numeric keys": re.compile(r"\{\s*-?\d+(\.\d+)?\s*:"),
    "a list of three or more numbers": re.compile(r"\[\s*-?\d[\d.e+-]*(\s*,\s*-?\d[\d.e+-]*){2,}"
                                                  r"\s*\]"),
    "an unrounded float": re.compile(r"\d\.\d{7,}"),
}
RESULT_IN_CONDITION = re.compile(r":\s*(holds|fails|undecided|conditional|never violated)\b|"
                                 r"^(inequality \d|information claim)|longer memory")
SHOUTED = re.compile(r"\b[A-Z]{3,}\b")


@pytest.fixture(scope="module")
def records():
    """Every claim and repair of this file, quick run, seed 0."""
    out = {}
    for rid in ALL_IDS:
        result = run_claim(rid, CheckConfig(quick=True, seed=0))
        assert result.error is None, result.error
        out[rid] = result.to_json()
    return out


def read_texts(record: dict) -> list:
    """``(where, text)`` of every field of a record that a person reads."""
    texts = [("statement reason", record["statement_reason"]),
             ("proof reason", record["proof_reason"])]
    texts += [("condition", c) for c in record["conditions"]]
    texts += [(f"evidence '{e['name']}'", e["summary"]) for e in record["evidence"]]
    texts += [("evidence name", e["name"]) for e in record["evidence"]]
    texts += [("counterexample", x["description"]) for x in record["counterexamples"]]
    if record.get("difference"):
        texts.append(("difference", record["difference"]))
    return texts


@pytest.mark.parametrize("rid", ALL_IDS)
def test_no_python_reprs_or_unrounded_floats(records, rid):
    for where, text in read_texts(records[rid]):
        for what, pattern in REPRS.items():
            found = pattern.search(text)
            assert found is None, f"{rid} {where} holds {what} ({found.group()!r}): {text}"


@pytest.mark.parametrize("rid", ALL_IDS)
def test_no_shouted_words(records, rid):
    for where, text in read_texts(records[rid]) + [("statement", records[rid]["claim"])]:
        shouted = set(SHOUTED.findall(text)) - ACRONYMS
        assert not shouted, f"{rid} {where}: {sorted(shouted)} in {text}"


@pytest.mark.parametrize("rid", ALL_IDS)
def test_conditions_hold_no_results(records, rid):
    for condition in records[rid]["conditions"]:
        assert not RESULT_IN_CONDITION.search(condition), f"{rid}: result as condition: {condition}"


def test_results_moved_out_of_the_conditions_are_in_the_reasons(records):
    eg1, ln1, m1, c1 = (records[i] for i in ("EG1", "LN1", "M1", "C1"))
    assert eg1["conditions"] == []
    assert "inequality 2 (B <= log k) holds" in eg1["statement_reason"]
    assert "log n - H_1 <= log k is never violated" in eg1["statement_reason"]
    assert re.search(r"the information claim (holds|fails|undecided)", ln1["statement_reason"])
    assert "tanh in place of sign in Lion" in ln1["statement_reason"]
    assert m1["conditions"] == [] and "longer memory" in m1["statement_reason"]
    assert "relative to heavy ball" in c1["statement_reason"]
    assert all("heavy ball (symbolic" not in c for c in c1["conditions"])


def test_e1_calls_l1_and_l2_entropy_kinds(records):
    reason = records["E1"]["statement_reason"]
    assert "entropy kinds" in reason and "reading" not in reason


def _significant(number: str) -> int:
    mantissa = number.lstrip("-").split("e")[0].replace(".", "").lstrip("0")
    return len(mantissa)


def test_numbers_in_reasons_are_rounded_and_agree_with_the_facts(records):
    eg1 = records["EG1"]
    shown = re.search(r"largest gap - B = (-?[\d.]+(?:e-?\d+)?)", eg1["statement_reason"]).group(1)
    assert _significant(shown) <= 4
    assert float(shown) == pytest.approx(eg1["facts"]["ineq1_max_excess"], rel=1e-3)
    ln1 = records["LN1"]
    low, high = re.search(r"from (\S+) to (\S+) nats", ln1["statement_reason"]).groups()
    assert max(_significant(low), _significant(high)) <= 3
    assert float(high) == pytest.approx(ln1["facts"]["information_gap_max"], rel=1e-2)
    assert float(low) == pytest.approx(ln1["facts"]["information_gap_min"], rel=1e-2)


# ----------------------------------------------------------------------------- LaTeX forms

TITLE_TEX = {"G1", "G1.r1", "C1", "C1.r1", "DL1", "DL1.r1", "DL2", "DL2.r1", "LN1", "LN1.r1",
             "EG1.r1"}
STATEMENT_TEX = {"G1", "G1.r1", "M1", "P1", "P1.r1", "P1.r2", "P2", "P2.r1", "P2.r2", "C1",
                 "C1.r1", "EG1", "EG1.r1", "DL1", "DL1.r1", "DL2", "DL2.r1", "LN1", "LN1.r1"}


@pytest.mark.parametrize("rid", ALL_IDS)
def test_latex_forms_where_the_words_hold_mathematics(records, rid):
    record = records[rid]
    assert ("title_tex" in record) == (rid in TITLE_TEX)
    assert ("claim_tex" in record) == (rid in STATEMENT_TEX)
    for key in ("title_tex", "claim_tex"):
        if key in record:
            tex = record[key]
            assert tex.count("$") % 2 == 0 and tex.count("{") == tex.count("}"), (rid, key)
            assert "**" not in tex and "\\textasciicircum" not in tex, (rid, key)


def test_claim_record_writes_latex_forms_only_when_set():
    import dataclasses

    plain = get_claim("E1")
    verdict = Verdict("holds", "none", "r", "p")
    assert not {"title_tex", "claim_tex"} & set(ClaimResult(plain, verdict, None).to_json())
    typeset = dataclasses.replace(plain, title_tex="$x$", statement_tex="$y$")
    record = ClaimResult(typeset, verdict, None).to_json()
    assert (record["title_tex"], record["claim_tex"]) == ("$x$", "$y$")
    assert record["title"] == plain.title and record["claim"] == plain.statement


def test_latex_forms_compile(records, tmp_path):
    if shutil.which("pdflatex") is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex missing under CI")
        pytest.skip("pdflatex not installed")
    body = []
    for rid, record in records.items():
        title = record.get("title_tex", rid)
        body.append(rf"\paragraph{{{title}}} {record.get('claim_tex', '')}")
    (tmp_path / "t.tex").write_text(
        "\\documentclass{article}\n\\usepackage[T1]{fontenc}\n\\usepackage{amsmath,amssymb}\n"
        "\\begin{document}\n" + "\n\n".join(body) + "\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                         cwd=tmp_path, capture_output=True, timeout=120)
    assert run.returncode == 0, run.stdout.decode(errors="replace")[-2000:]
    log = (tmp_path / "t.log").read_text(errors="replace")
    assert "Missing $ inserted" not in log and "Undefined control sequence" not in log
