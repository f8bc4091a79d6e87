"""``python -m coach_backend.replay session.mp4 [--out DIR] [--overlay] [--serve]``."""

import sys

from coach_backend.replay.cli import main

sys.exit(main())
