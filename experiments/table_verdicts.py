r"""Tables and text of the claims: verdicts, evidence, repairs and parameters, all from
``results/claims.json``.

Reads ``results/claims.json``; when it is missing (or with ``--rerun``) the checks are run first
(:func:`claims.support.registry.run_claims` + :func:`claims.support.report.write_reports`, every
available claim, with this script's ``--quick`` and ``--seed``). Writes, one table per file and
each table also as ``<stem>_tabular.tex`` (its tabular alone, for ``\input`` into another
document: no caption, no reference to this paper's labels, as wide as ``\linewidth``):

* ``claims.tex``: the verdict table (:func:`claims.support.report.render_latex`, re-rendered
  from the JSON so that the two always agree);
* ``table_verdicts.tex``: the verdicts beside the number of pieces of evidence of each kind and
  of counterexamples;
* ``evidence_<ID>.tex``: per claim (and repair) its evidence, one row per piece (a longtable);
* ``table_repairs.tex``: each repair beside its original;
* ``definitions.tex`` (the terms), ``claims_detail.tex`` (per claim: source, the paper's words,
  both verdicts with their reasons, conditions, its evidence table, counterexamples and
  witnesses), ``repairs.tex`` ("What holds instead"), ``claims_parameters.tex`` (every check's
  parameters, for the appendix);
* the macros the prose reads its counts and verdict words from (``numbers_table_verdicts.tex``,
  ``claim_macros.tex``).

Plain text from the records is typeset with :func:`emc_theory.render.plain_to_tex` (or taken
from a ``<field>_tex`` form where the record has one) after
:func:`emc_theory.render.readable_text`, so no Python repr or ASCII formula reaches the page.
"""
from __future__ import annotations

import json
import re

from claims.support.base import EVIDENCE_KINDS, CheckConfig
from claims.support.registry import available_claims, run_claims
from claims.support.report import (
    WITNESS_HEADINGS,
    conditions_heading,
    definitions_latex,
    in_report_order,
    reading_axis,
    render_latex,
    render_latex_tabular,
    repairs_by_original,
    source_parts,
    source_text,
    tex_text,
    witnesses,
    write_reports,
)
from claims.support.report import readings_tex as reading_verdicts_tex
from emc_theory.render import (
    booktabs_longtable,
    booktabs_tabular,
    code_tex,
    fitted_columns,
    plain_to_tex,
    readable,
    readable_text,
    tex_escape,
)

from .common import (
    TABULAR_SUFFIX,
    artifact_main,
    count_word,
    write_keyed_macros,
    write_macros,
    write_table_tex,
    write_text,
)

STEM = "table_verdicts"
STATEMENTS = ("holds", "fails", "conditional", "undecided")
PROOFS = ("sound", "gap", "mismatch", "none")
CITATIONS = {"000_3387dee144a58ac6.txt": "emc", "001_efec067ef178dacf.txt": "tan2024",
             "002_b6e316ebb5bc5295.txt": "papazov2024", "003_4e20904ff1472bb0.txt": "duersch2024"}
"""BibTeX key of each source seed (``paper/references.bib``)."""
GENERATED = "generated"
"""Where ``main.tex`` finds the generated files (``\\input{generated/...}``)."""
EVIDENCE_COLUMNS = fitted_columns((0.27, "l"), (0.73, "l"))
EVIDENCE_TABULAR = (r"@{}>{\raggedright\arraybackslash\hsize=0.6\hsize}X"
                    r">{\raggedright\arraybackslash\hsize=1.4\hsize}X@{}")


def claims_document(paths, quick: bool, seed: int, rerun: bool = False, progress: bool = True):
    """The claims JSON document, running the checks first if it is missing (or ``rerun``)."""
    json_path = paths.results / "claims.json"
    if rerun or not json_path.exists():
        config = CheckConfig(quick=quick, seed=seed)
        results = run_claims(available_claims(), config, progress=progress)
        write_reports(results, config, paths.results, paths.generated / "claims.tex")
    doc = json.loads(json_path.read_text())
    doc["claims"] = in_report_order(doc["claims"])
    doc.setdefault("repairs", {})
    return doc


