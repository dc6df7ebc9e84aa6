"""``emc-theory course``: execute the lectures of ``course/`` into notebooks and a static site.

Each ``course/lecture*.py`` (jupytext percent format) holds its own course metadata in its header
(``course: minutes, prerequisites, objectives``) and tags its exercise cells: ``solution`` (the
instructor's answer), ``student`` (the stub a student fills in, naming the values to compute) and
``check`` (the ``assert`` that tests either against a value obtained another way). From each
lecture the build makes

* the *instructor version*: ``student`` cells removed, executed top to bottom in a fresh
  ``python3`` kernel by nbclient (working directory ``course/``; ``EMC_QUICK=1`` with ``quick``,
  which the lectures read to shrink their runs);
* the *student version*: ``solution`` cells removed (nbconvert's ``TagRemovePreprocessor``), the
  other cells' outputs taken from the executed instructor version, ``check`` cells without
  outputs;

both written as ``build/notebooks/{instructor,student}/<name>.ipynb`` and, with an index of the
lectures (``course/index.md`` followed by each lecture's title, time, prerequisites and learning
objectives), as a static Sphinx site in ``build/site/`` (myst-nb, outputs not re-executed). The
site's mathematics is rendered at build time by LaTeX and dvisvgm (``sphinx.ext.imgmath``, SVG;
:func:`prerender_math` batches a page's formulas into one LaTeX run), so the pages load nothing
from the network and need no script to show their mathematics.

A lecture whose cell raises (e.g. an exercise's check fails) stops the build with the lecture, the
cell and the error; so do a lecture without its course metadata and a Sphinx warning (a formula
LaTeX cannot typeset would otherwise be left as raw TeX on the page).

The lectures find ``results/`` with :func:`results_dir`, wherever a built notebook is opened.
"""
from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
KERNEL_TIMEOUT_S = 600
SOLUTION_TAG, STUDENT_TAG, CHECK_TAG = "solution", "student", "check"
VERSIONS = ("instructor", "student")
SITE_TOOLS = ("latex", "kpsewhich", "dvisvgm")
SITE_TITLE = "The Entropic Momentum Cascade: a course"

# imgmath's LaTeX template loads the package anyfontsize (in Debian's large texlive-latex-extra)
# so that \fontsize can ask for any size. The site asks for 12 pt in the 12pt article class, a
# size the Computer Modern fonts have, so where anyfontsize is not installed an empty package of
# that name stands in for it (on TEXINPUTS during the build); imgmath's own template is used
# as it is (Sphinx 9 cannot render a custom one).
_ANYFONTSIZE_STANDIN = ("\\NeedsTeXFormat{LaTeX2e}\n"
                        "\\ProvidesPackage{anyfontsize}[2000/01/01 stand-in: 12pt only]\n")

SITE_CONFIG = {
    "project": SITE_TITLE,
    "extensions": ["myst_nb", "sphinx.ext.imgmath"],
    "html_math_renderer": "imgmath",
    "imgmath_image_format": "svg",
    "imgmath_use_preview": True,
    "imgmath_font_size": 12,
    "myst_enable_extensions": ["dollarmath", "amsmath"],
    "nb_execution_mode": "off",
    "nb_render_markdown_format": "myst",   # the Markdown a lecture displays may hold math
    "html_theme": "alabaster",
    "html_theme_options": {"fixed_sidebar": True, "page_width": "1240px"},
    "html_copy_source": False,
    "html_show_sourcelink": False,
    "html_permalinks": False,
    "html_show_copyright": False,
    "html_show_sphinx": False,
    "html_static_path": ["_static"],
    "html_css_files": ["course.css"],
}
# The formulas are rendered at the body text's size; in headings they are scaled up with it.
# Code at 14 px in a body wider than Sphinx's 800 px fits the lectures' 100 columns. Below
# alabaster's page width the sidebar turns dark: its formulas (black SVG) are inverted there.
SITE_CSS = """h1 img.math { zoom: 2.2; }
h2 img.math { zoom: 1.7; }
h3 img.math { zoom: 1.4; }
div.body { max-width: 960px; }
div.highlight pre { font-size: 14px; }
@media screen and (max-width: 1240px) {  /* alabaster's narrow layout: a dark sidebar on top */
    div.sphinxsidebar img.math { filter: invert(1); }
}
"""


