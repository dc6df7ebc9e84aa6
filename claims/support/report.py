"""Reports of a claim run: ``results/claims.json``, ``results/claims.md`` and the paper's
``paper/generated/claims.tex`` (booktabs). Everything but the ``run`` field (time stamp and
durations) is a deterministic function of the evidence, so two runs give identical bytes.

``claims.md`` (:func:`render_markdown`) is written for a person: the terms first
(:data:`DEFINITIONS`: the readings of h, the entropy kinds, Ht against the paper's H_t, the
weights, cells, pending, roles, the step budget, how per-reading verdicts combine, which formulas
were recovered and which are readings), then the verdict table with a source column and the
per-reading verdicts in a column named for what they are per, "What holds instead" (each repair
beside its original), and each claim with its source, words, verdicts, conditions (told apart
from results), evidence and replayable counterexamples and witnesses. Numbers are rounded and
Python reprs made readable (:func:`emc_theory.render.readable_text`); parameters stay in the
JSON. ``claims.tex`` (:func:`render_latex`) is the verdict table, one float; its tabular alone
(:func:`render_latex_tabular`) is for ``\\input`` into another document."""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from emc_theory import ENTROPY_KINDS, records
from emc_theory import READINGS as H_READINGS
from emc_theory.render import (
    booktabs_tabular,
    markdown_table,
    plain_to_tex,
    readable,
    readable_text,
    table_float,
    tex_escape,
)

from .base import EMC_PAPER
from .store import RECORD_NAME

SCHEMA_VERSION = 1
_PACKAGES = ("numpy", "scipy", "sympy", "matplotlib", "emc-theory", "pepit", "cvxpy")


def recorded_claims(results_dir) -> dict | None:
    """Claim id -> record from ``results_dir/claims.json`` as ``emc-theory check`` wrote it, or
    None when there is no such file (the lectures read the toolkit's verdicts from it)."""
    path = Path(results_dir) / RECORD_NAME
    return json.loads(path.read_text())["claims"] if path.exists() else None


def package_versions() -> dict:
    """Versions of the packages the evidence depends on (``None`` where not installed)."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def dumps(obj) -> str:
    """The claims document's JSON: :func:`emc_theory.records.dumps` (sorted keys, numpy types as
    plain values, one space of indent) with ``inf``/``nan`` kept as strings."""
    return records.dumps(obj, nonfinite=repr)


def claims_document(results, config) -> dict:
    """The whole JSON document of a run."""
    stamp = os.environ.get("SOURCE_DATE_EPOCH")
    generated = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                              time.gmtime(int(stamp) if stamp else time.time()))
    return {
        "schema": SCHEMA_VERSION,
        "config": {"quick": config.quick, "seed": config.seed},
        "versions": package_versions(),
        "claims": {r.id: r.to_json() for r in results if r.claim.repair_of is None},
        "repairs": {r.id: r.to_json() for r in results if r.claim.repair_of is not None},
        "run": {"generated_at": generated,
                "seconds": {r.id: round(r.seconds, 3) for r in results},
                "measurements": {r.id: r.measurements for r in results
                                 if r.measurements}},
    }


_READING_ORDER = H_READINGS + ENTROPY_KINDS
READING_AXES = {"h": ("per reading of h", r"per reading of $h$"),
                "entropy": ("per entropy kind", "per entropy kind"),
                "case": ("per case", "per case")}
"""What a claim's per-reading verdicts are per, by the keys they have: the readings of the
update ``h`` (power, root, linear), the kinds of gradient entropy (l2, l1: not readings of h),
or other cases; Markdown and LaTeX headers."""


def readings_cell(per_reading: dict) -> str:
    """Per-reading verdicts in one fixed order, whether read from memory or from the JSON."""
    keys = sorted(per_reading, key=lambda k: (_READING_ORDER.index(k) if k in _READING_ORDER
                                              else len(_READING_ORDER), k))
    return ", ".join(f"{k}: {per_reading[k]}" for k in keys) or "--"


def reading_axis(per_reading: dict) -> str | None:
    """``"h"``, ``"entropy"`` or ``"case"``: what the keys of ``per_reading`` are readings of
    (``None`` when there are none)."""
    if not per_reading:
        return None
    if set(per_reading) <= set(H_READINGS):
        return "h"
    if set(per_reading) <= set(ENTROPY_KINDS):
        return "entropy"
    return "case"


def in_report_order(claims: dict) -> dict:
    """Claims keyed by id in the registry's order (the JSON sorts its keys; reports do not)."""
    from .registry import CLAIM_IDS

    order = [cid for cid in CLAIM_IDS if cid in claims]
    return {cid: claims[cid] for cid in order + sorted(set(claims) - set(order))}


