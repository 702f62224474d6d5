"""``python -m feedback``: the same command line as the ``feedback`` script."""

import sys

from feedback.entry import main

sys.exit(main())
