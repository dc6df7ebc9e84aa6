"""The ``emc-theory`` command: a thin layer over the claim checks, derivations, paper, course
and benchmark. Each subcommand imports its layer lazily, so ``--help`` stays fast.

Commands: ``check`` (run claim checks and merge them into the record), ``list`` (the registered
claims and their repairs), ``show ID`` (one claim's verdicts and evidence from the record),
``replay ID [N]`` (rerun a recorded counterexample and say whether it reproduces), ``derive``,
``paper``, ``course``, ``bench``; ``--version``.

**The record is never lost.** ``check --claim T1`` or ``check --quick`` merges its claims into
``results/claims.json`` (:mod:`claims.support.store`): only the claims it ran are replaced, each
stamped with how it was produced (quick or full, seed, time); the reports are rewritten as one
atomic set, under a lock that serialises concurrent runs. The record says whether it is
complete, and ``paper`` refuses a partial or quick one unless given ``--allow-partial``.

**Exit codes.** 0 success; 1 a check raised an error, or a replay did not reproduce its record;
2 a user error (unknown claim id, bad seed, missing or unreadable record, an output path that
cannot be written, a record that fails its schema), reported in one line on stderr, never a
traceback; 3 a missing optional tool or extra, with the command that installs it; 130 Ctrl-C.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
from pathlib import Path

OPTIONAL_EXTRAS = {
    "pepit": "pepit", "PEPit": "pepit", "cvxpy": "pepit",
    "dask": "dask", "distributed": "dask",
    "jupytext": "course", "nbconvert": "course", "nbclient": "course", "nbformat": "course",
    "ipykernel": "course", "sphinx": "course", "myst_nb": "course", "bs4": "course",
    "torch": "bench", "jax": "jax", "jaxlib": "jax", "optax": "jax",
}
"""Top-level module -> the optional extra of ``setup.cfg`` that installs it."""
SEED_MAX = 2**32 - 1


class UserError(Exception):
    """A mistake of the caller's (exit 2, one line, no traceback)."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error as one line (exit 2) instead of the usage block."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seed(text: str) -> int:
    try:
        seed = int(text)
    except ValueError:
        seed = None
    if seed is None or not 0 <= seed <= SEED_MAX:
        raise argparse.ArgumentTypeError(
            f"must be an integer in [0, 2**32 - 1] (the seed of every random draw), got {text!r}")
    return seed


