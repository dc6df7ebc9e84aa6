"""``python -m emc_app``: the ``emc-theory`` command."""
from .cli import run

run()
