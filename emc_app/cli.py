"""The ``emc-theory`` command: a thin layer over the claim checks, derivations, paper, course
and benchmark. Each subcommand imports its layer lazily, so ``--help`` stays fast."""
from __future__ import annotations

import argparse
import sys


def _check(args) -> int:
    from claims.support.base import CheckConfig
    from claims.support.registry import CLAIM_IDS, normalise_id, run_claims
    from claims.support.report import write_reports

    ids = [normalise_id(c) for c in args.claim] if args.claim else list(CLAIM_IDS)
    config = CheckConfig(quick=args.quick, seed=args.seed)
    results = run_claims(ids, config, progress=not args.no_progress)
    paths = write_reports(results, config, args.results_dir, args.tex)
    print(paths["md"].read_text().split("\n\n## ")[0])  # the verdict table
    print("written: " + ", ".join(str(p) for p in paths.values()))
    errored = [r.id for r in results if r.error]
    if errored:
        print(f"checks that raised an error: {', '.join(errored)} (see the reports)",
              file=sys.stderr)
        return 1
    return 0


def _derive(args) -> int:
    import proofs

    derivations = proofs.run_all(args.names or None)
    proofs.write_outputs(derivations, args.json, args.tex)
    for name, derivation in derivations.items():
        print(f"{name}: {derivation.title}")
    print(f"written: {args.json}, {args.tex}")
    return 0


def _paper(args) -> int:
    from experiments.build import build_paper

    return build_paper(quick=args.quick, pdf=not args.no_pdf)


def _course(args) -> int:
    from experiments.course import build_course

    return build_course(quick=args.quick)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emc-theory",
        description="Check the claims of the Entropic Momentum Cascade paper with evidence.")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="run the claim checks and write the verdict reports")
    check.add_argument("--claim", action="append", metavar="ID",
                       help="run only this claim id (repeatable), e.g. --claim T1")
    check.add_argument("--quick", action="store_true", help="small grids: a fast pass")
    check.add_argument("--seed", type=int, default=0, help="seed of every random draw (0)")
    check.add_argument("--results-dir", default="results", help="where claims.json/.md go")
    check.add_argument("--tex", default="paper/generated/claims.tex", help="LaTeX table path")
    check.add_argument("--no-progress", action="store_true", help="no progress bar")
    check.set_defaults(func=_check)

    derive = sub.add_parser("derive", help="run the sympy derivations of proofs/")
    derive.add_argument("names", nargs="*", help="derivation names (default: all)")
    derive.add_argument("--json", default="results/derivations.json")
    derive.add_argument("--tex", default="paper/generated/derivations.tex")
    derive.set_defaults(func=_derive)

    paper = sub.add_parser("paper", help="regenerate figures and tables, then build the PDF")
    paper.add_argument("--quick", action="store_true", help="small settings")
    paper.add_argument("--no-pdf", action="store_true", help="skip the LaTeX build")
    paper.set_defaults(func=_paper)

    course = sub.add_parser("course", help="execute the lectures into notebooks and HTML")
    course.add_argument("--quick", action="store_true", help="small settings")
    course.set_defaults(func=_course)

    sub.add_parser("bench", help="benchmark the core (options: emc-theory bench -h)",
                   add_help=False)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["bench"]:  # the benchmark parses its own options
        from emc_app.bench import main as bench_main

        return bench_main(argv[1:])
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