def evidence_counts(claim: dict) -> dict:
    """Available pieces of evidence per kind, plus missing ones and counterexamples."""
    counts = {kind: sum(e["kind"] == kind and e["available"] for e in claim["evidence"])
              for kind in EVIDENCE_KINDS}
    counts["missing"] = sum(not e["available"] for e in claim["evidence"])
    counts["counterexamples"] = len(claim["counterexamples"])
    return counts


def outcome_text(outcome) -> str:
    """A counterexample's outcome as readable ``key: value`` pairs, numbers rounded."""
    return readable(outcome) if isinstance(outcome, dict) else readable_text(outcome)


def file_key(claim_id: str) -> str:
    """A claim or repair id as a file-name part and label key (``P1.r1`` -> ``P1-r1``)."""
    return claim_id.replace(".", "-")


def cite(record: dict) -> str:
    """Where the record's claim is stated, citing its source: ``\\citet{tan2024}, Theorem
    2.2``; ``the EMC paper~\\cite{emc}, Section 3.1, Theorem 1`` (a section given by number is
    called one)."""
    parts = source_parts(record)
    key = CITATIONS.get(parts["file"])
    section = plain_to_tex(parts["section"])
    section = ("Section~" + section) if parts["section"][:1].isdigit() else section
    if parts["file"].startswith("000_"):
        who = r"the EMC paper~\cite{emc}" if key else "the EMC paper"
    else:
        who = rf"\citet{{{key}}}" if key else plain_to_tex(parts["authors"])
    return f"{who}, {section}"


def sentence(tex: str) -> str:
    """``tex`` ending with a full stop (one, even where the text brings its own)."""
    return tex if tex.rstrip().endswith((".", "!", "?")) else tex.rstrip() + "."


def pdf_title(record: dict) -> str:
    r"""``ID: title`` for a section heading: typeset, with a plain form for the PDF's bookmarks
    (``\texorpdfstring``, from hyperref)."""
    title = readable_text(record["title"])
    plain = tex_escape(record["id"] + ("" if re.search(r"[_^*{}\\|<>~$]", title)
                                       else f": {title}"))
    return (rf"\texorpdfstring{{{tex_escape(record['id'])}: {tex_text(record, 'title')}}}"
            rf"{{{plain}}}")


def readings_tex(record: dict) -> str:
    """The per-reading verdicts with what they are per (``per reading of $h$: power holds,
    ...``), or ``no reading dependence``."""
    text = reading_verdicts_tex(record.get("per_reading", {}))
    return "no reading dependence" if text is None else text


# ----------------------------------------------------------------------------- evidence tables


def evidence_rows(record: dict) -> list:
    """One row per piece of evidence: its kind and name, and what it found (missing evidence
    says so, with the reason)."""
    rows = []
    for e in record["evidence"]:
        name = rf"\emph{{{tex_escape(e['kind'])}}}\newline " + plain_to_tex(e["name"])
        finding = tex_text(e, "summary")
        if not e["available"]:
            finding = r"\emph{missing:} " + finding
        rows.append([name, finding])
    return rows


def evidence_table(record: dict) -> tuple:
    """``(longtable, tabular)`` of a record's evidence: the body's table (breaks across pages)
    and its tabularx alone."""
    cid = record["id"]
    caption = (rf"Evidence behind the verdicts of {tex_escape(cid)} (statement "
               rf"{tex_escape(record['statement'])}, proof {tex_escape(record['proof'])}): "
               r"one row per piece of evidence, its kind (symbolic, numerical, independent) "
               r"and what it found. Parameters of the checks: \texttt{results/claims.json}.")
    header = ["Evidence", "Finding"]
    rows = evidence_rows(record)
    longtable = booktabs_longtable(EVIDENCE_COLUMNS, header, rows, caption=caption,
                                   label=f"tab:evidence-{file_key(cid)}", size=r"\footnotesize",
                                   comment="generated by experiments.table_verdicts; do not "
                                           "edit. Needs longtable, booktabs, array.")
    tabular = booktabs_tabular(EVIDENCE_TABULAR, header, rows, width=r"\linewidth")
    return longtable, tabular


def write_evidence_tables(paths, records: dict) -> list:
    written = []
    for cid, record in records.items():
        if not record["evidence"]:
            continue
        longtable, tabular = evidence_table(record)
        stem = f"evidence_{file_key(cid)}"
        written += [write_text(paths.generated / f"{stem}.tex", longtable + "\n"),
                    write_text(paths.generated / f"{stem}{TABULAR_SUFFIX}.tex",
                               "% generated by experiments.table_verdicts; do not edit. Needs "
                               "booktabs, array, tabularx.\n" + tabular + "\n")]
    return written


