"""Shared test settings: one BLAS thread (the machine has two cores), deterministic hypothesis."""
import os

from hypothesis import HealthCheck, settings
from threadpoolctl import threadpool_limits

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
threadpool_limits(1)

settings.register_profile("emc", max_examples=60, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("emc")
