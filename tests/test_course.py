"""The course: four lectures (jupytext) with course metadata and exercises whose solutions are
tagged, built into instructor and student notebooks and a static site whose mathematics is
rendered at build time; the site is then read by a real headless browser with the network off.

The build runs once (quick mode, into a temporary directory, without a claims report); the
browser tests need Debian's ``chromium`` (installed by ``.ci/run``: under CI its absence fails)."""
import ast
import copy
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import jupytext
import pytest
from bs4 import BeautifulSoup

from experiments.course import (
    CHECK_TAG,
    SITE_CONFIG,
    SOLUTION_TAG,
    STUDENT_TAG,
    build_course,
    latex_standins,
    lecture_files,
    prerender_math,
    read_lecture,
    results_dir,
)

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "course"
LECTURES = lecture_files(COURSE)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
# TeX left visible on a page: a control sequence or a dollar sign outside code
RAW_TEX = re.compile(r"\\[A-Za-z]+|\$")


def tags(cell) -> set:
    return set(cell.get("metadata", {}).get("tags", []))


def exercise_blocks(notebook) -> list:
    """The cells of each exercise: from a Markdown cell with '**Exercise' to the next one."""
    cells = notebook.cells
    start = next(i for i, c in enumerate(cells) if "## Exercises" in c.source)
    blocks = []
    for cell in cells[start:]:
        if cell.cell_type == "markdown" and "**Exercise" in cell.source:
            blocks.append([])
        elif blocks:
            blocks[-1].append(cell)
    return blocks


def bound_names(source: str) -> set:
    """Names a cell binds at its top level (assignments, definitions)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.For)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def read_names(source: str) -> set:
    return {n.id for n in ast.walk(ast.parse(source))
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


# ---- the sources ---------------------------------------------------------------------------

def test_four_lectures_in_percent_format_with_course_metadata():
    assert [p.name[:8] for p in LECTURES] == ["lecture1", "lecture2", "lecture3", "lecture4"]
    for number, path in enumerate(LECTURES, start=1):
        lecture = read_lecture(path)
        assert lecture.title.startswith(f"Lecture {number}: ")
        assert 30 <= lecture.minutes <= 120
        assert len(lecture.objectives) >= 3 and len(lecture.prerequisites) >= 1
        kinds = [cell.cell_type for cell in lecture.notebook.cells]
        assert kinds.count("code") >= 5
        code = path.read_text()
        assert "Path.cwd()" not in code      # results/ is found by results_dir, not the cwd
        if "RESULTS" in code:
            assert "RESULTS = results_dir()" in code, path.name


def test_each_exercise_has_a_stub_a_solution_and_a_check():
    """Every exercise: a student stub, a solution (tagged) and, after both, a check cell that
    asserts; untagged cells (shared set-up) only before the answer."""
    for path in LECTURES:
        blocks = exercise_blocks(jupytext.read(path))
        assert len(blocks) >= 2, path.name
        for number, block in enumerate(blocks, start=1):
            where = f"{path.name}, exercise {number}"
            kinds = [next(iter(tags(c)), "") for c in block if c.cell_type == "code"]
            assert kinds.count(STUDENT_TAG) == kinds.count(SOLUTION_TAG) == 1, where
            assert kinds[-1] == CHECK_TAG and kinds.count(CHECK_TAG) == 1, where
            assert set(kinds[:kinds.index(STUDENT_TAG)]) <= {""}, where
            check = next(c for c in block if CHECK_TAG in tags(c))
            assert re.search(r"^\s*assert ", check.source, re.M), where
            # what the check reads of the solution, the student's stub defines too
            (solution,) = [c.source for c in block if SOLUTION_TAG in tags(c)]
            (stub,) = [c.source for c in block if STUDENT_TAG in tags(c)]
            needed = bound_names(solution) & (read_names(check.source) - bound_names(check.source))
            assert needed and needed <= bound_names(stub), (where, needed)


def test_lecture_metadata_is_required(tmp_path):
    bare = tmp_path / "lecture9_bare.py"
    bare.write_text("# %% [markdown]\n# # Lecture 9\n\n# %%\nx = 1\n")
    with pytest.raises(ValueError, match="lecture9_bare.py.*'course' metadata"):
        read_lecture(bare)
    bad = tmp_path / "lecture9_bad.py"
    bad.write_text("# ---\n# jupyter:\n#   course:\n#     minutes: 0\n#     prerequisites: [a]\n"
                   "#     objectives: [b]\n# ---\n\n# %% [markdown]\n# # Lecture 9\n")
    with pytest.raises(ValueError, match="course.minutes must be a positive integer"):
        read_lecture(bad)
    assert build_course(quick=True, course_dir=tmp_path, build_dir=tmp_path / "b") == 1


def test_results_are_found_wherever_a_notebook_is_opened(tmp_path, monkeypatch):
    monkeypatch.delenv("EMC_RESULTS_DIR", raising=False)
    checkout = tmp_path / "clone"
    (checkout / "emc_theory").mkdir(parents=True)
    (checkout / "emc_theory" / "__init__.py").write_text("")
    deep = checkout / "course" / "build" / "notebooks" / "student"
    deep.mkdir(parents=True)
    assert results_dir(deep) == checkout.resolve() / "results"     # inside a checkout
    elsewhere = tmp_path / "downloads"
    elsewhere.mkdir()
    assert results_dir(elsewhere) == REPO / "results"   # the checkout the toolkit came from
    monkeypatch.setenv("EMC_RESULTS_DIR", str(tmp_path / "mine"))
    assert results_dir(deep) == tmp_path / "mine"


# ---- Lecture 3 says what the T1 verdict says -----------------------------------------------

def verdict_cell(path) -> str:
    sources = [c.source for c in jupytext.read(path).cells if c.cell_type == "code"]
    (cell,) = [s for s in sources if "display(Markdown(verdict_text))" in s]
    return cell


def run_verdict_cell(results: Path) -> str:
    """Run Lecture 3's verdict cell on ``results`` and return the Markdown it displays."""
    from claims.support.report import recorded_claims

    shown = []
    namespace = {"RESULTS": results, "recorded_claims": recorded_claims, "re": re,
                 "Markdown": lambda text: text, "display": shown.append}
    exec(verdict_cell(COURSE / "lecture3_emc_linear.py"), namespace)
    (text,) = shown
    return text