def source_parts(record: dict) -> dict:
    """``{"file", "paper", "authors", "section"}`` of a claim record: its ``source_*`` keys, or,
    for a record written before they existed, the registered claim's source."""
    if "source_paper" in record:
        return {"file": record["source_file"], "paper": record["source_paper"],
                "authors": record["source_authors"], "section": record["where"]}
    try:
        from .registry import get_claim

        s = get_claim(record["id"]).source
        return {"file": s.file, "paper": s.paper, "authors": s.authors, "section": s.section}
    except (ValueError, AttributeError, StopIteration):
        return {"file": record.get("source", ""), "paper": record.get("source", ""),
                "authors": "", "section": record.get("where", "")}


EMC_TITLE = "Entropic Momentum Cascade: A Theoretical Framework for Adaptive Optimization"
"""The title of the EMC paper (the records name it "EMC paper")."""


def _is_emc(parts: dict) -> bool:
    return parts["file"].startswith("000_") or parts["paper"] == EMC_PAPER


def source_text(record: dict, with_title: bool = False) -> str:
    """Where a claim is stated, for a person: ``Tan & Huang, Theorem 2.2`` (``with_title``:
    ``Tan & Huang, Information-theoretic perspectives on optimizers, Theorem 2.2``); the EMC
    paper, whose authors our copy does not name, as ``EMC paper, 3.1, Theorem 1``."""
    s = source_parts(record)
    if _is_emc(s):
        return ", ".join([EMC_PAPER] + ([EMC_TITLE] if with_title else []) + [s["section"]])
    return ", ".join([s["authors"]] + ([s["paper"]] if with_title else []) + [s["section"]])


def sources(doc: dict) -> list:
    """The papers the record's claims come from, in report order, each ``{"file", "paper",
    "authors", "ids"}`` (the EMC paper with its full title)."""
    out: dict = {}
    for section in ("claims", "repairs"):
        for cid, c in in_report_order(doc.get(section, {})).items():
            s = source_parts(c)
            entry = out.setdefault(s["file"], {
                "file": s["file"], "paper": EMC_TITLE if _is_emc(s) else s["paper"],
                "authors": s["authors"], "ids": []})
            entry["ids"].append(cid)
    return list(out.values())


def tex_text(record: dict, key: str) -> str:
    """LaTeX of a plain-text field of a record: its ``<key>_tex`` form where the record has one,
    else the plain text with its Python reprs made readable and its ASCII mathematics typeset
    (:func:`emc_theory.render.plain_to_tex`)."""
    return record.get(f"{key}_tex") or plain_to_tex(readable_text(record[key]))


def conditions_heading(record: dict) -> tuple:
    """(Markdown, LaTeX) heading of a record's ``conditions``: for a statement that holds only
    under conditions (overall or for some reading) they are the conditions; for the others they
    qualify the verdict (scope, conventions, further results)."""
    conditional = record["statement"] == "conditional" or "conditional" in record.get(
        "per_reading", {}).values()
    if conditional:
        return "Conditions (under which the statement holds)", "Conditions"
    return "Scope and qualifications", "Scope and qualifications"


def witnesses(record: dict) -> list:
    """Replayable inputs of a record, each ``{"label", "description", "outcome", "replay"}``:
    its counterexamples (label ``counterexample``; for an existential claim such as N1 a
    counterexample record is a witness of the statement) and the ``witness`` records its
    evidence carries (label ``witness``), in the order of the JSON."""
    label = "counterexample"
    out = [{"label": label, "description": x["description"], "outcome": x["outcome"],
            "replay": x.get("replay")} for x in record.get("counterexamples", [])]
    known = {str(w["replay"]) for w in out}
    for e in record.get("evidence", []):
        data = e.get("data") or {}
        found = data.get("witnesses") or ([data["witness"]] if "witness" in data else [])
        for w in found:
            if not isinstance(w, dict) or "replay" not in w or str(w["replay"]) in known:
                continue
            outcome = {k: v for k, v in w.items() if k != "replay" and not isinstance(v, dict)}
            out.append({"label": "witness", "description": e["name"], "outcome": outcome,
                        "replay": w["replay"]})
    return out