def _writable_dir(directory: Path, what: str) -> None:
    """Create ``directory`` if needed and check that a file can be created in it, before any
    work is done (not after minutes of checks)."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
    except OSError as err:
        raise UserError(f"cannot write the {what} in {directory}: "
                        f"{err.strerror or err}") from None


def _writable_file(path: Path, what: str) -> None:
    if path.is_dir():
        raise UserError(f"the {what} path {path} is a directory; give a file path")
    _writable_dir(path.parent, what)


# ----------------------------------------------------------------------------- check


def _check(args) -> int:
    from claims.support import store
    from claims.support.base import CheckConfig
    from claims.support.registry import CLAIM_IDS, normalise_id, run_claims
    from claims.support.report import write_reports

    ids = list(dict.fromkeys(normalise_id(c) for c in args.claim)) if args.claim \
        else list(CLAIM_IDS)
    try:
        config = CheckConfig(quick=args.quick, seed=args.seed)
    except (ValueError, TypeError) as err:
        raise UserError(str(err)) from None
    results_dir, tex = Path(args.results_dir), Path(args.tex)
    _writable_file(results_dir / store.RECORD_NAME, "claims record")
    _writable_file(tex, "LaTeX table")
    previous = store.load_record(results_dir)   # an unreadable record stops us here, not later
    results = run_claims(ids, config, progress=not args.no_progress,
                         expected=store.expected_seconds(previous, args.quick))
    paths = write_reports(results, config, results_dir, tex)
    mode = "quick" if args.quick else "full"
    print(f"{len(results)} claim(s) checked ({mode}, seed {args.seed}):")
    for r in results:
        flag = "  (the check raised an error)" if r.error else ""
        print(f"  {r.id:<8} statement: {r.verdict.statement:<11} proof: {r.verdict.proof}{flag}")
    status = store.record_status(store.load_record(results_dir))
    if status.complete:
        print("record: complete (every claim, full runs, one seed)")
    else:
        print("record: not complete: " + "; ".join(status.problems()))
    print("written: " + ", ".join(str(p) for p in paths.values()))
    errored = [r.id for r in results if r.error]
    if errored:
        print(f"checks that raised an error: {', '.join(errored)} (see the reports)",
              file=sys.stderr)
        return 1
    return 0


# ----------------------------------------------------------------------------- list / show


def _wrap(text: str, indent: str = "  ", width: int = 96) -> str:
    return textwrap.fill(" ".join(str(text).split()), width=width, initial_indent=indent,
                         subsequent_indent=indent)


def _source_line(source) -> str:
    return f"{source.paper} ({source.authors}), {source.section}; seed file {source.file}"


def _list(args) -> int:
    from claims.support.registry import all_claims

    claims = all_claims()
    for claim in claims:
        print(f"{claim.id:<5} {claim.title}")
        print(_wrap("source: " + _source_line(claim.source), " " * 6))
        for repair in claim.repairs:
            print(_wrap(f"repair {repair.id} ({repair.change} changed): {repair.title}; "
                        f"{repair.difference}", " " * 6))
    repairs = sum(len(c.repairs) for c in claims)
    print(f"\n{len(claims)} claims, {repairs} repair(s). `emc-theory show ID` prints one "
          "claim's verdicts and evidence.")
    return 0


def _number(value) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "no", None: "none"}[value]
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _plain(value, limit: int = 6) -> str:
    """A JSON value as readable text: scalars formatted, short lists inline, long ones counted,
    objects as ``key = value`` pairs (no Python reprs)."""
    if isinstance(value, dict):
        return ", ".join(f"{k} = {_plain(v, limit)}" for k, v in sorted(value.items()))
    if isinstance(value, list):
        if len(value) > limit or any(isinstance(v, (dict, list)) for v in value):
            return f"({len(value)} values)"
        return ", ".join(_plain(v) for v in value) or "(none)"
    return _number(value)


def _load(results_dir) -> tuple:
    from claims.support import store

    doc = store.load_record(results_dir)
    if doc is None:
        raise UserError(f"no claims record at {Path(results_dir) / store.RECORD_NAME}: run "
                        "`emc-theory check` first (or pass --results-dir)")
    return doc, store


def _entry(doc: dict, claim_id: str, results_dir) -> tuple:
    from claims.support import store
    from claims.support.registry import normalise_id

    cid = normalise_id(claim_id)
    entry = doc["claims"].get(cid) or doc.get("repairs", {}).get(cid)
    if entry is None:
        raise UserError(f"claim {cid} is not in the record "
                        f"{Path(results_dir) / store.RECORD_NAME} "
                        f"(a partial record): run `emc-theory check --claim {cid}`")
    return cid, entry


def _show(args) -> int:
    from claims.support.registry import get_claim
    from claims.support.report import readings_cell

    claim = get_claim(args.id)   # an unknown id is reported before the record is looked for
    doc, store = _load(args.results_dir)
    cid, c = _entry(doc, claim.id, args.results_dir)
    stamp = store.stamps(doc).get(cid, {})
    date = doc.get("run", {}).get("produced_at", {}).get(cid) or doc.get("run", {}).get(
        "generated_at", "an unknown time")
    out = [f"{cid}: {c['title']}", _wrap("source: " + _source_line(claim.source))]
    if c.get("repair_of"):
        out.append(_wrap(f"repair of {c['repair_of']} ({c['change']} changed): "
                         f"{c['difference']}"))
    out.append(_wrap(f"checked by a {'quick' if stamp.get('quick') else 'full'} run, seed "
                     f"{stamp.get('seed', doc['config']['seed'])}, at {date}"))
    whose = "as repaired" if c.get("repair_of") else "the paper's words"
    out += ["", f"Statement ({whose}):", _wrap(c["claim"])]
    if c.get("paper_proof"):
        out += [f"Proof ({whose}):", _wrap(c["paper_proof"])]
    out += ["", f"Verdict on the statement: {c['statement']}", _wrap(c["statement_reason"]),
            f"Verdict on the proof: {c['proof']}", _wrap(c["proof_reason"])]
    if c.get("per_reading"):
        out.append("Per reading: " + readings_cell(c["per_reading"]))
    if c.get("conditions"):
        out.append("Conditions under which it holds:")
        out += [_wrap("- " + str(cond), "    ") for cond in c["conditions"]]
    if c.get("error"):
        out += ["", "The check raised an error; its verdict is not assessed (the traceback is "
                    "in the record, results/claims.json)."]
    out += ["", f"Evidence ({len(c['evidence'])}):"]
    for e in c["evidence"]:
        missing = "" if e["available"] else " (missing: the tool was unavailable)"
        out.append(_wrap(f"- [{e['kind']}] {e['name']}: {e['summary']}{missing}", "  "))
    if c["counterexamples"]:
        out += ["", f"Counterexamples ({len(c['counterexamples'])}):"]
        for i, x in enumerate(c["counterexamples"], 1):
            out.append(_wrap(f"{i}. {x['description']}", "  "))
            out.append(_wrap("outcome: " + _plain(x["outcome"]), "     "))
            out.append(f"     replay it: emc-theory replay {cid} {i}")
    print("\n".join(out))
    return 0


# ----------------------------------------------------------------------------- replay


def _limits(items) -> dict:
    limits = {}
    for item in items or ():
        name, eq, value = item.partition("=")
        try:
            limits[name.strip()] = int(float(value)) if eq else None
        except ValueError:
            limits[name.strip()] = None
        if limits[name.strip()] is None:
            raise UserError(f"--limit takes NAME=INTEGER (e.g. steps=100000000), got {item!r}")
    return limits


def _replay(args) -> int:
    from claims.support.registry import compare_outcomes, normalise_id, replay_counterexample

    normalise_id(args.id)   # an unknown id is reported before the record is looked for
    doc, _ = _load(args.results_dir)
    cid, c = _entry(doc, args.id, args.results_dir)
    found = c["counterexamples"]
    if not found:
        raise UserError(f"{cid} has no counterexample in the record (statement: "
                        f"{c['statement']}); nothing to replay")
    if not 1 <= args.n <= len(found):
        raise UserError(f"{cid} has {len(found)} counterexample(s): N must lie in "
                        f"[1, {len(found)}], got {args.n}")
    record = found[args.n - 1]
    print(_wrap(f"{cid} counterexample {args.n}: {record['description']}", ""))
    try:
        outcome = replay_counterexample(cid, record, limits=_limits(args.limit))
    except (ValueError, TypeError) as err:
        raise UserError(f"the record of {cid} counterexample {args.n} was refused: "
                        f"{err}") from None
    shared = sorted(set(outcome) & set(record["outcome"]))
    differ = compare_outcomes(record["outcome"], outcome)
    for key in shared:
        mark = "   <- differs" if key in differ else ""
        print(f"  {key}: recorded {_plain(record['outcome'][key])}, now "
              f"{_plain(outcome[key])}{mark}")
    if shared and not differ:
        print("reproduces the recorded outcome")
        return 0
    print("does NOT reproduce the recorded outcome" if shared
          else "the replay shares no field with the recorded outcome: cannot compare")
    return 1


# ----------------------------------------------------------------------------- others


def _derive(args) -> int:
    import proofs

    for path, what in ((Path(args.json), "derivations JSON"), (Path(args.tex), "LaTeX")):
        _writable_file(path, what)
    derivations = proofs.run_all(args.names or None)
    proofs.write_outputs(derivations, args.json, args.tex)
    for name, derivation in derivations.items():
        print(f"{name}: {derivation.title}")
    print(f"written: {args.json}, {args.tex}")
    return 0


def _paper(args) -> int:
    from experiments.build import build_paper
    from experiments.common import resolve_paths

    paths = resolve_paths(None, Path("paper") / "generated")
    if (Path("paper") / "main.tex").exists():   # else build_paper says where to run it from
        _writable_dir(paths.results, "results")
        _writable_dir(paths.generated, "generated paper inputs")
    return build_paper(quick=args.quick, pdf=not args.no_pdf, allow_partial=args.allow_partial)


def _course(args) -> int:
    from experiments.course import build_course

    return build_course(quick=args.quick)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("emc-theory")
    except metadata.PackageNotFoundError:  # run from a source tree that is not installed
        from emc_theory import __version__

        return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="emc-theory",
        description="Check the claims of the Entropic Momentum Cascade paper with evidence.")
    parser.add_argument("--version", action="version", version=f"emc-theory {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = sub.add_parser(
        "check", help="run claim checks and merge them into the record (results/claims.json)",
        description="Run the claim checks and merge their verdicts into the record: only the "
                    "claims run are replaced, each stamped quick/full, seed and time.")
    check.add_argument("--claim", action="append", metavar="ID",
                       help="run only this claim id (repeatable), e.g. --claim T1")
    check.add_argument("--quick", action="store_true",
                       help="a fast pass: small grids, without PEPit and the linear bracket "
                            "cycles' replays (supporting evidence only); stamped quick")
    check.add_argument("--seed", type=_seed, default=0,
                       help="seed of every random draw, in [0, 2**32 - 1] (0)")
    check.add_argument("--results-dir", default="results", help="where claims.json/.md go")
    check.add_argument("--tex", default="paper/generated/claims.tex", help="LaTeX table path")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.set_defaults(func=_check)

    listing = sub.add_parser("list", help="list the claims: ids, titles, sources and repairs")
    listing.set_defaults(func=_list)

    show = sub.add_parser("show", help="one claim's statement, verdicts, reasons and evidence")
    show.add_argument("id", metavar="ID", help="claim id, e.g. T1 (or a repair id, P1.r1)")
    show.add_argument("--results-dir", default="results", help="where claims.json is")
    show.set_defaults(func=_show)

    replay = sub.add_parser(
        "replay", help="replay a recorded counterexample and say whether it reproduces")
    replay.add_argument("id", metavar="ID", help="claim id, e.g. P1")
    replay.add_argument("n", metavar="N", nargs="?", type=int, default=1,
                        help="which counterexample of the claim, from 1 (1)")
    replay.add_argument("--results-dir", default="results", help="where claims.json is")
    replay.add_argument("--limit", action="append", metavar="NAME=VALUE",
                        help="raise a size cap of the replay (steps, d, K, samples, runs), e.g. "
                             "--limit steps=100000000")
    replay.set_defaults(func=_replay)

    derive = sub.add_parser("derive", help="run the sympy derivations of proofs/")
    derive.add_argument("names", nargs="*", help="derivation names (default: all)")
    derive.add_argument("--json", default="results/derivations.json")
    derive.add_argument("--tex", default="paper/generated/derivations.tex")
    derive.set_defaults(func=_derive)

    paper = sub.add_parser("paper", help="regenerate figures and tables, then build the PDF")
    paper.add_argument("--quick", action="store_true", help="small settings")
    paper.add_argument("--no-pdf", action="store_true", help="skip the LaTeX build")
    paper.add_argument("--allow-partial", action="store_true",
                       help="build even from a partial record (claims missing, or quick claims "
                            "in a full build)")
    paper.set_defaults(func=_paper)

    course = sub.add_parser(
        "course", help="execute the lectures into instructor and student notebooks and a site")
    course.add_argument("--quick", action="store_true", help="small settings")
    course.set_defaults(func=_course)

    sub.add_parser("bench", help="benchmark the core (options: emc-theory bench -h)",
                   add_help=False)
    return parser


def _missing_extra(err: ModuleNotFoundError, command: str) -> str | None:
    top = (err.name or "").partition(".")[0]
    extra = OPTIONAL_EXTRAS.get(top)
    if extra is None:
        return None
    return (f"emc-theory {command}: the optional extra '{extra}' is not installed (module "
            f"{top} is missing); install it with: pip install -e '.[{extra}]' (from the "
            f"repository) or pip install 'emc-theory[{extra}]'")


def main(argv=None) -> int:
    from claims.support.registry import UnknownClaimError
    from claims.support.store import RecordError

    argv = sys.argv[1:] if argv is None else list(argv)
    command = argv[0] if argv else ""
    try:
        if argv[:1] == ["bench"]:  # the benchmark parses its own options
            from emc_app.bench import main as bench_main

            return bench_main(argv[1:])
        args = build_parser().parse_args(argv)
        command = args.command
        return args.func(args)
    except (UserError, UnknownClaimError, RecordError) as err:
        print(f"emc-theory {command}: error: {err}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as err:
        message = _missing_extra(err, command)
        if message is None:
            raise
        print(message, file=sys.stderr)
        return 3
    except BrokenPipeError:   # e.g. `emc-theory show T1 | head`: the reader has gone
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (flushed at exit, never closed)
        return 0
    except KeyboardInterrupt:
        print(f"emc-theory {command}: interrupted (files are replaced only whole: each report "
              "is the old one or the new one)", file=sys.stderr)
        return 130


def run() -> None:
    """The ``emc-theory`` command: :func:`main`, then exit with its code. Before the interpreter
    shuts down, everything still alive is frozen out of the collector's reach (``gc.freeze``):
    its last collection would otherwise walk every object the checks left behind (sympy's
    caches, the claims' records), half a second for nothing, as the process ends here."""
    import gc

    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    run()
