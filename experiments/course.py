"""``emc-theory course``: execute the lectures of ``course/`` into notebooks and HTML.

Each ``course/lecture*.py`` (jupytext percent format) is read with jupytext, executed top to bottom
in a fresh ``python3`` kernel by nbclient (working directory ``course/``; ``EMC_QUICK=1`` in the
kernel's environment with ``quick``, which the lectures read to shrink their runs), and written
as ``course/build/<name>.ipynb`` and ``.html`` (nbconvert), with an ``index.html`` linking them.
A lecture whose cell raises (e.g. an exercise's check fails) stops the build with the lecture,
the cell and the error.
"""
from __future__ import annotations

import html
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
KERNEL_TIMEOUT_S = 600


def lecture_files(course_dir: Path) -> list:
    return sorted(course_dir.glob("lecture*.py"))


def kernel_environment(quick: bool) -> dict:
    """The kernel's environment: ``EMC_QUICK`` and the repository on ``PYTHONPATH`` (so the
    lectures import the toolkit when it is not installed), one BLAS thread."""
    path = os.pathsep.join(p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH")) if p)
    return {"EMC_QUICK": "1" if quick else "0", "PYTHONPATH": path,
            "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
            "MPLBACKEND": "module://matplotlib_inline.backend_inline"}


def execute_lecture(path: Path, build_dir: Path, quick: bool):
    """Execute one lecture; write its notebook and HTML; return the HTML path."""
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbconvert import HTMLExporter

    notebook = jupytext.read(path)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                       "language": "python"}
    saved = {key: os.environ.get(key) for key in kernel_environment(quick)}
    os.environ.update(kernel_environment(quick))
    try:
        NotebookClient(notebook, timeout=KERNEL_TIMEOUT_S, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    build_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, build_dir / f"{path.stem}.ipynb")
    body, _ = HTMLExporter().from_notebook_node(notebook)
    out = build_dir / f"{path.stem}.html"
    out.write_text(body, encoding="utf-8")
    return out


def write_index(build_dir: Path, pages: list) -> Path:
    links = "\n".join(f'<li><a href="{p.name}">{html.escape(p.stem)}</a> '
                      f'(<a href="{p.stem}.ipynb">notebook</a>)</li>' for p in pages)
    index = build_dir / "index.html"
    index.write_text("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>EMC course"
                     "</title></head><body><h1>The Entropic Momentum Cascade: lectures</h1>"
                     f"<ol>\n{links}\n</ol></body></html>\n", encoding="utf-8")
    return index


def build_course(quick: bool = False, *, course_dir=None, build_dir=None) -> int:
    """Execute every lecture of ``course_dir`` (default
    ``course``, relative to the current directory like ``emc-theory paper``) into ``build_dir``
    (default ``course_dir/build``). Returns 0 on success, 1 if a lecture fails, 2 if none is
    found."""
    from nbclient.exceptions import CellExecutionError

    course_dir = Path(course_dir or "course")
    build_dir = Path(build_dir) if build_dir else course_dir / "build"
    files = lecture_files(course_dir)
    if not files:
        print(f"no lectures (lecture*.py) found in {course_dir}: run `emc-theory course` from the "
              "repository root", file=sys.stderr)
        return 2
    pages = []
    for path in files:
        print(f"executing {path.name} ...", flush=True)
        try:
            pages.append(execute_lecture(path, build_dir, quick))
        except CellExecutionError as error:
            print(f"{path.name} failed:\n{error}", file=sys.stderr)
            return 1
    print(f"written: {write_index(build_dir, pages)} and {len(pages)} lecture(s) in {build_dir}")
    return 0