# ----------------------------------------------------------------------------- per-claim text


def _items(entries, env: str = "itemize") -> list:
    return [rf"\begin{{{env}}}", *(rf"\item {x}" for x in entries), rf"\end{{{env}}}"]


def claim_tex(record: dict, heading: str = r"\subsection") -> list:
    """The LaTeX of one claim (or repair): source, words, verdicts with reasons, conditions,
    evidence table, counterexamples and witnesses."""
    cid = record["id"]
    key = file_key(cid)
    lines = [rf"{heading}{{{pdf_title(record)}}}\label{{claim:{key}}}",
             rf"\emph{{Source:}} {cite(record)}.",
             r"\begin{quote}\itshape " + tex_text(record, "claim") + r"\end{quote}"]
    if record.get("repair_of"):
        lines.append(rf"\emph{{Repair of {tex_escape(record['repair_of'])}}} "
                     rf"({tex_escape(record.get('change') or '')} changed): "
                     + sentence(tex_text(record, "difference")))
    if record.get("paper_proof"):
        label = ("Proof of the corrected statement" if record.get("repair_of")
                 else "The paper's proof")
        lines.append(rf"\emph{{{label}:}} ``" + tex_text(record, "paper_proof") + "''")
    lines += [r"\begin{description}",
              rf"\item[Statement: {tex_escape(record['statement'])}.] "
              + sentence(tex_text(record, "statement_reason")),
              rf"\item[Proof: {tex_escape(record['proof'])}.] "
              + sentence(tex_text(record, "proof_reason"))]
    if reading_axis(record.get("per_reading", {})):
        lines.append(r"\item[Per reading.] " + readings_tex(record) + ".")
    lines.append(r"\end{description}")
    if record.get("conditions"):
        heading_tex = conditions_heading(record)[1]
        lines += [rf"\emph{{{heading_tex}:}}",
                  *_items(plain_to_tex(readable_text(c)) for c in record["conditions"])]
    if record.get("error"):
        lines.append(r"\emph{The check raised an error; its verdict is not assessed} (the "
                     r"traceback is in \texttt{results/claims.md}).")
    if record["evidence"]:
        lines.append(rf"\input{{{GENERATED}/evidence_{key}}}")
    found = witnesses(record)
    for label, heading in WITNESS_HEADINGS.items():
        items = [w for w in found if w["label"] == label]
        if items:
            lines.append(r"\emph{" + heading[1].format(id=tex_escape(cid)) + ":}")
            lines += _items([f"{plain_to_tex(readable_text(w['description']))}; outcome: "
                             f"{plain_to_tex(outcome_text(w['outcome']))}." for w in items],
                            env="enumerate")
    return lines


def detail_tex(doc: dict) -> str:
    """Per claim, in report order, its text (:func:`claim_tex`); the repairs of a claim follow
    it."""
    repairs = repairs_by_original(doc)
    lines = ["% generated by experiments.table_verdicts; do not edit"]
    for cid, record in doc["claims"].items():
        lines += claim_tex(record)
        for repair in repairs.get(cid, []):
            lines += claim_tex(repair, heading=r"\subsubsection")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- repairs


def repair_rows(doc: dict) -> list:
    """Per repair: its original with the original's statement verdict, the repair with what it
    changed, the corrected statement, and the repair's two verdicts."""
    rows = []
    for original, repairs in repairs_by_original(doc).items():
        parent = doc["claims"].get(original)
        for r in repairs:
            rows.append([tex_escape(original) + (f" ({tex_escape(parent['statement'])})"
                                                 if parent else ""),
                         tex_escape(r["id"]) + f" ({tex_escape(r.get('change') or '--')})",
                         tex_text(r, "claim"),
                         f"{tex_escape(r['statement'])}; {tex_escape(r['proof'])}"])
    return rows


REPAIR_HEADER = ["Original (statement)", "Repair (change)", "Corrected statement",
                 "Statement; proof"]
REPAIR_COLSPEC = r"@{}ll>{\raggedright\arraybackslash}Xl@{}"


