"""``emc-theory check`` end to end: reports written, byte-identical across runs (the ``run``
field aside), every counterexample replays from its JSON to the same outcome, errors exit 1."""
import json
import math
import subprocess
import sys

import pytest

from claims.registry import available_claims, replay_counterexample
from claims.report import dumps, render_latex
from emc_theory.cli import main


@pytest.fixture(scope="module")
def two_quick_runs(tmp_path_factory):
    outs = []
    for name in ("a", "b"):
        root = tmp_path_factory.mktemp(name)
        code = main(["check", "--quick", "--no-progress", "--results-dir", str(root / "results"),
                     "--tex", str(root / "claims.tex")])
        outs.append((code, root))
    return outs


def test_every_claim_ran_and_reports_are_written(two_quick_runs):
    code, root = two_quick_runs[0]
    doc = json.loads((root / "results" / "claims.json").read_text())
    assert code == 0, {k: v["error"] for k, v in doc["claims"].items() if v["error"]}
    assert sorted(doc["claims"]) == sorted(available_claims())
    for claim in doc["claims"].values():
        assert claim["statement"] in ("holds", "fails", "conditional", "undecided")
        assert claim["proof"] in ("sound", "gap", "mismatch", "none")
        assert claim["evidence"], claim["id"]
        if claim["statement"] == "fails":
            assert claim["counterexamples"], f"{claim['id']} fails without a counterexample"
    assert doc["versions"]["numpy"] and doc["versions"]["sympy"]
    tex = (root / "claims.tex").read_text()
    assert r"\toprule" in tex and r"\bottomrule" in tex
    md = (root / "results" / "claims.md").read_text()
    assert "| id | claim | statement | proof |" in md


def test_two_runs_are_byte_identical_but_for_the_run_field(two_quick_runs):
    (_, a), (_, b) = two_quick_runs
    texts = [(r / "results" / "claims.json").read_text() for r in (a, b)]
    docs = [json.loads(t) for t in texts]
    for text, doc in zip(texts, docs):
        assert dumps(doc) == text  # the file is the canonical serialisation of its content
        doc["run"] = None
    assert dumps(docs[0]) == dumps(docs[1])
    assert (a / "claims.tex").read_bytes() == (b / "claims.tex").read_bytes()
    assert (a / "results" / "claims.md").read_bytes() == (b / "results" / "claims.md").read_bytes()


def test_latex_rendered_from_the_json_equals_the_checks_own(two_quick_runs):
    # the paper re-renders claims.tex from results/claims.json: both must give the same bytes
    _, root = two_quick_runs[0]
    doc = json.loads((root / "results" / "claims.json").read_text())
    assert render_latex(doc) == (root / "claims.tex").read_text()


def _close(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300) or (a != a and b != b)
    if isinstance(a, dict) and isinstance(b, dict):
        return all(_close(a[k], b[k]) for k in a if k in b)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b))
    return a == b


def test_counterexamples_replay_from_json(two_quick_runs):
    _, root = two_quick_runs[0]
    doc = json.loads((root / "results" / "claims.json").read_text())
    replayed = 0
    for cid, claim in doc["claims"].items():
        for cx in claim["counterexamples"]:
            outcome = replay_counterexample(cid, json.loads(json.dumps(cx)))
            shared = set(outcome) & set(cx["outcome"])
            assert shared, (cid, cx["outcome"], outcome)
            assert _close({k: cx["outcome"][k] for k in shared},
                          {k: outcome[k] for k in shared}), (cid, cx["description"])
            replayed += 1
    assert replayed >= 2  # P1 and P2 fail with counterexamples


def test_a_check_that_errors_exits_non_zero(tmp_path, monkeypatch):
    import claims.m1 as m1

    def broken(config):
        raise RuntimeError("deliberate")

    monkeypatch.setattr(m1, "gather", broken)
    code = main(["check", "--claim", "M1", "--quick", "--no-progress",
                 "--results-dir", str(tmp_path), "--tex", str(tmp_path / "c.tex")])
    doc = json.loads((tmp_path / "claims.json").read_text())
    assert code == 1 and "deliberate" in doc["claims"]["M1"]["error"]


def test_unknown_claim_id_is_a_clear_error():
    with pytest.raises(ValueError, match="claim id must be one of"):
        main(["check", "--claim", "Z9", "--no-progress"])


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "emc_theory.cli", "--help"], capture_output=True,
                         text=True, check=True).stdout
    for command in ("check", "derive", "paper", "course", "bench"):
        assert command in out
