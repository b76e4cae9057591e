"""``python -m local_runtime`` is ``message-center``."""

import sys

from local_runtime.cli import main

sys.exit(main())
