"""emc-theory: numerical verification of the claims of the Entropic Momentum Cascade paper.

The core (this package) is pure NumPy: gradient entropy, the momentum cascade and its weights,
the EMC optimizer under each reading of the missing update function, baselines, test problems,
the runner and the batched sweep engine.
"""
from .cascade import (
                      cascade_weights,
                      effective_memory,
                      entropy_power,
                      level_betas,
                      level_lambdas,
                      level_timescales,
)
from .emc import EMC, READINGS, EMCDiagnostics, EMCState, apply_reading
from .entropy import ENTROPY_KINDS, ZERO_GRADIENT_RULE, gradient_entropy, normalized_entropy
from .runner import STATUSES, Trajectory, minimize
from .schedules import Schedule, as_schedule, constant, inv_sqrt, inv_t
from .validation import NonFiniteGradientError

__version__ = "0.1.0"

__all__ = [
    "EMC", "EMCDiagnostics", "EMCState", "ENTROPY_KINDS", "NonFiniteGradientError", "READINGS",
    "STATUSES", "Schedule", "Trajectory", "ZERO_GRADIENT_RULE", "apply_reading", "as_schedule",
    "cascade_weights", "constant", "effective_memory", "entropy_power", "gradient_entropy",
    "inv_sqrt", "inv_t", "level_betas", "level_lambdas", "level_timescales", "minimize",
    "normalized_entropy", "__version__",
]
