"""The data model of a claim check: evidence in, two verdicts out.

A claim module (one per claim id) defines ``ID``, ``TITLE``, ``WHERE``, ``STATEMENT`` and
``PROOF`` (the paper's words; ``PROOF = None`` where the paper gives none), a function
``gather(config) -> Findings`` that computes evidence, and a pure function
``decide(findings) -> Verdict`` that turns evidence into verdicts. The rule is written before
looking at the evidence and is tested on constructed evidence (``tests/test_claim_rules.py``).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Optional

STATEMENT_VERDICTS = ("holds", "fails", "conditional", "undecided")
PROOF_VERDICTS = ("sound", "gap", "mismatch", "none")
EVIDENCE_KINDS = ("symbolic", "numerical", "independent")


@dataclass(frozen=True)
class CheckConfig:
    """What a run of the checks may spend: ``quick`` shrinks grids; ``seed`` seeds every rng."""

    quick: bool = False
    seed: int = 0


@dataclass
class Evidence:
    """One piece of evidence: ``kind`` in EVIDENCE_KINDS, a one-line ``summary``, ``data``
    (JSON-serialisable numbers behind it) and ``available`` (False: the tool was missing and the
    evidence is recorded as missing, never faked)."""

    kind: str
    name: str
    summary: str
    data: dict = field(default_factory=dict)
    available: bool = True

    def __post_init__(self):
        if self.kind not in EVIDENCE_KINDS:
            raise ValueError(f"evidence kind must be one of {EVIDENCE_KINDS}, got {self.kind!r}")


@dataclass
class Counterexample:
    """A replayable run that contradicts the statement.

    ``replay`` is a dict understood by :func:`claims.replay.replay` (problem spec, optimizer spec,
    start point, steps, tolerances); ``outcome`` is what happened (status, stop step, final
    gradient norm)."""

    claim: str
    description: str
    replay: dict
    outcome: dict


@dataclass
class Findings:
    """Everything ``gather`` found: evidence, counterexamples, and named facts that the rule uses.

    ``facts`` maps a fact name to a value (bool, number, None for 'could not be established');
    ``per_reading`` maps a reading of h to its own facts where the claim depends on h;
    ``measurements`` holds values that vary from run to run (wall-clock timings): the report
    keeps them in its one ``run`` field, so everything else is byte-identical across runs."""

    evidence: list = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    per_reading: dict = field(default_factory=dict)
    counterexamples: list = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    measurements: dict = field(default_factory=dict)


@dataclass
class Verdict:
    """The two verdicts with their reasons; ``per_reading`` maps reading -> statement verdict."""

    statement: str
    proof: str
    statement_reason: str
    proof_reason: str
    per_reading: dict = field(default_factory=dict)
    conditions: list = field(default_factory=list)

    def __post_init__(self):
        if self.statement not in STATEMENT_VERDICTS:
            raise ValueError(f"statement verdict must be one of {STATEMENT_VERDICTS}, "
                             f"got {self.statement!r}")
        if self.proof not in PROOF_VERDICTS:
            raise ValueError(f"proof verdict must be one of {PROOF_VERDICTS}, got {self.proof!r}")
        for reading, value in self.per_reading.items():
            if value not in STATEMENT_VERDICTS:
                raise ValueError(f"per-reading verdict for {reading!r} must be one of "
                                 f"{STATEMENT_VERDICTS}, got {value!r}")


@dataclass
class ClaimResult:
    """A claim's report: the paper's words, the verdicts, and the evidence behind them."""

    id: str
    title: str
    where: str
    source: str
    statement_text: str
    proof_text: Optional[str]
    verdict: Verdict
    findings: Findings
    seconds: float = 0.0
    error: Optional[str] = None

    def to_json(self) -> dict[str, Any]:
        v = self.verdict
        return {
            "id": self.id, "title": self.title, "where": self.where, "source": self.source,
            "claim": self.statement_text, "paper_proof": self.proof_text,
            "statement": v.statement, "proof": v.proof,
            "statement_reason": v.statement_reason, "proof_reason": v.proof_reason,
            "per_reading": v.per_reading, "conditions": v.conditions,
            "evidence": [asdict(e) for e in self.findings.evidence],
            "counterexamples": [asdict(c) for c in self.findings.counterexamples],
            "facts": self.findings.facts,
            "reading_facts": self.findings.per_reading,
            "parameters": self.findings.parameters,
            "error": self.error,
        }


def combine_readings(per_reading: dict) -> str:
    """Overall statement verdict from per-reading verdicts: 'holds' if all hold, 'fails' if all
    fail, 'undecided' if any is undecided and none fails, else 'conditional' (it depends on the
    reading, and the conditions name which)."""
    values = set(per_reading.values())
    if values == {"holds"}:
        return "holds"
    if values == {"fails"}:
        return "fails"
    if "undecided" in values and "fails" not in values:
        return "undecided"
    return "conditional"
