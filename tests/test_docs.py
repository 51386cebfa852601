"""Each tap's README states the settings the tap really has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_settings_tables_match_about():
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "tap_docs.py"), "--check"], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