# ---- where the lectures find results/ ------------------------------------------------------

def is_checkout(path) -> bool:
    """Whether ``path`` is a checkout of this repository (it holds the toolkit and the course)."""
    path = Path(path)
    return (path / "emc_theory" / "__init__.py").is_file() and (path / "course").is_dir()


def repository_root(start=None):
    """The checkout that holds ``start`` (default: the current directory), else the checkout
    this module was imported from, else None."""
    start = Path(start or Path.cwd()).resolve()
    for candidate in (start, *start.parents):
        if is_checkout(candidate):
            return candidate
    return REPO_ROOT if is_checkout(REPO_ROOT) else None


def results_dir(start=None) -> Path:
    """The ``results/`` folder a lecture reads: ``$EMC_RESULTS_DIR`` if set, else ``results/`` of
    :func:`repository_root` (so a built notebook finds it wherever it is opened), else
    ``results/`` under ``start``."""
    if os.environ.get("EMC_RESULTS_DIR"):
        return Path(os.environ["EMC_RESULTS_DIR"])
    root = repository_root(start)
    return (root if root is not None else Path(start or Path.cwd())) / "results"


# ---- lectures ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Lecture:
    """One lecture: its source, title (the first heading), time in minutes, prerequisites and
    learning objectives (from the ``course`` metadata of its header) and its notebook with every
    cell (instructor and student cells alike), each with a stable id."""

    path: Path
    title: str
    minutes: int
    prerequisites: tuple
    objectives: tuple
    notebook: object

    @property
    def name(self) -> str:
        return self.path.stem


def lecture_files(course_dir: Path) -> list:
    return sorted(Path(course_dir).glob("lecture*.py"))


def read_lecture(path) -> Lecture:
    """Read a lecture with jupytext; ValueError naming the lecture and the field if its course
    metadata is missing or malformed or it does not open with a ``# `` title."""
    import jupytext

    path = Path(path)
    notebook = jupytext.read(path)
    meta = notebook.metadata.get("course")
    if not isinstance(meta, dict):
        raise ValueError(f"{path.name}: the header has no 'course' metadata (minutes, "
                         "prerequisites, objectives)")
    minutes = meta.get("minutes")
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        raise ValueError(f"{path.name}: course.minutes must be a positive integer, got {minutes!r}")
    lists = {}
    for field in ("prerequisites", "objectives"):
        value = meta.get(field)
        if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            raise ValueError(f"{path.name}: course.{field} must be a non-empty list of strings, "
                             f"got {value!r}")
        lists[field] = tuple(" ".join(v.split()) for v in value)
    first = notebook.cells[0] if notebook.cells else None
    if first is None or first.cell_type != "markdown" or not first.source.startswith("# "):
        raise ValueError(f"{path.name}: the first cell must be Markdown opening with '# <title>'")
    for index, cell in enumerate(notebook.cells):
        cell.id = f"cell-{index}"
    return Lecture(path, first.source.splitlines()[0][2:].strip(), minutes,
                   lists["prerequisites"], lists["objectives"], notebook)


def tags(cell) -> set:
    return set(cell.get("metadata", {}).get("tags", []))


def _about_lines(lecture: Lecture) -> list:
    """A lecture's time, prerequisites and objectives as Markdown lines."""
    return ([f"**Time:** about {lecture.minutes} minutes. "
             f"**Prerequisites:** {'; '.join(lecture.prerequisites)}.", "",
             "**After this lecture you can**", ""]
            + [f"- {objective}" for objective in lecture.objectives])


def about_cell(lecture: Lecture, version: str):
    """The Markdown cell put after a lecture's title: time, prerequisites, objectives and, in the
    student version, how to work the exercises."""
    import nbformat

    lines = _about_lines(lecture)
    if version == "student":
        lines += ["", "*Student version:* the solutions are removed. Each exercise has a cell for "
                  "your answer, which names the values to compute, and a check cell after it: "
                  "run the check to test your answer."]
    cell = nbformat.v4.new_markdown_cell("\n".join(lines))
    cell.id = "course-about"
    return cell


