"""Every optimizer by name, and rebuilding one from its ``describe()`` record (for replays)."""
from __future__ import annotations

from .baselines import BASELINES
from .emc import EMC
from .schedules import schedule_from_description
from .validation import check_choice

OPTIMIZERS = {EMC.name: EMC, **BASELINES}


def make_optimizer(spec: dict):
    """Rebuild an optimizer (EMC or a baseline) from its ``describe()`` output."""
    spec = dict(spec)
    cls = OPTIMIZERS[check_choice("optimizer name", spec.pop("name", None), OPTIMIZERS)]
    return cls(lr=schedule_from_description(spec.pop("lr")), **spec)