def repairs_by_original(doc: dict) -> dict:
    """Original claim id -> its repair records (``doc["repairs"]``), in id order."""
    out: dict = {}
    for rid in sorted(doc.get("repairs", {})):
        record = doc["repairs"][rid]
        out.setdefault(record.get("repair_of") or rid.partition(".")[0], []).append(record)
    return in_report_order(out)


def provenance_text(doc: dict) -> str:
    """One sentence on how the record was produced: complete, or which claims are missing,
    quick, or from other seeds."""
    cfg = doc["config"]
    prov = doc.get("provenance")
    seed = "different seeds" if cfg.get("seed") is None else f"seed {cfg['seed']}"
    mode = "a quick run (--quick: small grids)" if cfg["quick"] else "full runs"
    text = f"Produced by `emc-theory check` ({mode}, {seed})."
    if prov is None:
        return text
    if prov.get("complete"):
        return text + " The record is complete: every registered claim and repair is in it."
    produced = prov.get("produced", {})
    quick = sorted(cid for cid, stamp in produced.items() if stamp.get("quick"))
    parts = (["it lacks " + ", ".join(prov["missing"])] if prov.get("missing") else []) + (
        ["quick runs produced " + ", ".join(quick)] if quick else [])
    return text + " The record is not complete" + (": " + "; ".join(parts) if parts else "") + "."


# ----------------------------------------------------------------------------- definitions


@dataclass(frozen=True)
class Definition:
    """A term of the reports with its explanation as Markdown (plain text) and as LaTeX."""

    term: str
    plain: str
    tex: str
    term_tex: str = ""