LINEAR_VERDICT_WORDS = {
    "holds": ("converge, as the theorem says", "not"),
    "conditional": ("converges only under a condition", "as the theorem says"),
    "fails": ("does **not** converge", "as the theorem says"),
    "undecided": ("could **not** decide", "as the theorem says"),
}


@pytest.mark.parametrize("verdict", sorted(LINEAR_VERDICT_WORDS))
def test_lecture3_states_the_recorded_t1_verdict(tmp_path, verdict):
    """A record whose linear-reading verdict is planted: the lecture's text follows it (and
    never says "converges" plainly beside a verdict that says otherwise)."""
    record = {"claims": {"T1": {
        "per_reading": {"linear": verdict, "power": "fails", "root": "undecided"},
        "statement": "undecided", "proof": "gap", "proof_reason": "a planted reason",
        "statement_reason": f"power: fails (x); root: undecided (y); linear: {verdict} (z z)",
        "conditions": ["linear: eta0 small"] if verdict == "conditional" else []}}}
    (tmp_path / "claims.json").write_text(json.dumps(record))
    text = run_verdict_cell(tmp_path)
    says, never = LINEAR_VERDICT_WORDS[verdict]
    assert f"linear reading: {verdict}." in text and says in text and never not in text
    assert "The check's reason: z z." in text
    assert ("Condition: eta0 small." in text) == (verdict == "conditional")


def test_lecture3_on_the_committed_record_and_without_one(tmp_path):
    committed = json.loads((REPO / "results" / "claims.json").read_text())["claims"]["T1"]
    text = run_verdict_cell(REPO / "results")
    assert f"linear reading: {committed['per_reading']['linear']}." in text
    assert "No verdict on T1 is recorded" in run_verdict_cell(tmp_path)
    prose = "\n".join(c.source for c in jupytext.read(COURSE / "lecture3_emc_linear.py").cells
                      if c.cell_type == "markdown")
    assert not re.search(r"linear reading (then |always )?converges", prose)


