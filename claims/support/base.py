"""The claim contract: one :class:`Claim` object per claim module, evidence in, two verdicts out.

A claim module (one per claim id) defines a frozen *facts* dataclass (the named facts its rule
reads; ``None`` = could not be established), optionally a per-reading facts dataclass, a function
``gather(config) -> Gathered[Facts]`` that computes evidence, a pure function
``decide(gathered) -> Verdict`` written before the evidence was looked at, and one object

    CLAIM = Claim(id=..., title=..., source=Source(...), statement=..., proof=Proof(...),
                  kind=..., facts=Facts, gather=gather, decide=decide, controls=(...), ...)

The registry (:mod:`claims.support.registry`) maps ids to these objects and fails loudly on a
missing one. Rule tests build typed facts, so a misspelt or stale fact is a ``TypeError`` (in the
constructor) or an ``AttributeError`` (in the rule), never a silent "undecided".

**Controls.** Every claim declares at least one positive and one negative :class:`Control`: an
input whose verdict is known in advance (a method, a bound, a function), given to ``gather`` as
``config.subject`` and run through the same gather and decide path as the paper's own object
(``config.subject is None``). ``tests/test_controls.py`` runs them all.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Generic, Optional, TypeVar

STATEMENT_VERDICTS = ("holds", "fails", "conditional", "undecided")
PROOF_VERDICTS = ("sound", "gap", "mismatch", "none")
EVIDENCE_KINDS = ("symbolic", "numerical", "independent")
CLAIM_KINDS = ("universal", "existential", "inequality", "definition")
REPAIR_CHANGES = ("method", "statement", "hypothesis")
PROOF_STATUSES = ("given", "none", "not_in_source")

F = TypeVar("F")


@dataclass(frozen=True)
class CheckConfig:
    """What a run of the checks may spend and what it checks.

    ``quick`` shrinks grids; ``seed`` seeds every rng; ``subject`` is the object under test
    (``None``: the paper's own method, bound or function; otherwise a control's input, whose type
    the claim module defines)."""

    quick: bool = False
    seed: int = 0
    subject: Any = None

    def __post_init__(self):
        if not isinstance(self.quick, bool):
            raise TypeError(f"quick must be a bool, got {type(self.quick).__name__}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise TypeError(f"seed must be an int in [0, 2**32 - 1], got {self.seed!r}")
        if not 0 <= self.seed <= 2**32 - 1:
            raise ValueError(f"seed must be an int in [0, 2**32 - 1], got {self.seed}")

    def with_subject(self, subject) -> CheckConfig:
        return dataclasses.replace(self, subject=subject)


@dataclass(frozen=True)
class Source:
    """Where a claim is stated: the seed file, the paper's title and authors, and the section."""

    file: str
    paper: str
    authors: str
    section: str

    @property
    def label(self) -> str:
        """The one-line form kept in the JSON's ``source`` field."""
        if self.file.startswith("000_"):
            return f"{self.file} ({self.paper})"
        return f"{self.file} ({self.authors}, {self.paper})"


EMC_PAPER = "EMC paper"
EMC_FILE = "000_3387dee144a58ac6.txt"


def emc_source(section: str) -> Source:
    """A claim of the EMC paper (its authors are not named in the source we have)."""
    return Source(EMC_FILE, EMC_PAPER, "anonymous (authors not named in the source)", section)


@dataclass(frozen=True)
class Proof:
    """The paper's argument: ``text`` (its words) with ``status`` 'given'; 'none' when the paper
    gives no proof; 'not_in_source' when a proof is published but not in the source we have."""

    text: Optional[str] = None
    status: str = "given"

    def __post_init__(self):
        if self.status not in PROOF_STATUSES:
            raise ValueError(f"proof status must be one of {PROOF_STATUSES}, got {self.status!r}")
        if (self.text is None) != (self.status != "given"):
            raise ValueError("a proof has text exactly when its status is 'given'")


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
    """A replayable input that contradicts the statement.

    ``replay`` is a dict understood by the claim's replay function (problem spec, optimizer spec,
    start point, steps, tolerances); ``outcome`` is what happened (status, stop step, final
    gradient norm)."""

    claim: str
    description: str
    replay: dict
    outcome: dict