DEFINITIONS = (
    Definition(
        "statement verdict",
        "whether the claim as stated is true: **holds**; **fails** (with a replayable "
        "counterexample where one exists); **conditional**: it holds only under the conditions "
        "listed with it; **undecided**: the evidence does not settle it, or a fact the rule "
        "needs could not be established.",
        r"whether the claim as stated is true: \emph{holds}; \emph{fails} (with a replayable "
        r"counterexample where one exists); \emph{conditional}: it holds only under the "
        r"conditions listed with it; \emph{undecided}: the evidence does not settle it, or a "
        r"fact the rule needs could not be established."),
    Definition(
        "proof verdict",
        "whether the paper's argument establishes the statement: **sound**; **gap**: a step "
        "does not follow (the step is named); **mismatch**: it proves something other than the "
        "statement (what it proves is said); **none**: there is no argument to judge (the paper "
        "gives none, or it is not in the source we have).",
        r"whether the paper's argument establishes the statement: \emph{sound}; \emph{gap}: a "
        r"step does not follow (the step is named); \emph{mismatch}: it proves something other "
        r"than the statement (what it proves is said); \emph{none}: there is no argument to "
        r"judge (the paper gives none, or it is not in the source we have)."),
    Definition(
        "evidence",
        "symbolic (exact computations with sympy), numerical (runs of the NumPy core on test "
        "functions with known smoothness L, strong convexity mu and minimiser) or independent "
        "(a second method: a spectral analysis, a worst-case performance estimation with PEPit, "
        "a closed form from the literature). Each verdict is computed by a rule fixed before "
        "the evidence was looked at; every rule is run on controls whose verdict is known in "
        "advance.",
        r"\emph{symbolic} (exact computations with sympy), \emph{numerical} (runs of the NumPy "
        r"core on test functions with known smoothness $L$, strong convexity $\mu$ and "
        r"minimiser) or \emph{independent} (a second method: a spectral analysis, a worst-case "
        r"performance estimation with PEPit, a closed form from the literature). Each verdict "
        r"is computed by a rule fixed before the evidence was looked at; every rule is run on "
        r"controls whose verdict is known in advance."),
    Definition(
        "recovered and missing formulas",
        "the copy of the EMC paper we have lost its display equations. Recovered from a public "
        "copy of the same paper: the gradient entropy (the l2 kind below), the momentum levels "
        "beta_k = 1 - 2^{-k}, the softmax weights with lambda_k = k/K, and the power "
        "gamma = 2 - H_t/H_max. Missing: the update function h. Every choice the paper leaves "
        "open is a named reading, and results are reported per reading: the three readings of "
        "h, the two entropy kinds, the temperature tau, and the cases d = 1 (H_max = 0: the "
        "toolkit refuses it) and g = 0 (p is 0/0: the toolkit takes p uniform).",
        r"the copy of the EMC paper we have lost its display equations. \emph{Recovered} from a "
        r"public copy of the same paper: the gradient entropy (the \texttt{l2} kind below), the "
        r"momentum levels $\beta_k = 1 - 2^{-k}$, the softmax weights with $\lambda_k = k/K$, "
        r"and the power $\gamma = 2 - H_t/H_{\max}$. \emph{Missing}: the update function $h$. "
        r"Every choice the paper leaves open is a named reading, and results are reported per "
        r"reading: the three readings of $h$, the two entropy kinds, the temperature $\tau$, "
        r"and the cases $d = 1$ ($H_{\max} = 0$: the toolkit refuses it) and $g = 0$ ($p$ is "
        r"$0/0$: the toolkit takes $p$ uniform)."),
    Definition(
        "readings of h",
        "the paper's update is theta_{t+1} = theta_t - eta_t h(m~_t, H_t) with h not given. "
        "**power**: h = sign(m~) |m~|^gamma; **root**: h = sign(m~) |m~|^(1/gamma); "
        "**linear**: h = m~ (gamma unused; the update the proof sketch of Theorem 1 implicitly "
        "treats). All elementwise; m~ is the weighted aggregate of the momentum levels.",
        r"the paper's update is $\theta_{t+1} = \theta_t - \eta_t\, h(\tilde m_t, H_t)$ with $h$ "
        r"not given. \emph{power}: $h = \operatorname{sign}(\tilde m)\,|\tilde m|^{\gamma}$; "
        r"\emph{root}: $h = \operatorname{sign}(\tilde m)\,|\tilde m|^{1/\gamma}$; "
        r"\emph{linear}: $h = \tilde m$ ($\gamma$ unused; the update the proof sketch of "
        r"Theorem~1 implicitly treats). All elementwise; $\tilde m$ is the weighted aggregate "
        r"of the momentum levels.", r"readings of $h$"),
    Definition(
        "entropy kinds (l2, l1)",
        "how the gradient g becomes the distribution p whose entropy is taken: **l2** (the "
        "recovered formula, the default) p_i = g_i^2 / ||g||_2^2; **l1** (another reading of "
        "the paper's words) p_i = |g_i| / ||g||_1. These are not readings of h: claim E1, which "
        "is about the entropy alone, reports its verdict per entropy kind.",
        r"how the gradient $g$ becomes the distribution $p$ whose entropy is taken: "
        r"\texttt{l2} (the recovered formula, the default) $p_i = g_i^2/\|g\|_2^2$; "
        r"\texttt{l1} (another reading of the paper's words) $p_i = |g_i|/\|g\|_1$. These are "
        r"not readings of $h$: claim E1, which is about the entropy alone, reports its verdict "
        r"per entropy kind.", r"entropy kinds (\texttt{l2}, \texttt{l1})"),
    Definition(
        "H_t and Ht",
        "H_t = -sum_i p_i log p_i is the paper's gradient entropy (in nats, between 0 and "
        "H_max = log d). Ht = H_t / log d is the normalised entropy, between 0 and 1, which the "
        "weights use; the paper writes H_t -> H_max where Ht -> 1 is meant, and the reports use "
        "Ht throughout.",
        r"$H_t = -\sum_i p_i \log p_i$ is the paper's gradient entropy (in nats, between $0$ "
        r"and $H_{\max} = \log d$). $\tilde H_t = H_t/\log d$ is the normalised entropy, "
        r"between $0$ and $1$, which the weights use; the paper writes $H_t \to H_{\max}$ where "
        r"$\tilde H_t \to 1$ is meant, and the reports use $\tilde H$ throughout.",
        r"$H_t$ and $\tilde H_t$"),
    Definition(
        "weights, tau and effective memory",
        "level k keeps m^(k)_t = beta_k m^(k)_{t-1} + (1 - beta_k) g_t, a memory of "
        "1/(1 - beta_k) = 2^k steps, so a larger k is a longer memory. The weights are "
        "alpha_k = exp(lambda_k Ht / tau) / sum_j exp(lambda_j Ht / tau) with lambda_k = k/K; "
        "the temperature tau is an extension, and tau = 1 is the paper's formula. The effective "
        "memory is T_eff = sum_k alpha_k 2^k.",
        r"level $k$ keeps $m^{(k)}_t = \beta_k m^{(k)}_{t-1} + (1 - \beta_k) g_t$, a memory of "
        r"$1/(1 - \beta_k) = 2^k$ steps, so a larger $k$ is a longer memory. The weights are "
        r"$\alpha_k = \exp(\lambda_k \tilde H/\tau) / \sum_j \exp(\lambda_j \tilde H/\tau)$ with "
        r"$\lambda_k = k/K$; the temperature $\tau$ is an extension, and $\tau = 1$ is the "
        r"paper's formula. The effective memory is $T_{\mathrm{eff}} = \sum_k \alpha_k 2^k$.",
        r"weights, $\tau$ and effective memory"),
    Definition(
        "step budget",
        "the number of steps T each run may take. A run has converged when its gradient norm "
        "reaches the tolerance within T steps; a run that neither converged nor failed "
        "(diverged or overflowed) by then is judged by its tail and against a control run of "
        "gradient descent. T and the tolerances of every check are in results/claims.json.",
        r"the number of steps $T$ each run may take. A run has \emph{converged} when its "
        r"gradient norm reaches the tolerance within $T$ steps; a run that neither converged "
        r"nor failed (diverged or overflowed) by then is judged by its tail and against a "
        r"control run of gradient descent. $T$ and the tolerances of every check are in "
        r"\texttt{results/claims.json}."),
    Definition(
        "cells, pending",
        "Theorem 1's grid (claim T1) runs every problem x K x d x start point, a cell, under "
        "the schedules and steps the theorem allows (its candidates). A cell is pending when no "
        "candidate converged within the step budget and none failed: a finite run cannot "
        "decide it, and it is judged against its control (keeping pace, lagging, or "
        "uninformative when the control is itself pending).",
        r"Theorem~1's grid (claim T1) runs every problem $\times$ $K$ $\times$ $d$ $\times$ "
        r"start point, a \emph{cell}, under the schedules and steps the theorem allows (its "
        r"candidates). A cell is \emph{pending} when no candidate converged within the step "
        r"budget and none failed: a finite run cannot decide it, and it is judged against its "
        r"control (keeping pace, lagging, or uninformative when the control is itself "
        r"pending)."),
    Definition(
        "roles",
        "runs that separate what each ingredient of the method does: constant against "
        "diminishing steps, the scale of the start point, the adaptive weights against the same "
        "method with weights frozen uniform, the plateau of constant steps against the step.",
        r"runs that separate what each ingredient of the method does: constant against "
        r"diminishing steps, the scale of the start point, the adaptive weights against the "
        r"same method with weights frozen uniform, the plateau of constant steps against the "
        r"step."),
    Definition(
        "per-reading verdicts",
        "a claim that depends on a reading gets a statement verdict per reading, combined into "
        "its overall verdict: holds if every reading holds, fails if every reading fails, "
        "undecided if some reading is undecided and none fails, and conditional otherwise (it "
        "depends on the reading; the conditions say which).",
        r"a claim that depends on a reading gets a statement verdict per reading, combined into "
        r"its overall verdict: \emph{holds} if every reading holds, \emph{fails} if every "
        r"reading fails, \emph{undecided} if some reading is undecided and none fails, and "
        r"\emph{conditional} otherwise (it depends on the reading; the conditions say which)."),
    Definition(
        "conditions, results and counterexamples",
        "a conditional claim lists the conditions under which it holds; for the other claims "
        "the same list states scope, conventions and further results. A counterexample is a "
        "recorded input (problem, method, start point, steps) on which the statement fails; a "
        "witness is one on which an existential statement (\"may cause\") is seen to hold. "
        "Both replay from results/claims.json (emc-theory replay ID N).",
        r"a conditional claim lists the \emph{conditions} under which it holds; for the other "
        r"claims the same list states scope, conventions and further results. A "
        r"\emph{counterexample} is a recorded input (problem, method, start point, steps) on "
        r"which the statement fails; a \emph{witness} is one on which an existential statement "
        r"(``may cause'') is seen to hold. Both replay from \texttt{results/claims.json} "
        r"(\texttt{emc-theory replay ID N})."),
    Definition(
        "repairs",
        "for a claim that fails or holds only under conditions, a corrected statement (the "
        "method changed, the statement changed, or a hypothesis added), checked by the same "
        "machinery as the original, with its own verdicts, evidence and controls, and its "
        "difference from the original in words (\"What holds instead\").",
        r"for a claim that fails or holds only under conditions, a corrected statement (the "
        r"method changed, the statement changed, or a hypothesis added), checked by the same "
        r"machinery as the original, with its own verdicts, evidence and controls, and its "
        r"difference from the original in words (``What holds instead'')."),
)


