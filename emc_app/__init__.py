"""The applications layer, above the experiments and the course: the ``emc-theory`` command
(:mod:`emc_app.cli`) and the benchmark (:mod:`emc_app.bench`). Nothing below imports it."""
