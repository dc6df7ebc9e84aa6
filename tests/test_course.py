"""The lectures: each opens as a notebook (jupytext), ends with exercises checked by code, and
executes top to bottom in a kernel (``EMC_QUICK=1``) into a notebook and HTML."""
import json
import re
from pathlib import Path

import jupytext
import pytest

from experiments.course import build_course, lecture_files

COURSE = Path(__file__).resolve().parents[1] / "course"
LECTURES = lecture_files(COURSE)


def test_four_lectures_in_percent_format():
    assert [p.name[:8] for p in LECTURES] == ["lecture1", "lecture2", "lecture3", "lecture4"]
    for path in LECTURES:
        notebook = jupytext.read(path)
        kinds = [cell.cell_type for cell in notebook.cells]
        assert kinds[0] == "markdown" and notebook.cells[0].source.startswith("# Lecture")
        assert kinds.count("code") >= 5


def test_each_lecture_ends_with_exercises_checked_by_code():
    for path in LECTURES:
        notebook = jupytext.read(path)
        sources = [cell.source for cell in notebook.cells]
        start = next(i for i, s in enumerate(sources) if "## Exercises" in s)
        exercises = [s for s in sources[start:] if s.lstrip().startswith("**Exercise")
                     or "\n**Exercise" in s]
        checks = [s for cell, s in zip(notebook.cells[start:], sources[start:])
                  if cell.cell_type == "code" and re.search(r"^\s*assert ", s, re.M)]
        assert len(exercises) >= 2 and len(checks) >= len(exercises), path.name


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """Every lecture executed once in quick mode; lecture 4 without a claims report (it then
    runs the quick checks of the claims it replays)."""
    build = tmp_path_factory.mktemp("course-build")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMC_RESULTS_DIR", str(tmp_path_factory.mktemp("no-results")))
        status = build_course(quick=True, course_dir=COURSE, build_dir=build)
    return status, build


def test_every_lecture_executes_into_notebook_and_html(executed):
    status, build = executed
    assert status == 0
    for path in LECTURES:
        notebook = json.loads((build / f"{path.stem}.ipynb").read_text())
        outputs = [o for c in notebook["cells"] if c["cell_type"] == "code" for o in c["outputs"]]
        assert not [o for o in outputs if o["output_type"] == "error"]
        assert any("image/png" in o.get("data", {}) for o in outputs), path.name
        html = (build / f"{path.stem}.html").read_text()
        assert "<html" in html and "Exercise" in html
    index = (build / "index.html").read_text()
    assert all(f'href="{p.stem}.html"' in index for p in LECTURES)


def test_a_failing_exercise_fails_the_build(tmp_path, capsys):
    (tmp_path / "lecture9_broken.py").write_text(
        "# %% [markdown]\n# # Lecture 9\n\n# %%\nassert 1 + 1 == 3, 'wrong answer'\n")
    assert build_course(quick=True, course_dir=tmp_path, build_dir=tmp_path / "build") == 1
    assert "wrong answer" in capsys.readouterr().err
    assert build_course(quick=True, course_dir=tmp_path / "empty") == 2
