"""``python -m emc_app.bench``: the same as ``emc-theory bench``."""
import sys

from . import main

sys.exit(main())
