"""Where the project, its venv and the real sample are."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[3]
# pytest's tests, one folder per tier, with support/ beside them.
TESTS_DIR = PROJECT_DIR / "tests/python"
BIN = Path(sys.executable).parent
REAL_SAMPLE = Path(os.environ.get("SPARKIFY_SAMPLE_DIR", PROJECT_DIR.parent / "shared/data/sparkify-sample"))
