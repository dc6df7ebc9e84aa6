"""The paper: ``build_paper`` regenerates everything in --quick mode into a temporary copy of
``paper/`` and compiles it with latexmk; the PDF has the expected pages, a title and an author,
a bibliography citing the four source papers, and text whose verdict words and counts are those
of the record it was built from (counted here from the JSON). ``main.tex`` itself states no
verdict and types no number. Skipped only when TeX is missing outside CI (under CI=true missing
TeX fails)."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import proofs
from claims.support.base import CheckConfig
from claims.support.registry import run_claims
from claims.support.report import write_reports
from experiments import build

REPO = Path(__file__).resolve().parents[1]
CLAIMS_SUBSET = ("G1", "C2")
PAGE_RANGE = (12, 60)
VERDICT_WORDS = re.compile(r"\b(holds|fails|undecided|conditional|sound|mismatch)\b", re.I)
COMPANIONS = (("Tan", "Information-Theoretic Perspectives on Optimizers"),
              ("Papazov", "Leveraging Continuous Time to Understand Momentum"),
              ("Duersch", "Curvature in the Looking-Glass"))


def require(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"{', '.join(missing)} missing under CI: .ci/run must install "
                        + " ".join(build.TEX_PACKAGES) + " poppler-utils")
        pytest.skip(f"{', '.join(missing)} not installed")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A quick build: claims for a subset of ids (the checks have their own tests), the
    derivations restricted to a fast one, every experiment in quick mode, then latexmk."""
    require("latexmk", "pdflatex", "pdftotext", "pdfinfo")
    root = tmp_path_factory.mktemp("paper-build")
    paper = root / "paper"
    paper.mkdir()
    for name in ("main.tex", "references.bib"):
        shutil.copy(REPO / "paper" / name, paper / name)
    config = CheckConfig(quick=True, seed=0)
    write_reports(run_claims(CLAIMS_SUBSET, config, progress=False), config, root / "results",
                  paper / "generated" / "claims.tex")
    run_all = proofs.run_all
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(proofs, "run_all", lambda names=None: run_all(["gamma_range"]))
        status = build.build_paper(quick=True, pdf=True, paper_dir=paper,
                                   results_dir=root / "results", progress=False,
                                   allow_partial=True)
    return status, paper


def pdf_text(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                          text=True, check=True).stdout


def test_pdf_builds_with_expected_pages(built):
    status, paper = built
    assert status == 0
    pdf = paper / "build" / "main.pdf"
    assert pdf.stat().st_size > 10_000
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M).group(1))
    assert PAGE_RANGE[0] <= pages <= PAGE_RANGE[1], pages


def flat(text: str) -> str:
    """PDF text with line breaks and hyphenation at line ends undone, spaces collapsed."""
    return re.sub(r"\s+", " ", re.sub(r"-\n\s*", "-", text))


def letters(text: str) -> str:
    """Only the letters and digits of ``text``, lower case (line breaks, hyphenation and
    spacing of the PDF's text do not matter)."""
    return re.sub(r"[^a-z0-9]", "", text.lower())


def record(built) -> dict:
    _, paper = built
    return json.loads((paper.parent / "results" / "claims.json").read_text())


def test_pdf_text_holds_the_verdict_table(built):
    _, paper = built
    text = pdf_text(paper / "build" / "main.pdf")
    assert re.search(r"Id\s+Claim\s+Source\s+Statement\s+Proof", text)
    doc = record(built)
    for cid in CLAIMS_SUBSET:
        c = doc["claims"][cid]
        assert re.search(rf"^\s*{cid}\s+.*\s{c['statement']}\s+{c['proof']}\s*$", text,
                         re.M), cid
    assert "Table 1: Claim verdicts" in text
    for label in ("Figure 1:", "Figure 2:", "Figure 5:", "Table 2:", "Table 3:"):
        assert label in text, label


def test_pdf_has_title_and_author(built):
    _, paper = built
    info = subprocess.run(["pdfinfo", str(paper / "build" / "main.pdf")], capture_output=True,
                          text=True, check=True).stdout
    assert re.search(r"^Title:\s+The Entropic Momentum Cascade, checked", info, re.M)
    assert re.search(r"^Author:\s+\S", info, re.M)


def test_bibliography_cites_the_source_and_companion_papers(built):
    _, paper = built
    text = pdf_text(paper / "build" / "main.pdf")
    references = letters(text.split("\nReferences\n")[1].split("\nA ")[0])
    for author, title in COMPANIONS:
        assert letters(author) in references and letters(title) in references, author
    for work in ("Entropic momentum cascade", "PEPit", "Polyak", "Kingma", "Symbolic discovery",
                 "Nesterov", "SymPy", "Woodworth", "Okabe"):
        assert letters(work) in references, work
    log = (paper / "build" / "main.log").read_text(errors="replace")
    assert not re.search(r"Citation .* undefined", log)


