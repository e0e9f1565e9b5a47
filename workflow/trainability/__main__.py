"""``python -m trainability``: see `trainability.cli`."""

import sys

from trainability.cli import main

sys.exit(main())
