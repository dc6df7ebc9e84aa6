"""Running the claims on both cores: a claim family run in the worker process gives the record it
gives here; the family chosen for the worker; cvxpy imported without JAX's two-second probe."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from claims.support import registry, symbolic
from claims.support.base import CheckConfig

QUICK = CheckConfig(quick=True)


def _record(result) -> str:
    data = result.to_json()
    return json.dumps(data, sort_keys=True, default=str)


def test_a_family_run_in_the_worker_gives_the_same_records():
    """LN1 and its repair, run in the worker process and sent back, against the same claims
    run here: identical records (timing is outside the record)."""
    ids = ["LN1", "LN1.r1"]
    key = ("claims", "test", tuple(ids))
    symbolic.submit(key, registry._run_remote, ids, QUICK, keep=False)
    remote = symbolic.result(key, registry._run_remote, ids, QUICK)
    symbolic.forget(key)
    assert all(parts is not None for parts in remote)
    for cid, parts in zip(ids, remote):
        here = registry.run_claim(cid, QUICK)
        there = registry.ClaimResult(registry.get_claim(cid), *parts)
        assert there.error is None and here.error is None
        assert _record(there) == _record(here)


def test_the_worker_takes_the_last_family_that_can_travel():
    t1, c2, gl1 = (registry.get_claim(c) for c in ("T1", "C2", "GL1"))
    t1_family = [t1, *t1.repairs]
    order = [c.id for c in t1_family] + ["C2", "GL1"]
    assert registry._family_to_offload([t1_family, [c2], [gl1]], order) == [gl1]
    # T1.r1's facts are a class made inside a function: that family stays here
    assert registry._family_to_offload([[c2], t1_family], order) == [c2]
    # never the last family left, nor one already started here
    assert registry._family_to_offload([[gl1]], ["GL1"]) is None
    assert registry._family_to_offload([[c2], [gl1]], ["C2"]) is None


def test_cvxpy_is_imported_without_loading_jax_for_its_mpax_probe():
    """With JAX installed and mpax not, plain ``import cvxpy`` loads JAX (its MPAX probe); the
    proofs layer's import does not, finds the same SDP solvers, and JAX imports normally after."""
    pytest.importorskip("jax")
    pytest.importorskip("cvxpy")
    code = ("import importlib.util, sys; assert importlib.util.find_spec('mpax') is None; "
            "{body}; print(sorted(solvers), 'jax' in sys.modules)")
    plain = subprocess.run([sys.executable, "-c", code.format(
        body="import cvxpy; solvers = cvxpy.installed_solvers()")],
        capture_output=True, text=True, check=True).stdout.split("] ")
    ours = subprocess.run([sys.executable, "-c", code.format(
        body="from proofs.sdp import import_cvxpy, installed_solvers; import_cvxpy(); "
             "solvers = installed_solvers()")], capture_output=True, text=True,
        check=True).stdout.split("] ")
    assert plain[1].strip() == "True" and ours[1].strip() == "False"
    assert plain[0] == ours[0] and "CLARABEL" in ours[0]
    after = subprocess.run([sys.executable, "-c",
                            "from proofs.sdp import import_cvxpy; import_cvxpy(); import jax; "
                            "print(jax.numpy.ones(2).sum())"],
                           capture_output=True, text=True, check=True).stdout
    assert after.strip() == "2.0"


def test_each_call_runs_its_claims_again():
    """Two calls in one process: the worker's family runs are never handed to the later call
    (a result read once is dropped), so every claim of the second call ran again."""
    first = {r.id: r.seconds for r in registry.run_claims(["C2", "GL1"], QUICK, progress=False)}
    second = {r.id: r.seconds for r in registry.run_claims(["C2", "GL1"], QUICK, progress=False)}
    assert set(first) == set(second) == {"C2", "GL1"}
    assert all(first[c] != second[c] for c in first)
    assert not any(key[0] == "claims" for key in symbolic._RESULTS if isinstance(key, tuple))