def test_verdict_words_and_counts_in_the_text_are_the_record_s(built):
    """The abstract's summary and each claim's section print the verdicts of the JSON the paper
    was built from, counted here."""
    _, paper = built
    text = flat(pdf_text(paper / "build" / "main.pdf"))
    claims = record(built)["claims"]
    words = ("none", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    parts = []
    for verdict in ("holds", "fails", "conditional", "undecided"):
        ids = [cid for cid in CLAIMS_SUBSET if claims[cid]["statement"] == verdict]
        if ids:
            parts.append(f"{verdict}: {words[len(ids)]} ({', '.join(ids)})")
    assert "Statement verdicts: " + "; ".join(parts) + "." in text
    assert f"We check {words[len(claims)]} claims" in text
    for cid in CLAIMS_SUBSET:
        section = text.split(f"{cid}: ")[-1]
        assert f"Statement: {claims[cid]['statement']}." in section, cid
        assert f"Proof: {claims[cid]['proof']}." in section, cid
    assert "KEY FINDING" not in text
    assert not re.search(r"^\s*True\s*$", pdf_text(paper / "build" / "main.pdf"), re.M)


def test_main_tex_states_no_verdict_of_its_own():
    """Verdict words reach the page only through the generated macros and sections: the prose
    of main.tex names none (bar the section title "What holds instead")."""
    tex = (REPO / "paper" / "main.tex").read_text()
    body = tex.split(r"\begin{document}")[1]
    body = re.sub(r"(?<!\\)%.*", "", body)
    body = body.replace("What holds instead", "")
    assert not VERDICT_WORDS.findall(body), VERDICT_WORDS.findall(body)


def test_no_undefined_references_or_macros(built):
    _, paper = built
    log = (paper / "build" / "main.log").read_text(errors="replace")
    assert "Undefined control sequence" not in log
    assert "There were undefined references" not in log
    assert "Float too large" not in log
    assert "There were undefined citations" not in log


def test_main_tex_takes_every_number_from_generated_files():
    """Every \\input is a generated file, and prose outside math and commands has no digits
    except theorem/proposition numbers and the seed file's name."""
    tex = (REPO / "paper" / "main.tex").read_text()
    inputs = re.findall(r"\\input\{([^}]*)\}", tex)
    assert inputs and all(name.startswith("generated/") for name in inputs)
    body = tex.split(r"\begin{document}")[1]
    body = re.sub(r"(?<!\\)%.*", "", body)                                # comments
    body = re.sub(r"\\begin\{align\}.*?\\end\{align\}", "", body, flags=re.S)
    body = re.sub(r"\$[^$]*\$", "", body)                                 # inline math
    body = re.sub(r"\\(input|ref|label|cite|bibitem|texttt|eqref|claimref|ClaimStatement|ClaimProof"
                  r"|ClaimReadings)\{[^}]*\}", "", body)                  # file names, claim ids
    body = re.sub(r"(Theorem|Propositions?)~\d([ ~]and~\d|--\d)?", "", body)
    body = re.sub(r"\\fontsize\{[^}]*\}\{[^}]*\}|\\begin\{thebibliography\}\{\d+\}", "", body)
    assert not re.findall(r"\d", body), re.findall(r".{0,30}\d.{0,30}", body)


def test_missing_tex_gives_a_message_naming_the_packages(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(build.shutil, "which", lambda tool: None)
    (tmp_path / "main.tex").write_text("\\documentclass{article}\\begin{document}x\\end{document}")
    assert build.build_pdf(tmp_path) == 3
    err = capsys.readouterr().err
    for package in build.TEX_PACKAGES:
        assert package in err
    assert "Traceback" not in err


def test_latex_error_is_reported_not_raised(tmp_path, capsys):
    require("latexmk", "pdflatex")
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}\\undefinedmacro\\end{document}\n")
    assert build.build_pdf(tmp_path) == 1
    assert "Undefined control sequence" in capsys.readouterr().err


def test_missing_main_tex_is_a_clear_error(tmp_path, capsys):
    assert build.build_paper(quick=True, pdf=False, paper_dir=tmp_path, progress=False) == 2
    assert "main.tex" in capsys.readouterr().err


def test_background_run_stage_writes_the_sequential_record(built, tmp_path):
    """The stage the build computes in its second process writes the same bytes as the stage run
    in this process."""
    from experiments import run_stability
    from experiments.common import load_or_run, resolve_paths

    _, paper = built
    assert run_stability in build.BACKGROUND
    in_pool = (paper.parent / "results" / "experiments" / "stability.json").read_bytes()
    paths = resolve_paths(tmp_path / "results", tmp_path / "generated")
    load_or_run(run_stability, True, 0, paths, rerun=True)
    assert (paths.records / "stability.json").read_bytes() == in_pool
