"""`python -m app ...`: see `app/interfaces/cli.py`."""

import sys

from app.interfaces.cli import main

sys.exit(main())
