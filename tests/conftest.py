"""Cross-tap fixtures: a scratch Meltano environment (own system database, own warehouse file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Meltano:
    """Runs ``meltano`` in the repository's project with a private system database and warehouse."""

    def __init__(self, scratch: Path) -> None:
        self.warehouse = scratch / "warehouse.duckdb"
        self.env = {
            **os.environ,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "MELTANO_DATABASE_URI": f"sqlite:///{scratch / 'meltano.db'}",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TARGET_DUCKDB_FILEPATH": str(self.warehouse),
        }

    def __call__(self, *args: str, env: dict[str, str] | None = None, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            ["meltano", *args], cwd=ROOT, env={**self.env, **(env or {})}, capture_output=True, text=True, timeout=900, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"meltano {' '.join(args)} exited {done.returncode}:\n{done.stderr[-6000:]}")
        return done


@pytest.fixture
def meltano(tmp_path: Path) -> Meltano:
    return Meltano(tmp_path)