def definitions_markdown() -> list:
    """The definitions block of ``claims.md``, as lines."""
    return ["## Definitions", "",
            *(f"- **{d.term}**: {d.plain}" for d in DEFINITIONS)]


def definitions_latex() -> str:
    r"""The definitions as a LaTeX ``description`` list (the paper's terms)."""
    items = [rf"\item[{d.term_tex or tex_escape(d.term)}] {d.tex}" for d in DEFINITIONS]
    return "\n".join([r"\begin{description}", *items, r"\end{description}"]) + "\n"


# ----------------------------------------------------------------------------- Markdown


def _md(text, cell: bool = False) -> str:
    """Plain text of a record for Markdown: Python reprs readable, long floats rounded, ``*``
    escaped (it would start emphasis) and, in a table ``cell``, ``|`` too."""
    text = readable_text(text).replace("*", "\\*")
    return text.replace("|", "\\|") if cell else text


def _source_markdown(record: dict) -> str:
    s = source_parts(record)
    paper = EMC_TITLE if _is_emc(s) else s["paper"]
    return f"{_md(s['authors'])}, *{_md(paper)}*, {_md(s['section'])} (`{s['file']}`)"


def _verdict_table_markdown(doc: dict) -> list:
    claims = in_report_order(doc["claims"])
    axes = [a for a in READING_AXES if any(reading_axis(c["per_reading"]) == a
                                          for c in claims.values())]
    header = ["id", "claim", "source", "statement", "proof", *(READING_AXES[a][0] for a in axes)]
    rows = []
    for cid, c in claims.items():
        axis = reading_axis(c["per_reading"])
        rows.append([cid, _md(c["title"], True), _md(source_text(c), True),
                     f"**{c['statement']}**",
                     f"**{c['proof']}**",
                     *(readings_cell(c["per_reading"]) if a == axis else "--" for a in axes)])
    return markdown_table(header, rows)