def _without(notebook, tag: str):
    from nbconvert.preprocessors import TagRemovePreprocessor

    stripped, _ = TagRemovePreprocessor(remove_cell_tags={tag}).preprocess(
        copy.deepcopy(notebook), {})
    return stripped


def instructor_version(lecture: Lecture):
    """The lecture without its ``student`` stubs, with the about cell after the title (not yet
    executed)."""
    notebook = _without(lecture.notebook, STUDENT_TAG)
    notebook.cells.insert(1, about_cell(lecture, "instructor"))
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    return notebook


def student_version(lecture: Lecture, executed):
    """The lecture without its ``solution`` cells; every other code cell carries the outputs of
    the same cell in ``executed`` (the executed instructor version), except the ``check`` cells
    and the ``student`` stubs, which have none (they ran against the instructor's answers, or
    not at all)."""
    outputs = {cell.id: cell for cell in executed.cells if cell.cell_type == "code"}
    notebook = _without(lecture.notebook, SOLUTION_TAG)
    notebook.metadata["kernelspec"] = executed.metadata["kernelspec"]
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        ran = outputs.get(cell.id)
        keep = ran is not None and not tags(cell) & {CHECK_TAG, STUDENT_TAG}
        cell.outputs = copy.deepcopy(ran.outputs) if keep else []
        cell.execution_count = ran.execution_count if keep else None
    title = notebook.cells[0]
    first, _, rest = title.source.partition("\n")
    title.source = f"{first} (student version)" + ("\n" + rest if rest else "")
    notebook.cells.insert(1, about_cell(lecture, "student"))
    return notebook


# ---- execution -----------------------------------------------------------------------------

