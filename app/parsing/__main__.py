"""``python -m app.parsing FILE [--json]``."""

import sys

from app.parsing.cli import run

sys.exit(run())