def _repair_rows_markdown(doc: dict) -> list:
    rows = []
    for original, repairs in repairs_by_original(doc).items():
        parent = doc["claims"].get(original, {})
        for r in repairs:
            rows.append([f"{original} ({parent.get('statement', 'not in this record')})",
                         r["id"], r.get("change") or "--", _md(r.get("claim", ""), True),
                         f"**{r['statement']}**", f"**{r['proof']}**",
                         _md(r.get("difference") or "--", True)])
    return rows


def _claim_markdown(cid: str, c: dict, level: str = "##") -> list:
    lines = ["", f"{level} {cid}: {_md(c['title'])}", "",
             f"Source: {_source_markdown(c)}.", "",
             f"> {_md(c['claim'])}", ""]
    if c.get("repair_of"):
        lines += [f"Repair of {c['repair_of']} ({c.get('change')} changed): "
                  f"{_md(c.get('difference') or '')}", ""]
    if c.get("paper_proof"):
        label = "Proof of the corrected statement" if c.get("repair_of") else "Paper's proof"
        lines += [f"{label}: *{_md(c['paper_proof'])}*", ""]
    lines += [f"- statement: **{c['statement']}**: {_md(c['statement_reason'])}",
              f"- proof: **{c['proof']}**: {_md(c['proof_reason'])}"]
    axis = reading_axis(c.get("per_reading", {}))
    if axis:
        lines.append(f"- {READING_AXES[axis][0]}: {readings_cell(c['per_reading'])}")
    if c.get("conditions"):
        lines += ["", conditions_heading(c)[0] + ":", *(f"- {_md(x)}" for x in c["conditions"])]
    if c.get("error"):
        lines += ["", "The check raised an error (its verdict is not assessed):", "", "```",
                  c["error"].rstrip(), "```"]
    if c.get("evidence"):
        lines += ["", "Evidence:"]
        for e in c["evidence"]:
            if e["available"]:
                lines.append(f"- [{e['kind']}] {_md(e['name'])}: {_md(e['summary'])}")
            else:
                lines.append(f"- [{e['kind']}] {_md(e['name'])}: MISSING: {_md(e['summary'])}")
    found = witnesses(c)
    for label, heading in WITNESS_HEADINGS.items():
        items = [w for w in found if w["label"] == label]
        if items:
            lines += ["", heading[0].format(id=cid) + ":"]
            lines += [f"{n}. {_md(w['description'])}; outcome: {_md(readable(w['outcome']))}"
                      for n, w in enumerate(items, start=1)]
    return lines