def kernel_environment(quick: bool) -> dict:
    """The kernel's environment: ``EMC_QUICK`` and the repository on ``PYTHONPATH`` (so the
    lectures import the toolkit when it is not installed), one BLAS thread."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {"EMC_QUICK": "1" if quick else "0", "PYTHONPATH": path,
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def execute(notebook, working_dir: Path, quick: bool):
    """Execute ``notebook`` in place in a fresh kernel started in ``working_dir``."""
    from nbclient import NotebookClient

    saved = {key: os.environ.get(key) for key in kernel_environment(quick)}
    os.environ.update(kernel_environment(quick))
    try:
        NotebookClient(notebook, timeout=KERNEL_TIMEOUT_S, kernel_name="python3",
                       resources={"metadata": {"path": str(working_dir)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return notebook


def build_notebooks(lecture: Lecture, notebook_dir: Path, quick: bool) -> dict:
    """Execute one lecture's instructor version, derive its student version, write both under
    ``notebook_dir/<version>/``; return version -> path."""
    import nbformat

    executed = execute(instructor_version(lecture), lecture.path.parent, quick)
    paths = {}
    for version, notebook in (("instructor", executed),
                              ("student", student_version(lecture, executed))):
        out = notebook_dir / version / f"{lecture.name}.ipynb"
        out.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, out)
        paths[version] = out
    return paths


# ---- the site ------------------------------------------------------------------------------

def index_markdown(intro: str, lectures: list) -> str:
    """The site's index page (MyST): ``intro`` (``course/index.md``), then per lecture its
    title, time, prerequisites, objectives, both versions' pages and notebooks; then the
    navigation (hidden toctrees)."""
    total = sum(lecture.minutes for lecture in lectures)
    parts = [intro.rstrip(), "", "## The lectures", "",
             f"{len(lectures)} lectures, about {total // 60} h {total % 60:02d} min in all.", ""]
    for lecture in lectures:
        parts += [f"### {lecture.title}", "", *_about_lines(lecture)]
        parts += ["", f"**Read:** {{doc}}`instructor version <instructor/{lecture.name}>` · "
                  f"{{doc}}`student version <student/{lecture.name}>`. "
                  f"**Notebooks:** {{download}}`instructor <instructor/{lecture.name}.ipynb>` · "
                  f"{{download}}`student <student/{lecture.name}.ipynb>`.", ""]
    for version, caption in (("instructor", "Instructor version (with solutions)"),
                             ("student", "Student version (no solutions)")):
        parts += ["```{toctree}", ":hidden:", f":caption: {caption}", ""]
        parts += [f"{version}/{lecture.name}" for lecture in lectures]
        parts += ["```", ""]
    return "\n".join(parts)


def prerender_math(app, doctree, docname) -> None:
    """Render every formula of one page in ONE LaTeX run and ONE dvisvgm run, into the files
    (name, depth comment) where ``sphinx.ext.imgmath`` looks first, which then only links them:
    imgmath alone runs LaTeX once per formula. Each formula's document is imgmath's own
    (``generate_latex_macro``); the batch puts their ``preview`` bodies on successive pages.
    On any failure this does nothing, and imgmath renders (and reports) the formulas itself."""
    from docutils import nodes
    from sphinx.ext.imgmath import generate_latex_macro, write_svg_depth
    from sphinx.util.math import wrap_displaymath

    config, builder = app.config, app.builder
    formulas = ["$" + node.astext() + "$" for node in doctree.findall(nodes.math)]
    formulas += [node.astext() if node.get("no-wrap", node.get("nowrap", False))
                 else wrap_displaymath(node.astext(), None, False)
                 for node in doctree.findall(nodes.math_block)]
    math_dir = Path(builder.outdir) / builder.imagedir / "math"
    pending = {}
    for math in formulas:
        latex = generate_latex_macro("svg", math, config, builder.confdir)
        target = math_dir / f"{hashlib.sha1(latex.encode()).hexdigest()}.svg"
        if not target.is_file():
            pending[target] = math
    if not pending:
        return
    marker = "EMCMATHPLACEHOLDER"
    template = generate_latex_macro("svg", marker, config, builder.confdir)
    head, _, rest = template.partition("\\begin{preview}")
    body, _, _ = rest.partition("\\end{preview}")
    if marker not in body:
        return
    pages = "".join("\\begin{preview}" + body.replace(marker, math) + "\\end{preview}\n"
                    for math in pending.values())
    with tempfile.TemporaryDirectory(prefix="emc-course-math-") as work:
        (Path(work) / "math.tex").write_text(head + pages + "\\end{document}\n",
                                             encoding="utf-8")
        latex_run = subprocess.run([config.imgmath_latex, "--interaction=nonstopmode",
                                    *config.imgmath_latex_args,
                                    "math.tex"], cwd=work, capture_output=True)
        if latex_run.returncode != 0:
            return
        svg_run = subprocess.run([config.imgmath_dvisvgm, *config.imgmath_dvisvgm_args,
                                  "-p", "1-", "-o", "page-%p.svg", "math.dvi"], cwd=work,
                                 capture_output=True, text=True)
        depths, written = [], []
        for line in svg_run.stderr.splitlines():
            if "depth=" in line:
                depths.append(round(float(line.rsplit("depth=", 1)[1].rstrip("pt")) * 100
                                    / 72.27))   # imgmath's conversion, at 100 ppi
            elif "output written to " in line:
                written.append(Path(work) / line.split("output written to ", 1)[1].strip())
        if svg_run.returncode != 0 or not len(depths) == len(written) == len(pending):
            return
        math_dir.mkdir(parents=True, exist_ok=True)
        for target, page, depth in zip(pending, written, depths):
            shutil.move(page, target)
            write_svg_depth(target, depth)


def _tex_finds(filename: str) -> bool:
    found = subprocess.run(["kpsewhich", filename], capture_output=True, text=True)
    return found.returncode == 0 and bool(found.stdout.strip())


@contextlib.contextmanager
def latex_standins(folder: Path):
    """While in the block, LaTeX finds the stand-in for anyfontsize in ``folder`` (put first on
    ``TEXINPUTS``) if it does not find the real package."""
    texinputs = os.environ.get("TEXINPUTS")
    if not _tex_finds("anyfontsize.sty"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "anyfontsize.sty").write_text(_ANYFONTSIZE_STANDIN)
        # the trailing separator keeps TeX's own search path after ours
        os.environ["TEXINPUTS"] = os.pathsep.join((str(folder), texinputs or ""))
    try:
        yield
    finally:
        if texinputs is None:
            os.environ.pop("TEXINPUTS", None)
        else:
            os.environ["TEXINPUTS"] = texinputs


def missing_site_tools() -> list:
    return [tool for tool in SITE_TOOLS if shutil.which(tool) is None]


def build_site(lectures: list, notebook_dir: Path, site_dir: Path, intro: str) -> list:
    """Build the static site of ``lectures`` (notebooks under ``notebook_dir``) into
    ``site_dir``; return Sphinx's warnings (empty on a clean build)."""
    from sphinx.application import Sphinx

    with tempfile.TemporaryDirectory(prefix="emc-course-site-") as staging:
        source = Path(staging) / "source"
        for version in VERSIONS:
            shutil.copytree(notebook_dir / version, source / version)
        (source / "index.md").write_text(index_markdown(intro, lectures), encoding="utf-8")
        (source / "_static").mkdir()
        (source / "_static" / "course.css").write_text(SITE_CSS)
        warnings = io.StringIO()
        with latex_standins(Path(staging) / "texinputs"):
            app = Sphinx(source, None, site_dir, Path(staging) / "doctrees", "html",
                         confoverrides=dict(SITE_CONFIG), status=None, warning=warnings,
                         freshenv=True)
            app.connect("doctree-resolved", prerender_math)
            app.build(force_all=True)
    return [line for line in warnings.getvalue().splitlines() if line.strip()]


