r"""``emc-theory bench``: the cost of the core, measured side by side in one process.

Every timing runs with one thread (``threadpoolctl``; ``torch.set_num_threads(1)``; XLA's
``--xla_cpu_multi_thread_eigen=false``, checked and recorded in ``meta.jax``), the cases of a
section interleaved (:mod:`~emc_app.bench.harness`), every step ratio paired with the *honest
floor* of its K: the least memory traffic of a step with K buffers over d floats, an in-place
pass over :math:`(K+1) d` floats (the K buffers and the gradient read, the K buffers and the
update written) plus one more read of the :math:`d` gradient floats, which the entropy needs
before the weights (:mod:`~emc_app.bench.cases`). Sections:

* ``steps``: the honest floor against one EMC step per reading, in place
  (``update(..., inplace=True)``) and by default (the pure ``update``), for ``d`` in ``dims``,
  ``K`` in ``ks``, float64 and float32; with PyTorch (optional extra ``bench``) also
  ``torch.optim.SGD(momentum)``, ``torch.optim.Adam`` and EMC written with PyTorch foreach ops;
  with JAX (optional extra ``jax``; ``--no-jax`` skips it) the optax EMC of
  :mod:`emc_theory.jax_backend` compiled with its state donated, and optax's ``sgd`` (momentum)
  and ``adam``;
* ``k_series``: in-place step time against ``K`` at fixed ``d``, beside the floor of each K;
* ``profile``: where a step's time goes, against the honest floor: entropy pass alone, linear
  and power steps in place, the linear step's default path with and without a buffer to
  recycle, and one ``np.log`` / ``np.exp`` pass over ``d`` elements;
* ``sweep``: the batched sweep engine at ``B`` runs against a Python loop of single-run
  ``minimize`` calls, in run-steps per second, and with JAX ``sweep(..., backend="jax")``
  (its run-steps per second over the NumPy sweep's in the same rounds, and the runs whose
  results differ from the NumPy sweep's; :data:`~emc_app.bench.cases.SWEEP_PEERS`);
* ``sweep_profile``: the parts of one step of the largest sweep batch.

The ``analysis`` (:mod:`~emc_app.bench.analysis`) holds the fitted exponents of time in ``d``
and in ``K`` (claim C1) with the affine fit :math:`t = a + bK`, the profile's shares, the default
path's cost over the in-place one, the targets met, missed or not measured, and what the missed
step, sweep-throughput and K-exponent targets would need.

Results go to ``<out>/bench.json`` (the record, :mod:`~emc_app.bench.record`) and
``<out>/bench.md`` (tables, :mod:`~emc_app.bench.render`), written together atomically
(:func:`emc_theory.records.write_files`), with the machine and its load average before and
after.
"""
from __future__ import annotations

import argparse
import datetime
from pathlib import Path

from emc_theory.records import write_files

from . import cases, harness
from .cases import FULL, QUICK
from .record import complete, dumps
from .render import render_markdown, update_readme

__all__ = ["FULL", "QUICK", "build_parser", "main", "measure"]


def measure(cfg: dict, peers: dict | None = None, quick: bool = False) -> dict:
    """Run every section with settings ``cfg`` (:data:`QUICK` / :data:`FULL` shaped) and the
    peer backends ``peers`` (name in :data:`~emc_app.bench.cases.PEERS` or
    :data:`~emc_app.bench.cases.SWEEP_PEERS` -> its module, e.g. ``{"torch": torch}``) and
    return the complete record (measurements and analysis)."""
    peers = {name: module for name, module in (peers or {}).items() if module is not None}
    known = {*cases.PEERS, *cases.SWEEP_PEERS}
    unknown = set(peers) - known
    if unknown:
        raise ValueError(f"unknown peer backends {sorted(unknown)}; known: {sorted(known)}")
    torch, jax = peers.get("torch"), peers.get("jax")
    load_before = harness.load_average()
    with harness.one_thread():
        record = {"meta": {"quick": quick, "rounds": cfg["rounds"], "config": cfg,
                           "machine": harness.machine(),
                           "torch": torch.__version__ if torch else None,
                           "peers": {name: getattr(peers.get(name), "__version__", None)
                                     for name in sorted(known)},
                           "jax": cases.jax_conditions(jax) if jax else None,
                           "reference": cases.REFERENCE, "load_before": load_before,
                           "date": datetime.datetime.now().isoformat(timespec="seconds")}}
        record["steps"] = cases.time_steps(cfg, peers)
        record["k_series"] = cases.time_k_series(cfg)
        record["profile"] = cases.time_profile(cfg)
        record["sweep"] = cases.time_sweep(cfg, peers)
        record["sweep_profile"] = cases.time_sweep_profile(cfg)
        record["torch_matches_numpy"] = cases.torch_matches_numpy(torch) if torch else None
    record["meta"]["load_after"] = harness.load_average()
    return complete(record)


def _rounds(text: str) -> int:
    """``--rounds``: an integer >= 1 (argparse names the option and exits 2 otherwise)."""
    try:
        rounds = int(text)
    except ValueError:
        rounds = None
    if rounds is None or rounds < 1:
        raise argparse.ArgumentTypeError(
            f"must be an integer >= 1 (the timed rounds per section), got {text!r}")
    return rounds


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="emc-theory bench",
        description="Benchmark the EMC core side by side (one thread, interleaved rounds).")
    parser.add_argument("--quick", action="store_true", help="small sizes, few rounds (a test)")
    parser.add_argument("--out", default="results", help="directory of bench.json and bench.md")
    parser.add_argument("--rounds", type=_rounds, default=None,
                        help="rounds per section (an integer >= 1)")
    parser.add_argument("--no-torch", action="store_true", help="skip the PyTorch peers")
    parser.add_argument("--no-jax", action="store_true",
                        help="skip the JAX peers (the optax EMC, optax's Adam and SGD momentum, "
                             "the JAX sweep)")
    parser.add_argument("--readme", default=None,
                        help="also rewrite the '## Benchmark' section of this README")
    return parser


def main(argv=None) -> int:
    argv = list(argv) if argv is not None else None
    if argv and argv[0] == "--":  # ``emc-theory bench -- --quick`` passes the separator on
        argv = argv[1:]
    args = build_parser().parse_args(argv)
    cfg = dict(QUICK if args.quick else FULL)
    if args.rounds is not None:
        cfg["rounds"] = args.rounds
    record = measure(cfg, {"torch": harness.import_torch(not args.no_torch),
                           "jax": harness.import_jax(not args.no_jax)}, quick=args.quick)
    out = Path(args.out)
    write_files({out / "bench.json": dumps(record), out / "bench.md": render_markdown(record)})
    if args.readme:
        update_readme(args.readme, record)
    print(render_markdown(record))
    print(f"written: {out / 'bench.json'}, {out / 'bench.md'}")
    return 0
