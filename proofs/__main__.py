"""``python -m proofs [NAME ...] [--json PATH] [--tex PATH]``: run derivations, write outputs."""
from __future__ import annotations

import argparse
import time

from . import DEFAULT_JSON, DEFAULT_TEX, NAMES, run_all, write_outputs


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m proofs", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"derivations to run (default: all of {', '.join(NAMES)})")
    parser.add_argument("--json", default=str(DEFAULT_JSON), help="JSON output path")
    parser.add_argument("--tex", default=str(DEFAULT_TEX), help="LaTeX fragment output path")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(NAMES))
    if unknown:
        parser.error(f"unknown derivation(s) {unknown}; choose from {list(NAMES)}")
    start = time.perf_counter()
    derivs = run_all(args.names or None)
    write_outputs(derivs, args.json, args.tex)
    for deriv in derivs.values():
        print(deriv.summary())
    print(f"wrote {args.json} and {args.tex} in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