# ---- the build -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Every lecture built once in quick mode, without a claims report (Lecture 4 then runs
    the quick checks of the claims it replays)."""
    build = tmp_path_factory.mktemp("course-build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMC_RESULTS_DIR", str(tmp_path_factory.mktemp("no-results")))
        status = build_course(quick=True, course_dir=COURSE, build_dir=build)
    assert status == 0
    return build


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def test_every_lecture_executes_into_an_instructor_notebook(built):
    for path in LECTURES:
        notebook = load(built / "notebooks" / "instructor" / f"{path.stem}.ipynb")
        code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
        outputs = [o for c in code for o in c["outputs"]]
        assert not [o for o in outputs if o["output_type"] == "error"]
        assert any("image/png" in o.get("data", {}) for o in outputs), path.name
        assert all(c["execution_count"] for c in code), path.name     # every cell ran
        assert not [c for c in code if STUDENT_TAG in tags(c)], path.name
        assert len([c for c in code if SOLUTION_TAG in tags(c)]) >= 2, path.name
    lecture3 = load(built / "notebooks" / "instructor" / "lecture3_emc_linear.ipynb")
    shown = [o["data"]["text/markdown"] for c in lecture3["cells"] if c["cell_type"] == "code"
             for o in c["outputs"] if "text/markdown" in o.get("data", {})]
    assert len(shown) == 1 and "No verdict on T1 is recorded" in "".join(shown[0])


def test_the_student_version_has_no_solution(built):
    for path in LECTURES:
        source = jupytext.read(path)
        solutions = [c.source.strip() for c in source.cells if SOLUTION_TAG in tags(c)]
        student = load(built / "notebooks" / "student" / f"{path.stem}.ipynb")
        instructor = load(built / "notebooks" / "instructor" / f"{path.stem}.ipynb")
        cells = student["cells"]
        assert not [c for c in cells if SOLUTION_TAG in tags(c)], path.name
        text = "\n".join("".join(c["source"]) for c in cells)
        assert not [s for s in solutions if s in text], path.name
        # each solution's own lines (those in no other cell) appear nowhere in the student's
        others = "\n".join(c.source for c in source.cells if SOLUTION_TAG not in tags(c))
        own = {line.strip() for s in solutions for line in s.splitlines()
               if len(line.strip()) > 12 and line.strip() not in others}
        assert own and not [line for line in own if line in text], path.name
        # stubs and checks are there; checks carry no output of the instructor's run
        assert (sum(STUDENT_TAG in tags(c) for c in cells) == len(solutions)
                == sum(CHECK_TAG in tags(c) for c in cells))
        assert not [c for c in cells if tags(c) & {CHECK_TAG, STUDENT_TAG} and c["outputs"]]
        assert "student version" in "".join(cells[0]["source"]).splitlines()[0]
        # the lecture itself keeps its outputs: every figure of the instructor's before the
        # exercises is in the student's
        def figures(nb):
            return sum("image/png" in o.get("data", {}) for c in nb["cells"]
                       if c["cell_type"] == "code" and not tags(c) for o in c["outputs"])
        assert figures(student) == figures(instructor) > 0, path.name


def site_pages(built) -> list:
    site = built / "site"
    return [site / "index.html"] + [site / version / f"{p.stem}.html"
                                    for version in ("instructor", "student") for p in LECTURES]


def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def visible_prose(page: BeautifulSoup) -> str:
    """The text a reader sees in the page's body, less code and program output."""
    body = copy.copy(page.select_one("div.body") or page.body)
    for element in body.select("pre, code, div.highlight, script, style"):
        element.decompose()
    return body.get_text(" ")


def test_the_index_describes_every_lecture(built):
    index = soup(built / "site" / "index.html")
    text = " ".join(index.get_text(" ").split())
    hrefs = {a.get("href") for a in index.find_all("a")}
    for path in LECTURES:
        lecture = read_lecture(path)
        heading = next(h for h in index.find_all("h3")
                       if " ".join(h.get_text(" ").split()).startswith(lecture.title[:12]))
        section = heading.find_parent("section")
        assert f"about {lecture.minutes} minutes" in section.get_text(" ")
        assert all(" ".join(p.split()) in text for p in lecture.prerequisites), path.name
        assert len(section.select("li")) == len(lecture.objectives), path.name
        assert {f"instructor/{path.stem}.html", f"student/{path.stem}.html"} <= hrefs
        downloads = [a["href"] for a in section.select("a.download")]
        assert len(downloads) == 2, path.name
        assert all((built / "site" / href).is_file() for href in downloads)


def test_the_site_loads_nothing_remote_and_shows_no_raw_tex(built):
    site = built / "site"
    for page_path in site_pages(built):
        page = soup(page_path)
        loaded = [t.get("src") for t in page.find_all(["script", "img", "iframe", "source"])]
        loaded += [t.get("href") for t in page.find_all("link")]
        for url in filter(None, loaded):
            parsed = urlparse(url)
            assert not parsed.scheme and not parsed.netloc, (page_path.name, url)
            assert (page_path.parent / parsed.path).is_file(), (page_path.name, url)
        assert not page.select("span.math"), page_path    # imgmath's raw-TeX fallback
        assert not RAW_TEX.search(visible_prose(page)), (page_path, RAW_TEX.search(
            visible_prose(page)))
        formulas = page.select("img.math, div.math img")
        assert formulas, page_path
        for img in formulas:
            svg = (page_path.parent / img["src"]).read_text()
            assert svg.lstrip().startswith("<?xml") and "<path" in svg
    for css in (site / "_static").rglob("*.css"):
        assert not re.search(r"(url\(|@import)\s*['\"]?(https?:)?//", css.read_text()), css


