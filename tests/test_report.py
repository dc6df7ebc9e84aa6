"""The claims report a person reads (``results/claims.md``, :mod:`claims.support.report`) and the
typesetting of plain text it relies on (:func:`emc_theory.render.plain_to_tex`,
:func:`emc_theory.render.readable`).

Expected strings are written out by hand; pdfLaTeX is the oracle that the typeset text and the
tables compile (and fit the line: no overfull box). Records are constructed here, so each test
states the input it judges; the committed ``results/claims.json`` and ``results/derivations.json``
serve as a corpus of real texts (skipped where absent)."""
import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from claims.support import report
from claims.support.registry import CLAIM_IDS, get_claim
from emc_theory.render import plain_to_tex, readable, readable_text

REPO = Path(__file__).resolve().parents[1]
PYTHON_REPR = re.compile(r"\{'|\['|': |\bTrue\b|\bFalse\b|\bNone\b")
LONG_FLOAT = re.compile(r"\d\.\d{7,}")


def require_tex():
    missing = [t for t in ("pdflatex",) if shutil.which(t) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing under CI")
        pytest.skip(f"{', '.join(missing)} not installed")


def compile_log(tmp_path, body: str, name: str = "t") -> str:
    """The log of a minimal article (default margins, T1 fonts) holding ``body``; fails the test
    on a LaTeX error."""
    tex = tmp_path / f"{name}.tex"
    tex.write_text("\\documentclass{article}\n\\usepackage[T1]{fontenc}\n"
                   "\\usepackage{amsmath,amssymb,booktabs,array,tabularx,longtable}\n"
                   "\\begin{document}\n" + body + "\n\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
                         cwd=tmp_path, capture_output=True, text=True)
    log = (tmp_path / f"{name}.log").read_text(errors="replace")
    assert run.returncode == 0, [line for line in log.splitlines() if line.startswith("!")]
    return log


def committed(name: str) -> dict:
    path = REPO / "results" / name
    if not path.exists():
        pytest.skip(f"results/{name} not in this checkout")
    return json.loads(path.read_text())


def texts_of(doc: dict, derivations: dict) -> list:
    """Every plain-text field a person reads, from a claims record and the derivations."""
    out = []
    for c in list(doc["claims"].values()) + list(doc.get("repairs", {}).values()):
        out += [c["title"], c["claim"], c["paper_proof"] or "", c["statement_reason"],
                c["proof_reason"], *c["conditions"]]
        out += [e["summary"] for e in c["evidence"]] + [e["name"] for e in c["evidence"]]
        out += [x["description"] for x in c["counterexamples"]]
    for d in derivations.values():
        out += [d["title"], d["statement"]] + [r["note"] for r in d["results"].values()]
    return out


# ----------------------------------------------------------------------------- plain_to_tex


@pytest.mark.parametrize("plain, tex", [
    ("beta_k = 1 - 2^{-k}", r"$\beta _{k} = 1 - 2^{-k}$"),
    ("gamma in [1, 2] whenever", r"$\gamma  \in  [1, 2]$ whenever"),
    ("at d = 1 it is undefined", "at $d = 1$ it is undefined"),
    ("h(m~) is nonlinear", r"$h(\tilde{m})$ is nonlinear"),
    ("x**2 + |m|^gamma", r"$x^{2} + |m|^{\gamma}$"),
    ("high entropy -> LONGER memory", r"high entropy $\to$ \emph{longer} memory"),
    ("KEY FINDING: T increases", "T increases"),
    ("sympy: entropy_bounds", r"sympy: \texttt{entropy\_\allowbreak{}bounds}"),
    ("||x0-x*||<=1", r"$\| x_{0}-x^{\star}\| \le 1$"),
    ("eta0*L=1", r"$\eta _{0}\cdot L=1$"),
    ("error 3.9e-16 and 0.00e+00", r"error $3.9\times 10^{-16}$ and $0$"),
    ("same-lambda paths", r"same-$\lambda$ paths"),
    ("a convex combination of PEPit and EMC", "a convex combination of PEPit and EMC"),
    ("100% & #3 $5", r"100\% \& \#3 \$5"),
])
def test_plain_to_tex_examples(plain, tex):
    assert plain_to_tex(plain) == tex


def test_plain_to_tex_never_leaves_ascii_math_and_compiles(tmp_path):
    """Every text of the committed records: no circumflex command, no ``**``, braces balanced,
    and pdfLaTeX compiles them all."""
    require_tex()
    texts = texts_of(committed("claims.json"), committed("derivations.json"))
    assert len(texts) > 100
    body = []
    for text in texts:
        tex = plain_to_tex(readable_text(text))
        assert "textasciicircum" not in tex and "**" not in tex, (text, tex)
        unescaped = re.sub(r"\\[{}]", "", tex)
        assert unescaped.count("{") == unescaped.count("}"), (text, tex)
        assert tex.count("$") % 2 == 0, (text, tex)
        body.append(r"\item " + tex)
    compile_log(tmp_path, "\\begin{itemize}\n" + "\n".join(body) + "\n\\end{itemize}")


# ----------------------------------------------------------------------------- readable


def test_readable_values():
    assert readable({"final_gap": 9945890552836878.0, "status": "diverged", "stop_step": 2,
                     "violated": True}) == ("final gap: 9.946e+15, status: diverged, "
                                            "stop step: 2, violated: yes")
    assert readable([0.2000000007512692, None, "inf"]) == "0.2, none, inf"
    assert readable({"K": {"3": 6.75, "5": 9.25}}) == "K: (3: 6.75, 5: 9.25)"
    assert readable(list(range(20))) == "0, 1, 2, 3, 4, 5, 6, 7, 8, ..., 18, 19 (20 values)"


def test_readable_text_removes_python_reprs():
    text = ("largest gap - B = 0.45356539932884854; adaptive vs frozen: {'K': 3, 'runs': 432}; "
            "outcomes ['converged', 'diverged']; readings ('linear', 'power'); matches: True")
    assert readable_text(text) == ("largest gap - B = 0.4536; adaptive vs frozen: K: 3, runs: "
                                   "432; outcomes converged, diverged; readings (linear, power); "
                                   "matches: yes")
    assert readable_text("d in [2, 3, 5] and 1.000000") == "d in [2, 3, 5] and 1.000000"


# ----------------------------------------------------------------------------- records


def record(cid: str, **changes) -> dict:
    """A claim record as ``ClaimResult.to_json`` writes it (source from the registry)."""
    claim = get_claim(cid)
    base = {"id": cid, "title": claim.title, "where": claim.source.section,
            "source": claim.source.label, "source_file": claim.source.file,
            "source_paper": claim.source.paper, "source_authors": claim.source.authors,
            "claim": claim.statement, "paper_proof": claim.proof.text, "statement": "holds",
            "proof": "none", "statement_reason": "a reason", "proof_reason": "no proof",
            "per_reading": {}, "conditions": [], "evidence": [], "counterexamples": [],
            "facts": {}, "reading_facts": {}, "parameters": {}, "error": None}
    base.update(changes)
    return base


def document(claims: dict, repairs: dict | None = None, quick: bool = False) -> dict:
    return {"schema": 1, "config": {"quick": quick, "seed": 0}, "versions": {},
            "claims": claims, "repairs": repairs or {}, "run": {}}


def section(markdown: str, cid: str) -> str:
    """The Markdown section of one claim."""
    start = markdown.index(f"\n## {cid}: ")
    end = markdown.find("\n## ", start + 1)
    return markdown[start:end if end > 0 else None]


def test_definitions_come_first_and_define_every_term():
    md = report.render_markdown(document({"G1": record("G1")}))
    sections = re.findall(r"^## (.*)$", md, re.M)
    assert sections[:2] == ["Definitions", "Verdicts"]
    block = md.split("## Definitions")[1].split("## Verdicts")[0]
    for term in ("readings of h", "power", "root", "linear", "l2", "l1", "not readings of h",
                 "tau", "Ht", "H_t", "weights", "cell", "pending", "roles", "step budget",
                 "per-reading verdicts", "Recovered", "Missing", "counterexample", "witness",
                 "repairs"):
        assert term in block, term


def test_every_claim_row_names_its_source_paper_authors_and_section():
    claims = {cid: record(cid) for cid in CLAIM_IDS}
    legacy = {k: v for k, v in claims["EG1"].items() if not k.startswith("source_")}
    claims["EG1"] = legacy                      # a record without the structured keys
    md = report.render_markdown(document(claims))
    table = md.split("## Verdicts")[1].split("Sources:")[0]
    for cid in CLAIM_IDS:
        source = get_claim(cid).source
        row = next(line for line in table.splitlines() if line.startswith(f"| {cid} |"))
        who = "EMC paper" if source.file.startswith("000_") else source.authors
        assert f"{who}, {source.section}" in row, (cid, row)
        assert source.paper in section(md, cid) or source.file.startswith("000_")
    sources = md.split("Sources:")[1].split("##")[0]
    for title in ("Information-theoretic perspectives on optimizers", "diagonal linear networks",
                  "Curvature in the looking-glass", report.EMC_TITLE):
        assert title in sources


def test_per_reading_columns_are_named_for_what_they_hold():
    md = report.render_markdown(document({
        "E1": record("E1", per_reading={"l2": "holds", "l1": "holds"}),
        "T1": record("T1", statement="conditional",
                     per_reading={"power": "fails", "root": "holds", "linear": "holds"})}))
    header = next(line for line in md.splitlines() if line.startswith("| id |"))
    assert "per reading of h" in header and "per entropy kind" in header
    cells = {line.split(" | ")[0][2:]: line.split(" | ") for line in md.splitlines()
             if line.startswith(("| E1 |", "| T1 |"))}
    assert cells["E1"][-2] == "--" and cells["E1"][-1] == "l2: holds, l1: holds |"
    assert cells["T1"][-2] == "power: fails, root: holds, linear: holds"
    assert "- per entropy kind: l2: holds, l1: holds" in section(md, "E1")


def test_numbers_are_rounded_and_no_python_repr_reaches_the_reader():
    rec = record(
        "EG1", statement="fails",
        statement_reason="inequality 1 fails (largest gap - B = 0.45356539932884854)",
        conditions=["relative to heavy ball: {'power': {'3': 6.75}}"],
        evidence=[{"kind": "numerical", "name": "grid", "available": True, "data": {},
                   "summary": "outcomes ['converged', 'diverged']; matches: True"}],
        counterexamples=[{"claim": "EG1", "description": "n=50, k=16.44", "replay": {"n": 50},
                          "outcome": {"bound": 0.43436037722844806, "violated": True}}])
    md = report.render_markdown(document({"EG1": rec}))
    body = section(md, "EG1")
    assert not PYTHON_REPR.search(body), PYTHON_REPR.search(body)
    assert not LONG_FLOAT.search(body)
    assert "B = 0.4536" in body and "bound: 0.4344, violated: yes" in body


def test_conditions_are_told_apart_from_results():
    conditional = report.render_markdown(document({"G1": record(
        "G1", statement="conditional", conditions=["d >= 2"])}))
    holds = report.render_markdown(document({"C2": record("C2", conditions=["a remark"])}))
    assert "Conditions (under which the statement holds):\n- d >= 2" in conditional
    assert "Scope and qualifications:\n- a remark" in holds
    assert "Conditions (under which" not in holds
    per_reading = report.render_markdown(document({"T1": record(
        "T1", statement="undecided", per_reading={"power": "conditional", "root": "undecided"},
        conditions=["power: the step must shrink"])}))
    assert "Conditions (under which the statement holds):" in per_reading


def test_witnesses_in_evidence_are_listed_as_replayable_inputs():
    """N1 keeps its witnesses in its evidence data: they are listed like counterexamples."""
    witness = {"eta_times_L": 0.1, "kind": "oscillating", "linear_status": "converged",
               "status": "max_steps", "replay": {"optimizer": {"name": "emc"}, "steps": 1500}}
    md = report.render_markdown(document({"N1": record("N1", evidence=[
        {"kind": "numerical", "name": "runs (power vs linear)", "available": True,
         "summary": "19 of 54 settings", "data": {"witness": witness}}])}))
    body = section(md, "N1")
    assert "Witnesses recorded with the evidence" in body and "replay N1" not in body
    assert ("1. runs (power vs linear); outcome: eta times L: 0.1, kind: oscillating, "
            "linear status: converged, status: max_steps") in body
    cx = {"claim": "N1", "description": "a run", "replay": {"x": 1}, "outcome": {"status": "x"}}
    both = report.render_markdown(document({"N1": record("N1", counterexamples=[cx],
                                                         evidence=[])}))
    assert "Counterexamples (replay: `emc-theory replay N1 N`):\n1. a run; outcome: status: x" \
        in both


def test_missing_evidence_says_why_and_names_a_tool_only_when_one_is_missing():
    md = report.render_markdown(document({"EG1": record("EG1", evidence=[
        {"kind": "symbolic", "name": "lemma", "available": False, "data": {},
         "summary": "could not be recovered from the seed"}])}))
    assert "- [symbolic] lemma: MISSING: could not be recovered from the seed" in md
    assert "tool unavailable" not in md


def test_what_holds_instead_puts_each_repair_beside_its_original():
    p1 = record("P1", statement="fails", proof="mismatch")
    repair = record("P1", id="P1.r1", title="Reversed levels", statement="holds",
                    proof="sound", claim="With lambda_k = -k/K, high entropy favours short "
                                         "memory.", repair_of="P1", change="method",
                    difference="the level order is reversed")
    md = report.render_markdown(document({"E1": record("E1"), "P1": p1, "P2": record("P2")},
                                         {"P1.r1": repair}))
    instead = md.split("## What holds instead")[1].split("\n## ")[0]
    row = next(line for line in instead.splitlines() if "P1.r1" in line)
    assert row.startswith("| P1 (fails) | P1.r1 | method |")
    assert "**holds** | **sound** | the level order is reversed |" in row
    # the repair's own section follows its original's, before the next claim
    assert md.index("## P1: ") < md.index("### P1.r1: ") < md.index("## P2: ")
    assert "Repair of P1 (method changed): the level order is reversed" in md
    empty = report.render_markdown(document({"P1": p1}))
    assert "No repairs are in this record." in empty


def test_provenance_says_how_the_record_was_made():
    doc = document({"G1": record("G1")}, quick=True)
    assert "a quick run" in report.render_markdown(doc)
    doc["provenance"] = {"produced": {"G1": {"quick": True, "seed": 0}}, "missing": ["T1"],
                         "complete": False}
    assert "not complete: it lacks T1; quick runs produced G1" in report.render_markdown(doc)


# ----------------------------------------------------------------------------- LaTeX


def latex_doc() -> dict:
    """Every claim of the committed record, with a constructed repair."""
    doc = copy.deepcopy(committed("claims.json"))
    repair = copy.deepcopy(doc["claims"]["P1"])
    repair.update(id="P1.r1", repair_of="P1", change="method", statement="holds",
                  difference="the level order is reversed")
    doc["repairs"] = {"P1.r1": repair}
    return doc


def test_verdict_table_float_and_tabular_fit_a_default_article(tmp_path):
    require_tex()
    doc = latex_doc()
    table = report.render_latex(doc)
    tabular = report.render_latex_tabular(doc)
    assert table.count(r"\begin{table}") == 1 and r"\ref{" not in tabular
    assert r"\begin{table}" not in tabular and r"\caption" not in tabular
    for name, body in (("float", table), ("tabular", "\\begin{table}\\centering\n" + tabular
                                          + "\\end{table}")):
        log = compile_log(tmp_path, body, name)
        assert "Overfull \\hbox" not in log, name
    for text in (table, tabular):
        assert "textasciicircum" not in text and "**" not in text
        assert not re.search(r"\{'|'\}|\['", text)


def test_verdict_table_rows_read_the_record():
    doc = latex_doc()
    rows = report.verdict_table_rows(doc)
    assert [r[0] for r in rows] == [cid for cid in CLAIM_IDS if cid in doc["claims"]]
    for row, (cid, c) in zip(rows, report.in_report_order(doc["claims"]).items(), strict=True):
        assert row[3].startswith(c["statement"]) and row[4] == c["proof"], cid
