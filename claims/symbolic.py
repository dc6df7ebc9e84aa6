"""Symbolic evidence for the claim checks: the derivations of ``proofs/`` read as data."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .base import Evidence


@lru_cache(maxsize=None)
def _derive(name: str):
    import proofs

    return proofs.DERIVATIONS[name]()


@dataclass(frozen=True)
class SymbolicResult:
    """A derivation's conclusions; ``value(key)`` is ``None`` unless sympy proved or computed it."""

    name: str
    derivation: object

    def value(self, key: str):
        item = self.derivation.results[key]
        return item.value if item.status in ("proved", "computed") else None

    def status(self, key: str) -> str:
        return self.derivation.results[key].status

    @property
    def evidence(self) -> Evidence:
        results = self.derivation.results
        undecided = [k for k, item in results.items() if item.status == "undecided"]
        summary = (f"proofs.{self.name}: {self.derivation.title}; "
                   f"{len(results) - len(undecided)} of {len(results)} results proved/computed"
                   + (f", undecided: {', '.join(undecided)}" if undecided else ""))
        data = {k: {"value": item.value, "status": item.status} for k, item in
                sorted(results.items())}
        return Evidence("symbolic", f"sympy: {self.name}", summary, data)


def derivation_result(name: str) -> SymbolicResult:
    """The (cached) derivation ``name`` of ``proofs.DERIVATIONS``."""
    return SymbolicResult(name, _derive(name))
