"""Table: the symbolic results of ``proofs/``, one row per derivation with its results by status.

Runs :func:`proofs.run_all` and :func:`proofs.write_outputs` (``results/derivations.json`` and
``paper/generated/derivations.tex``, the derivations in full) when the JSON or the LaTeX is
missing or with ``--rerun``; the summary table and macros are made from the JSON.
"""
from __future__ import annotations

import json

import proofs
from emc_theory.render import tex_escape
from proofs.derivation import STATUSES

from .common import artifact_main, count_word, write_macros, write_table_tex

STEM = "table_derivations"


def derivations_document(paths, rerun: bool = False) -> dict:
    """``{name: Derivation.to_json()}``, running the derivations first if needed."""
    json_path = paths.results / "derivations.json"
    tex_path = paths.generated / "derivations.tex"
    if rerun or not (json_path.exists() and tex_path.exists()):
        proofs.write_outputs(proofs.run_all(), json_path, tex_path)
    return json.loads(json_path.read_text())


def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    """``quick`` and ``seed`` do not apply: the derivations are exact and draw nothing."""
    doc = derivations_document(paths, rerun)
    rows, totals = [], dict.fromkeys(STATUSES, 0)
    for name, derivation in doc.items():
        counts = {s: sum(r["status"] == s for r in derivation["results"].values())
                  for s in STATUSES}
        for s in STATUSES:
            totals[s] += counts[s]
        rows.append([rf"\texttt{{{tex_escape(name)}}}", tex_escape(derivation["title"]),
                     *(str(counts[s]) for s in STATUSES)])
    caption = (
        r"Symbolic results (sympy, \texttt{proofs/}; in full in Section~\ref{sec:derivations}): "
        r"per derivation the number of results \emph{proved} (a general statement decided "
        r"exactly), \emph{computed} (exact or certified values for stated instances) and "
        r"\emph{undecided} (sympy could not decide). Exact: no step size, seed or random draw "
        r"enters.")
    written = [write_table_tex(paths, STEM, "@{}l p{0.42\\linewidth} rrr@{}",
                               ["Derivation", "Title", *STATUSES], rows, caption,
                               "tab:derivations")]
    macros = {"DerivationsTotal": count_word(len(doc)),
              **{f"Derivations{s.title()}": str(totals[s]) for s in STATUSES}}
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    return written + [paths.results / "derivations.json", paths.generated / "derivations.tex"]


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
