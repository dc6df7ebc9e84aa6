"""``python -m emc_app``: the ``emc-theory`` command."""
import sys

from .cli import main

sys.exit(main())
