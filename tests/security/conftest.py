"""Security regression suite: each test reproduces an attack found against Amparo (issue 14)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