def build_course(quick: bool = False, *, course_dir=None, build_dir=None, site: bool = True) -> int:
    """Build the course of ``course_dir`` (default ``course``, relative to the current directory
    like ``emc-theory paper``) into ``build_dir`` (default ``course_dir/build``): the notebooks in
    ``notebooks/`` and, with ``site``, the static site in ``site/``. Returns 0 on success, 1 if a
    lecture fails (or its metadata is missing, or the site's build warns or lacks its tools), 2
    if no lecture is found."""
    from nbclient.exceptions import CellExecutionError

    course_dir = Path(course_dir or "course")
    build_dir = Path(build_dir) if build_dir else course_dir / "build"
    files = lecture_files(course_dir)
    if not files:
        print(f"no lectures (lecture*.py) found in {course_dir}: run `emc-theory course` from the "
              "repository root", file=sys.stderr)
        return 2
    try:
        lectures = [read_lecture(path) for path in files]
    except ValueError as error:
        print(f"{error}", file=sys.stderr)
        return 1
    notebook_dir, site_dir = build_dir / "notebooks", build_dir / "site"
    for stale in (notebook_dir, site_dir):
        if stale.is_dir():
            shutil.rmtree(stale)
    for lecture in lectures:
        print(f"executing {lecture.path.name} ...", flush=True)
        try:
            build_notebooks(lecture, notebook_dir, quick)
        except CellExecutionError as error:
            print(f"{lecture.path.name} failed:\n{error}", file=sys.stderr)
            return 1
    print(f"written: instructor and student notebooks of {len(lectures)} lecture(s) in "
          f"{notebook_dir}")
    if not site:
        return 0
    missing = missing_site_tools()
    if missing:
        print(f"the course site renders its mathematics with LaTeX and dvisvgm; missing: "
              f"{', '.join(missing)} (Debian: apt-get install texlive-latex-base "
              "preview-latex-style dvisvgm)", file=sys.stderr)
        return 1
    index = course_dir / "index.md"
    intro = index.read_text(encoding="utf-8") if index.is_file() else f"# {SITE_TITLE}\n"
    print("building the site ...", flush=True)
    warnings = build_site(lectures, notebook_dir, site_dir, intro)
    if warnings:
        print("the site's build warned:\n" + "\n".join(warnings), file=sys.stderr)
        return 1
    print(f"written: {site_dir / 'index.html'}")
    return 0