def repairs_tex(doc: dict) -> str:
    """The section "What holds instead": each repair beside its original (words and verdicts of
    both, the difference in words), then the repair's evidence."""
    repairs = repairs_by_original(doc)
    lines = ["% generated by experiments.table_verdicts; do not edit"]
    if not repairs:
        lines.append("This record holds no repairs.")
        return "\n".join(lines) + "\n"
    lines.append(r"Table~\ref{tab:repairs} lists every repair beside its original; each is "
                 r"detailed below with its evidence.")
    lines.append(rf"\input{{{GENERATED}/table_repairs}}")
    for original, found in repairs.items():
        parent = doc["claims"].get(original)
        for r in found:
            lines.append(rf"\subsection{{{pdf_title(r)}}}")
            lines.append(r"\begin{description}")
            if parent:
                lines.append(rf"\item[Original ({tex_escape(original)}; statement "
                             rf"{tex_escape(parent['statement'])}, proof "
                             rf"{tex_escape(parent['proof'])}).] "
                             + tex_text(parent, "claim"))
            lines += [rf"\item[Repair ({tex_escape(r['id'])}; statement "
                      rf"{tex_escape(r['statement'])}, proof {tex_escape(r['proof'])}).] "
                      + tex_text(r, "claim"),
                      rf"\item[Difference ({tex_escape(r.get('change') or '--')} changed).] "
                      + sentence(tex_text(r, "difference")),
                      r"\item[Why.] " + sentence(tex_text(r, "statement_reason")),
                      r"\end{description}"]
            lines.append(rf"Evidence and counterexamples: Section~\ref{{claim:"
                         rf"{file_key(r['id'])}}}.")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- parameters


def parameters_tex(doc: dict) -> str:
    """Every check's parameters (grids, seeds, tolerances, budgets), one list per claim and
    repair, values readable and rounded (the JSON keeps them exact)."""
    lines = ["% generated by experiments.table_verdicts; do not edit"]
    records = {**doc["claims"], **doc.get("repairs", {})}
    for cid, record in records.items():
        params = record.get("parameters") or {}
        lines.append(rf"\paragraph{{{tex_escape(cid)}.}}")
        if not params:
            lines.append("No parameters (the check draws nothing and runs no grid).")
            continue
        lines += _items(code_tex(k) + ": " + plain_to_tex(readable(v)) for k, v in params.items())
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- make


def verdict_summary(records: dict, field: str, verdicts: tuple) -> str:
    """``holds: four (E1, M1, C1, C2); fails: ...``: the records' ``field`` verdicts with their
    counts and ids, in the order of ``verdicts``, verdicts no record has left out (``none``
    when there are no records)."""
    parts = []
    for verdict in verdicts:
        ids = [rid for rid, r in records.items() if r[field] == verdict]
        if ids:
            parts.append(rf"\emph{{{verdict}}}: {count_word(len(ids))} ({', '.join(ids)})")
    return "; ".join(parts) or "none"



