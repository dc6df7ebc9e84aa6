"""Figures and tables of the paper, one script per artifact, each ``python -m experiments.<name>``.

Every artifact is made in two stages that never mix: a *run* module (``run_*``) computes a JSON
record under ``results/experiments/`` from a parameter dict (grids, seeds, steps), and an
*artifact* script (``fig_*``, ``table_*``) turns records into ``paper/generated/`` files: figures
as PDF + PNG, tables as booktabs ``.tex``, and the macros (``\\newcommand``) that the paper's prose
uses for its numbers. An artifact script reuses a record whose parameters match and runs it
otherwise (``--rerun`` forces a fresh run).

Run stages: :mod:`~experiments.run_weights`, :mod:`~experiments.run_benchmark`,
:mod:`~experiments.run_stability`, :mod:`~experiments.run_phase`.
Artifacts: :mod:`~experiments.fig_weights`, :mod:`~experiments.fig_convergence`,
:mod:`~experiments.fig_entropy`, :mod:`~experiments.fig_stability`, :mod:`~experiments.fig_phase`,
:mod:`~experiments.table_steps`, :mod:`~experiments.table_stability`,
:mod:`~experiments.table_verdicts`, :mod:`~experiments.table_derivations`.
:func:`experiments.build.build_paper` runs them all and builds the PDF;
:func:`experiments.course.build_course` executes the lectures of ``course/``.
"""
