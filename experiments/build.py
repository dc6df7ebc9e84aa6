r"""``emc-theory paper``: regenerate every figure, table and macro of the paper, then build the PDF.

Stages, in order (a tqdm bar on stderr counts them): the run records (fresh, unless
``rerun=False``), the claim checks only if ``results/claims.json`` is missing, the sympy
derivations, then every figure and table from the records. The longest run stage
(``BACKGROUND``) is computed in a second process beside the others and waited for before the
figures; each process runs one BLAS thread, so the records are those of a sequential build.
The PDF is built by ``latexmk -pdf`` into ``paper/build/``; without a TeX installation the build
stops with a message naming the Debian packages to install (the generated files are still
written).
"""
from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

from tqdm import tqdm

from emc_theory.records import worker_context

from . import (
    fig_convergence,
    fig_entropy,
    fig_phase,
    fig_stability,
    fig_weights,
    run_benchmark,
    run_phase,
    run_stability,
    run_weights,
    table_derivations,
    table_stability,
    table_steps,
    table_verdicts,
)
from .common import load_or_run, resolve_paths

TEX_PACKAGES = ("texlive-latex-base", "texlive-latex-recommended", "texlive-fonts-recommended",
                "latexmk")
RUNS = (run_weights, run_benchmark, run_stability, run_phase)
BACKGROUND = {run_stability: (fig_stability, table_stability)}
"""Run stages computed in the second process (the longest) -> the artifacts that wait for them."""
ARTIFACTS = (fig_weights, fig_convergence, fig_entropy, table_steps, fig_phase, fig_stability,
             table_stability)
LATEX_ERROR = re.compile(r"^(!|.*:\d+: )")


def _record(module_name: str, quick: bool, seed: int, paths, rerun: bool) -> None:
    """Compute (or reuse) the record of a run stage, by module name (for the second process)."""
    load_or_run(importlib.import_module(module_name), quick, seed, paths, rerun)


def stages(paths, quick: bool, seed: int, rerun: bool, pool=None):
    """``(label, thunk)`` for every stage, in order; with a process ``pool`` the ``BACKGROUND``
    run stages start there at once and are waited for before the first artifact made from them."""
    waits = {}
    for module in RUNS:
        if pool is not None and module in BACKGROUND:
            future = pool.submit(_record, module.__name__, quick, seed, paths, rerun)
            waits[module] = (module.NAME, future.result)
        else:
            yield module.NAME, partial(load_or_run, module, quick, seed, paths, rerun)
    yield "claims", partial(table_verdicts.make, paths, quick, seed, rerun=False)
    yield "derivations", partial(table_derivations.make, paths, quick, seed, rerun=rerun)
    for artifact in ARTIFACTS:
        for run in [run for run, needs in BACKGROUND.items() if artifact in needs and run in waits]:
            yield waits.pop(run)
        yield artifact.STEM, partial(artifact.make, paths, quick, seed, rerun=False)


def missing_tex() -> list:
    return [tool for tool in ("latexmk", "pdflatex") if shutil.which(tool) is None]


def tex_missing_message(missing: list) -> str:
    return (f"cannot build the PDF: {' and '.join(missing)} not found. Install TeX Live, e.g. on "
            f"Debian/Ubuntu:\n  sudo apt-get install {' '.join(TEX_PACKAGES)}\n"
            "then rerun `emc-theory paper` (or pass --no-pdf to regenerate the figures and tables "
            "only; they are already written).")


def build_pdf(paper_dir: Path) -> int:
    """``latexmk -pdf`` on ``paper_dir/main.tex`` into ``paper_dir/build``; 0 on success."""
    missing = missing_tex()
    if missing:
        print(tex_missing_message(missing), file=sys.stderr)
        return 3
    env = {**os.environ, "SOURCE_DATE_EPOCH": os.environ.get("SOURCE_DATE_EPOCH", "0"),
           "FORCE_SOURCE_DATE": "1"}
    command = ["latexmk", "-pdf", "-interaction=nonstopmode", "-halt-on-error",
               "-file-line-error", "-outdir=build", "main.tex"]
    done = subprocess.run(command, cwd=paper_dir, env=env, capture_output=True, text=True)
    log = paper_dir / "build" / "main.log"
    if done.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else done.stdout + done.stderr
        errors = [line for line in text.splitlines() if LATEX_ERROR.match(line)]
        print("LaTeX failed (" + " ".join(command) + f", in {paper_dir}):\n  "
              + "\n  ".join(errors[:10] or text.splitlines()[-20:])
              + f"\nfull log: {log}", file=sys.stderr)
        return 1
    print(f"PDF: {paper_dir / 'build' / 'main.pdf'}")
    return 0


def record_problems(results_dir, quick: bool) -> list:
    """Why ``results_dir/claims.json`` is unfit for a paper (empty if fit, or if it is missing:
    the build then runs every check): claims missing, claims from a quick run in a full build,
    several seeds (:func:`claims.support.store.record_status`), or not a record at all."""
    from claims.support.store import RecordError, load_record, record_status

    try:
        doc = load_record(results_dir)
    except RecordError as err:
        return [str(err)]
    return [] if doc is None else record_status(doc).problems(quick_ok=quick)


def build_paper(quick: bool = False, pdf: bool = True, *, paper_dir="paper", results_dir=None,
                seed: int = 0, rerun: bool = True, progress: bool = True,
                allow_partial: bool = False) -> int:
    """Regenerate ``paper_dir/generated`` from fresh records and build ``paper_dir/build/main.pdf``.

    ``results_dir`` defaults to ``$EMC_RESULTS_DIR`` or ``results``. A claims record that is
    partial (claims missing, or quick claims in a full build: :func:`record_problems`) is
    refused before any work unless ``allow_partial``. Returns 0 on success, 2 if
    ``paper_dir/main.tex`` is missing or the record is refused, 3 if TeX is missing, 1 if LaTeX
    fails.
    """
    paper_dir = Path(paper_dir)
    if not (paper_dir / "main.tex").exists():
        print(f"no {paper_dir / 'main.tex'}: run `emc-theory paper` from the repository root",
              file=sys.stderr)
        return 2
    paths = resolve_paths(results_dir, paper_dir / "generated")
    problems = [] if allow_partial else record_problems(paths.results, quick)
    if problems:
        print(f"refusing to build the paper from {paths.results / 'claims.json'}: "
              + "; ".join(problems) + ". Run `emc-theory check`" + (" --quick" if quick else "")
              + " to complete it, or pass --allow-partial to build from it as it is.",
              file=sys.stderr)
        return 2
    with ProcessPoolExecutor(max_workers=1, mp_context=worker_context()) as pool:
        bar = tqdm(stages(paths, quick, seed, rerun, pool), desc="paper", unit="stage",
                   total=len(RUNS) + 2 + len(ARTIFACTS), disable=not progress, file=sys.stderr)
        for label, stage in bar:
            bar.set_postfix_str(label)
            stage()
    print(f"generated: {paths.generated} (records in {paths.records})")
    return build_pdf(paper_dir) if pdf else 0