def render_markdown(doc: dict) -> str:
    """``results/claims.md``: definitions, the verdict table, what holds instead (the repairs
    beside their originals), then each claim with its source, words, verdicts, conditions,
    evidence and counterexamples. Numbers from the record are rounded for reading; every
    parameter stays in ``claims.json``."""
    lines = ["# Claim verdicts", "", _md(provenance_text(doc)) + " Parameters, grids and seeds "
             "of every check are in `results/claims.json`.", "", *definitions_markdown(), "",
             "## Verdicts", "", *_verdict_table_markdown(doc), "", "Sources:",
             *(f"- {_md(s['authors'])}: *{_md(s['paper'])}* (`{s['file']}`): "
               f"{', '.join(s['ids'])}" for s in sources(doc))]
    repair_rows = _repair_rows_markdown(doc)
    lines += ["", "## What holds instead", ""]
    if repair_rows:
        lines += ["Each repair is a corrected statement checked by the same machinery as its "
                  "original (details under the original claim below).", "",
                  *markdown_table(("original (verdict)", "repair", "changed", "statement",
                                   "statement verdict", "proof verdict",
                                   "difference from the original"), repair_rows)]
    else:
        lines.append("No repairs are in this record.")
    repairs = repairs_by_original(doc)
    for cid, c in in_report_order(doc["claims"]).items():
        lines += _claim_markdown(cid, c)
        for r in repairs.get(cid, []):
            lines += _claim_markdown(r["id"], r, level="###")
    for original in sorted(set(repairs) - set(doc["claims"])):
        for r in repairs[original]:
            lines += _claim_markdown(r["id"], r, level="###")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- LaTeX

VERDICT_COLSPEC = (r"@{}l>{\raggedright\arraybackslash\hsize=1.2\hsize}X"
                   r">{\raggedright\arraybackslash\hsize=0.8\hsize}X"
                   r"ll@{}")


def readings_tex(per_reading: dict) -> str | None:
    """The per-reading verdicts with what they are per (``per reading of $h$: power holds,
    ...``), in LaTeX, or None when the verdict does not depend on a reading."""
    axis = reading_axis(per_reading)
    if axis is None:
        return None
    return (READING_AXES[axis][1] + ": "
            + tex_escape(readings_cell(per_reading).replace(": ", " ")))


def _readings_tex(per_reading: dict) -> str:
    text = readings_tex(per_reading)
    return "" if text is None else r"\newline{\footnotesize " + text + "}"


