"""cvxpy for the proofs layer's semidefinite programs (the Lyapunov certificates, PEPit).

cvxpy probes every solver it knows when it is imported (and again in ``installed_solvers()``),
and its probe of the MPAX solver imports JAX before it looks for ``mpax``: about two seconds
whenever JAX is installed (the ``jax`` and ``test`` extras install it), for a solver that is not
installed and that no analysis here uses (they solve with Clarabel, SCS as fallback).
:func:`import_cvxpy` and :func:`installed_solvers` run those probes with ``import jax`` failing
fast *during the probe only*, when ``mpax`` is not installed: the probe concludes what it would
have concluded ("MPAX is not installed") without loading JAX. Nothing else in cvxpy imports JAX,
and JAX imports normally afterwards. Import PEPit (which imports cvxpy) after
:func:`import_cvxpy`.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from contextlib import contextmanager


class _NoJax(importlib.abc.MetaPathFinder):
    """Meta path finder that refuses ``jax`` (and its submodules) while it is installed."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname == "jax" or fullname.startswith("jax."):
            raise ModuleNotFoundError("jax is not loaded while cvxpy probes its MPAX solver "
                                      "(mpax is not installed)", name=fullname)
        return None


@contextmanager
def _mpax_probe_without_jax():
    skip = "jax" not in sys.modules and importlib.util.find_spec("mpax") is None
    finder = _NoJax()
    if skip:
        sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        if skip:
            sys.meta_path.remove(finder)


def import_cvxpy():
    """The ``cvxpy`` module (see the module docstring)."""
    if "cvxpy" not in sys.modules:
        with _mpax_probe_without_jax():
            import cvxpy  # noqa: F401
    return sys.modules["cvxpy"]


def installed_solvers() -> list:
    """``cvxpy.installed_solvers()`` (see the module docstring)."""
    cvxpy = import_cvxpy()
    with _mpax_probe_without_jax():
        return cvxpy.installed_solvers()