@dataclass
class Gathered(Generic[F]):
    """Everything ``gather`` found: typed ``facts`` (the claim's facts dataclass), ``per_reading``
    (reading -> the claim's per-reading facts dataclass, where the claim depends on a reading),
    evidence, counterexamples, the parameters of the checks, and ``measurements``: values that
    vary from run to run (wall-clock timings), kept in the report's one ``run`` field so that
    everything else is byte-identical across runs."""

    facts: F
    per_reading: dict = field(default_factory=dict)
    evidence: list = field(default_factory=list)
    counterexamples: list = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    measurements: dict = field(default_factory=dict)

    def __post_init__(self):
        if not dataclasses.is_dataclass(self.facts) or isinstance(self.facts, type):
            raise TypeError(f"facts must be a facts dataclass instance, got {self.facts!r}")
        for reading, facts in self.per_reading.items():
            if not dataclasses.is_dataclass(facts) or isinstance(facts, type):
                raise TypeError(f"per-reading facts of {reading!r} must be a dataclass instance")

    def facts_json(self) -> dict:
        return asdict(self.facts)

    def reading_facts_json(self) -> dict:
        return {r: asdict(f) for r, f in self.per_reading.items()}


def undetermined(facts) -> list:
    """Names of the fields of a facts dataclass that are ``None`` (could not be established)."""
    return [f.name for f in dataclasses.fields(facts) if getattr(facts, f.name) is None]


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


@dataclass(frozen=True)
class Control:
    """An input whose statement verdict is known in advance: ``subject`` goes to ``gather`` as
    ``config.subject``; ``expected`` is the statement verdict the rule must give (for a
    per-reading claim, ``reading`` names the reading whose verdict is compared, else the overall
    one); ``role`` is 'positive' (the statement holds of it) or 'negative' (it does not)."""

    name: str
    description: str
    subject: Any
    expected: str
    role: str
    reading: Optional[str] = None

    def __post_init__(self):
        if self.expected not in STATEMENT_VERDICTS:
            raise ValueError(f"expected verdict must be one of {STATEMENT_VERDICTS}")
        if self.role not in ("positive", "negative"):
            raise ValueError(f"control role must be 'positive' or 'negative', got {self.role!r}")


def _no_tasks(config: CheckConfig) -> dict:
    return {}