WITNESS_HEADINGS = {
    "counterexample": ("Counterexamples (replay: `emc-theory replay {id} N`)",
                       r"Counterexamples (replay: \texttt{{emc-theory replay {id} N}})"),
    "witness": ("Witnesses recorded with the evidence (their replay records are in "
                "`results/claims.json`)",
                r"Witnesses recorded with the evidence (their replay records are in "
                r"\texttt{{results/claims.json}})"),
}
"""(Markdown, LaTeX) headings of the two kinds of :func:`witnesses`, numbered as
``emc-theory replay`` numbers the counterexamples."""


def verdict_table_rows(doc: dict) -> list:
    """LaTeX rows (id, claim with its per-reading verdicts, source, statement, proof)."""
    rows = []
    for cid, c in in_report_order(doc["claims"]).items():
        marker = r"$^*$" if c.get("error") else ""
        rows.append([tex_escape(cid), tex_text(c, "title") + _readings_tex(c["per_reading"]),
                     plain_to_tex(source_text(c, with_title=False)),
                     tex_escape(c["statement"]) + marker, tex_escape(c["proof"])])
    return rows


VERDICT_HEADER = ["Id", "Claim", "Source", "Statement", "Proof"]


def render_latex_tabular(doc: dict) -> str:
    r"""The verdict table as a booktabs ``tabularx`` of width ``\linewidth`` alone, for
    ``\input`` into another document (needs booktabs, array and tabularx; no reference to this
    paper's labels)."""
    return ("% generated by emc-theory; do not edit. Needs booktabs, array, tabularx.\n"
            + booktabs_tabular(VERDICT_COLSPEC, VERDICT_HEADER, verdict_table_rows(doc),
                               width=r"\linewidth") + "\n")


def render_latex(doc: dict) -> str:
    r"""``claims.tex``: the verdict table as one ``table`` float (booktabs, ``tabularx`` at
    ``\linewidth``), with a caption that states how the record was produced."""
    cfg = doc["config"]
    errored = [cid for cid, c in doc["claims"].items() if c.get("error")]
    seed = "different seeds" if cfg.get("seed") is None else f"seed {cfg['seed']}"
    caption = (r"Claim verdicts computed by \texttt{emc-theory check} ("
               + ("quick run" if cfg["quick"] else "full run") + f", {seed}): the statement "
               r"verdict (holds, fails, conditional, undecided) and the proof verdict (sound, "
               r"gap, mismatch, none) of each claim, with its per-reading verdicts where it "
               r"depends on a reading. Sources: the EMC paper and three companion papers; "
               r"parameters of every check in \texttt{results/claims.json}."
               + (r" $^*$: the check raised an error and its verdict is not assessed ("
                  + ", ".join(errored) + ")." if errored else ""))
    tabular = booktabs_tabular(VERDICT_COLSPEC, VERDICT_HEADER, verdict_table_rows(doc),
                               width=r"\linewidth")
    return table_float(tabular, caption=caption, label="tab:claim-verdicts",
                       caption_below=True,
                       comment="generated by emc-theory check; do not edit") + "\n"


def write_reports(results, config, results_dir="results", tex_path="paper/generated/claims.tex",
                  registered=None):
    """Merge the run's results into the record ``results_dir/claims.json`` and write it with its
    Markdown and LaTeX renderings; return their paths.

    The merge (:func:`claims.support.store.merge`) replaces only the claims this run produced,
    stamped with how (quick or full, seed, time), and keeps the others, so a partial or quick
    run never destroys the full report; ``registered`` (default: the registry's claims and
    repairs) lists the ids a record may hold. Under the record's lock (concurrent runs are
    serialised) the old record is read, merged, rendered from the JSON as written (so
    re-rendering ``claims.json`` gives the same bytes) and the three files are written as one
    set, atomically (:func:`emc_theory.records.write_files`, the JSON last). A file in place of
    the record that is not one raises :class:`claims.support.store.RecordError` before anything
    is written."""
    from .store import merge, read_record, record_lock

    new = json.loads(dumps(claims_document(results, config)))
    results_dir = Path(results_dir)
    paths = {"json": results_dir / RECORD_NAME, "md": results_dir / "claims.md",
             "tex": Path(tex_path)}
    with record_lock(results_dir):
        text = dumps(merge(read_record(paths["json"]), new, registered))
        doc = json.loads(text)
        records.write_files({paths["md"]: render_markdown(doc), paths["tex"]: render_latex(doc),
                             paths["json"]: text})
    return paths
