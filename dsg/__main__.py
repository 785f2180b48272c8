"""``python -m dsg``: the same program as ``dsg``."""

import sys

from dsg.start import main

sys.exit(main())