@dataclass(frozen=True)
class Claim(Generic[F]):
    """One claim: its words, its evidence-gathering, its rule, its controls.

    ``derivations``: the ``proofs.DERIVATIONS`` names the check reads (prefetched in a worker
    process); ``background_tasks(config)``: ``{key: (fn, args)}`` computed beside the numerical
    checks; ``replay(record) -> outcome``: re-runs one of its counterexample records;
    ``may_be_undetermined``: facts (or ``reading.fact``) that a complete quick gather may leave
    ``None`` (e.g. evidence from an optional tool).

    **Repairs.** ``repairs`` holds derived claims: corrected statements of this claim (the method
    changed, the statement changed, or a hypothesis added), each a full :class:`Claim` with its
    own statement, gather, rule and controls, an id ``<parent>.r<n>``, ``repair_of`` naming the
    parent, ``change`` in REPAIR_CHANGES and ``difference``: the difference from the original,
    in words.

    **LaTeX forms.** ``title_tex`` and ``statement_tex`` (optional) are the title and the
    statement typeset as LaTeX, for those whose plain form writes mathematics in ASCII; the
    record carries them as ``title_tex`` and ``claim_tex`` (the statement's key is ``claim``),
    only when set, and the renderers use them in place of the plain text."""

    id: str
    title: str
    source: Source
    statement: str
    proof: Proof
    kind: str
    facts: type
    gather: Callable[[CheckConfig], Gathered]
    decide: Callable[[Gathered], Verdict]
    controls: tuple = ()
    reading_facts: Optional[type] = None
    derivations: tuple = ()
    background_tasks: Callable[[CheckConfig], dict] = _no_tasks
    replay: Optional[Callable[[dict], dict]] = None
    may_be_undetermined: frozenset = frozenset()
    repairs: tuple = ()
    repair_of: Optional[str] = None
    change: Optional[str] = None
    difference: Optional[str] = None
    title_tex: Optional[str] = None
    statement_tex: Optional[str] = None

    def __post_init__(self):
        if self.repair_of is not None:
            if not self.id.startswith(self.repair_of + ".r"):
                raise ValueError(f"repair id {self.id!r} must be '{self.repair_of}.r<n>'")
            if self.change not in REPAIR_CHANGES or not self.difference:
                raise ValueError(f"{self.id}: a repair needs change in {REPAIR_CHANGES} and a "
                                 "difference in words")
        for repair in self.repairs:
            if not isinstance(repair, Claim) or repair.repair_of != self.id:
                raise ValueError(f"{self.id}: repairs must be Claims with repair_of={self.id!r}")
        if self.kind not in CLAIM_KINDS:
            raise ValueError(f"claim kind must be one of {CLAIM_KINDS}, got {self.kind!r}")
        if not dataclasses.is_dataclass(self.facts):
            raise TypeError(f"{self.id}: facts must be a dataclass type")
        roles = {c.role for c in self.controls}
        if roles != {"positive", "negative"}:
            raise ValueError(f"{self.id}: needs at least one positive and one negative control, "
                             f"has {sorted(roles)}")

    def check_gathered(self, gathered: Gathered) -> Gathered:
        """``gathered`` if its facts are of this claim's types, else a TypeError."""
        if type(gathered.facts) is not self.facts:
            raise TypeError(f"{self.id}: gather returned {type(gathered.facts).__name__}, "
                            f"expected {self.facts.__name__}")
        for reading, facts in gathered.per_reading.items():
            if self.reading_facts is None or type(facts) is not self.reading_facts:
                raise TypeError(f"{self.id}: per-reading facts of {reading!r} have type "
                                f"{type(facts).__name__}")
        return gathered

    def run(self, config: CheckConfig):
        """``(gathered, verdict)`` for ``config`` (the paper's object or a control's subject)."""
        gathered = self.check_gathered(self.gather(config))
        return gathered, self.decide(gathered)


@dataclass
class ClaimResult:
    """A claim's report: the claim, the verdicts, and the evidence behind them."""

    claim: Claim
    verdict: Verdict
    gathered: Optional[Gathered]
    seconds: float = 0.0
    error: Optional[str] = None

    @property
    def id(self) -> str:
        return self.claim.id

    @property
    def measurements(self) -> dict:
        return self.gathered.measurements if self.gathered is not None else {}

    def to_json(self) -> dict[str, Any]:
        v, c, g = self.verdict, self.claim, self.gathered
        return {
            "id": c.id, "title": c.title, "where": c.source.section, "source": c.source.label,
            "source_file": c.source.file, "source_paper": c.source.paper,
            "source_authors": c.source.authors,
            "claim": c.statement, "paper_proof": c.proof.text,
            "statement": v.statement, "proof": v.proof,
            "statement_reason": v.statement_reason, "proof_reason": v.proof_reason,
            "per_reading": v.per_reading, "conditions": v.conditions,
            "evidence": [asdict(e) for e in g.evidence] if g else [],
            "counterexamples": [asdict(x) for x in g.counterexamples] if g else [],
            "facts": g.facts_json() if g else {},
            "reading_facts": g.reading_facts_json() if g else {},
            "parameters": g.parameters if g else {},
            "error": self.error,
            **({"repair_of": c.repair_of, "change": c.change, "difference": c.difference}
               if c.repair_of else {}),
            **({"title_tex": c.title_tex} if c.title_tex else {}),
            **({"claim_tex": c.statement_tex} if c.statement_tex else {}),
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