def test_batched_math_matches_imgmath_one_formula_at_a_time(tmp_path):
    """prerender_math (one LaTeX run per page) writes the files imgmath would: the same names
    (a hash of imgmath's own LaTeX document) and the same baseline depths."""
    from sphinx.application import Sphinx

    source = tmp_path / "src"
    source.mkdir()
    (source / "index.md").write_text(
        "# Page\n\nInline $x_k^2 + \\tfrac12\\|y\\|$ and\n\n"
        "$$M = \\begin{pmatrix} 1 & \\beta \\\\ 1 & 0\\end{pmatrix}$$\n")
    config = {k: v for k, v in SITE_CONFIG.items() if not k.startswith("html_static")
              and k != "html_css_files"}
    files = {}
    for batched in (False, True):
        out = tmp_path / f"out-{batched}"
        with latex_standins(tmp_path / "texinputs"):
            app = Sphinx(source, None, out, tmp_path / f"doctrees-{batched}", "html",
                         confoverrides=dict(config), status=None, warning=None, freshenv=True)
            if batched:
                app.connect("doctree-resolved", prerender_math)
            app.build(force_all=True)
        files[batched] = {p.name: p.read_text().rsplit("<!-- DEPTH=", 1)[1]
                          for p in (out / "_images" / "math").glob("*.svg")}
    assert len(files[False]) == 2 and files[True] == files[False]


# ---- a real browser, network off -----------------------------------------------------------

def chromium(*args, profile: Path) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing (.ci/run installs Debian's chromium)")
        pytest.skip("needs Debian's chromium")
    offline = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND",
               "--proxy-server=127.0.0.1:9", "--hide-scrollbars"]
    return subprocess.run([CHROMIUM, *offline, *args], capture_output=True, text=True,
                          timeout=120)


PROBE = """<!DOCTYPE html><html><body>
<iframe id="page" src="{page}" width="1200" height="900"></iframe>
<img id="missing" class="control" src="no-such-formula.svg">
<pre id="out">pending</pre>
<script>
document.getElementById("page").addEventListener("load", () => {{
  const doc = document.getElementById("page").contentDocument;
  const math = [...doc.querySelectorAll("img.math, div.math img")];
  const shown = (i) => i.complete && i.naturalWidth > 0 && i.getBoundingClientRect().height > 0;
  document.getElementById("out").textContent = JSON.stringify({{
    math: math.length, shown: math.filter(shown).length,
    control_shown: shown(document.getElementById("missing")),
    scripts: [...doc.scripts].map(s => s.src).filter(s => s && !s.startsWith("file:"))}});
}});
</script></body></html>
"""


@pytest.mark.parametrize("page", ["instructor/lecture1_gradient_descent.html",
                                  "student/lecture3_emc_linear.html"])
def test_a_browser_without_network_shows_typeset_math(built, tmp_path, page):
    target = built / "site" / page
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", target.as_uri(),
                   profile=tmp_path / "profile")
    assert dom.returncode == 0 and "<html" in dom.stdout, dom.stderr[-2000:]
    rendered = BeautifulSoup(dom.stdout, "html.parser")
    assert len(rendered.select("img.math")) > 10
    assert not RAW_TEX.search(visible_prose(rendered))
    # each formula's image is loaded and laid out (a missing image, the control, is not)
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE.format(page=target.as_uri()))
    result = chromium("--allow-file-access-from-files", "--virtual-time-budget=8000",
                      "--dump-dom", probe.as_uri(), profile=tmp_path / "profile")
    report = json.loads(BeautifulSoup(result.stdout, "html.parser").find(id="out").text)
    assert report["math"] == len(rendered.select("img.math, div.math img"))
    assert report["shown"] == report["math"] and report["control_shown"] is False
    assert report["scripts"] == []
    # and a screenshot of it (looked at by eye when the course changes)
    shot = tmp_path / "page.png"
    result = chromium("--window-size=1280,1600", f"--screenshot={shot}", target.as_uri(),
                      profile=tmp_path / "profile")
    assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", result.stderr[-2000:]


def test_a_failing_exercise_fails_the_build(tmp_path, capsys):
    (tmp_path / "lecture9_broken.py").write_text(
        "# ---\n# jupyter:\n#   course:\n#     minutes: 10\n#     prerequisites: [none]\n"
        "#     objectives: [fail]\n# ---\n\n"
        "# %% [markdown]\n# # Lecture 9\n\n# %%\nassert 1 + 1 == 3, 'wrong answer'\n")
    assert build_course(quick=True, course_dir=tmp_path, build_dir=tmp_path / "build") == 1
    assert "wrong answer" in capsys.readouterr().err
    assert build_course(quick=True, course_dir=tmp_path / "empty") == 2