def make(paths, quick: bool = False, seed: int = 0, rerun: bool = False) -> list:
    doc = claims_document(paths, quick, seed, rerun)
    claims, repairs = doc["claims"], doc["repairs"]
    cfg = doc["config"]
    written = [write_text(paths.generated / "claims.tex", render_latex(doc)),
               write_text(paths.generated / f"claims{TABULAR_SUFFIX}.tex",
                          render_latex_tabular(doc))]
    rows = []
    for cid, c in claims.items():
        n = evidence_counts(c)
        rows.append([tex_escape(cid) + (r"$^*$" if c["error"] else ""),
                     *(str(n[k]) for k in EVIDENCE_KINDS), str(n["missing"]),
                     str(len(witnesses(c)))])
    header = ["Id", *EVIDENCE_KINDS, "missing", "replayable"]
    errored = [cid for cid, c in claims.items() if c["error"]]
    seed_text = "different seeds" if cfg.get("seed") is None else f"seed {cfg['seed']}"
    caption = (
        r"The evidence behind each verdict of Table~\ref{tab:claim-verdicts}: pieces of "
        r"evidence of each kind (symbolic: sympy; numerical: runs of the core; independent: a "
        r"second method), pieces recorded as missing (a tool unavailable, or a text not in the "
        r"source), and replayable counterexamples and witnesses. From "
        r"\texttt{results/claims.json} ("
        + ("quick run" if cfg["quick"] else "full run") + f", {seed_text}); the evidence of "
        r"each claim is in Section~\ref{sec:claims}, the parameters of every check in "
        r"Appendix~\ref{app:parameters}."
        + (r" $^*$: the check raised an error and its verdict is not assessed ("
           + ", ".join(errored) + ")." if errored else ""))
    written += write_table_tex(paths, STEM, "@{}lrrrrr@{}", header, rows, caption,
                               "tab:verdicts")
    if repairs:
        written += write_table_tex(
            paths, "table_repairs", REPAIR_COLSPEC, REPAIR_HEADER, repair_rows(doc),
            r"What holds instead: each repair (a corrected statement, checked by the same "
            r"machinery) beside its original, with both statement verdicts and the repair's "
            r"proof verdict.", "tab:repairs", size=r"\footnotesize", width=r"\linewidth")
    written += write_evidence_tables(paths, {**claims, **repairs})
    written += [write_text(paths.generated / "definitions.tex",
                           "% generated by experiments.table_verdicts; do not edit\n"
                           + definitions_latex()),
                write_text(paths.generated / "claims_detail.tex", detail_tex(doc)),
                write_text(paths.generated / "repairs.tex", repairs_tex(doc)),
                write_text(paths.generated / "claims_parameters.tex", parameters_tex(doc))]
    holds_repairs = [rid for rid, r in repairs.items() if r["statement"] == "holds"]
    mode = "the small grids of a quick run" if cfg["quick"] else "the full grids"
    macros = {"ClaimsTotal": count_word(len(claims)), "ClaimsMode": mode,
              "ClaimsSeed": "mixed" if cfg.get("seed") is None else str(cfg["seed"]),
              "ClaimsErrored": count_word(len(errored)),
              "ClaimsCounterexamples": count_word(sum(len(witnesses(c)) for c in claims.values())),
              "ClaimsEmc": count_word(sum(source_parts(c)["file"].startswith("000_")
                                          for c in claims.values())),
              "ClaimsCompanion": count_word(sum(not source_parts(c)["file"].startswith("000_")
                                                for c in claims.values())),
              "RepairsTotal": count_word(len(repairs)),
              "RepairsHolds": count_word(len(holds_repairs)),
              "RepairsHoldsIds": ", ".join(holds_repairs) if holds_repairs else "none",
              "RepairedIds": ", ".join(repairs_by_original(doc)) or "none"}
    for verdict in STATEMENTS:
        ids = [cid for cid, c in claims.items() if c["statement"] == verdict]
        macros[f"Claims{verdict.title()}"] = count_word(len(ids))
        macros[f"Claims{verdict.title()}Ids"] = ", ".join(ids) if ids else "none"
    for verdict in PROOFS:
        ids = [cid for cid, c in claims.items() if c["proof"] == verdict]
        macros[f"Proofs{verdict.title()}"] = count_word(len(ids))
        macros[f"Proofs{verdict.title()}Ids"] = ", ".join(ids) if ids else "none"
    macros["ClaimsStatementSummary"] = verdict_summary(claims, "statement", STATEMENTS)
    macros["ClaimsProofSummary"] = verdict_summary(claims, "proof", PROOFS)
    macros["RepairsStatementSummary"] = verdict_summary(repairs, "statement", STATEMENTS)
    written.append(write_macros(paths, f"numbers_{STEM}", macros, STEM))
    records = {**claims, **repairs}
    keyed = {
        "ClaimStatement": {cid: tex_escape(c["statement"]) for cid, c in records.items()},
        "ClaimProof": {cid: tex_escape(c["proof"]) for cid, c in records.items()},
        "ClaimReadings": {cid: readings_tex(c) for cid, c in records.items()},
        "ClaimTitle": {cid: tex_text(c, "title") for cid, c in records.items()},
        "ClaimSource": {cid: plain_to_tex(source_text(c)) for cid, c in records.items()},
    }
    written.append(write_keyed_macros(paths, "claim_macros", keyed, STEM))
    return written


def main(argv=None) -> int:
    return artifact_main(make, __doc__.splitlines()[0], argv)


if __name__ == "__main__":
    raise SystemExit(main())
