"""Keep each tap's README settings table equal to what the tap itself reports.

    python scripts/tap_docs.py          # rewrite the tables
    python scripts/tap_docs.py --check  # exit 1 when a README is out of date

The table sits between `<!-- settings:start -->` and `<!-- settings:end -->` in `tap-*/README.md`
and is the "Settings" section of `tap-x --about --format=markdown`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKERS = re.compile(r"(<!-- settings:start -->\n).*?(<!-- settings:end -->)", re.DOTALL)


def settings_table(tap: str) -> str:
    executable = Path(sys.executable).parent / tap
    about = subprocess.run([str(executable), "--about", "--format=markdown"], capture_output=True, text=True, check=True).stdout
    section = about.split("## Settings", 1)[1]
    table = [line for line in section.strip().splitlines() if line.startswith("|")]
    return "\n".join(table) + "\n"


def main(check: bool) -> int:
    stale = []
    for readme in sorted(ROOT.glob("tap-*/README.md")):
        text, table = readme.read_text(), settings_table(readme.parent.name)
        updated = MARKERS.sub(lambda m, table=table: m.group(1) + table + m.group(2), text)
        if updated != text:
            stale.append(readme.relative_to(ROOT))
            if not check:
                readme.write_text(updated)
    if check and stale:
        print(f"settings tables out of date in: {', '.join(map(str, stale))}; run python scripts/tap_docs.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main("--check" in sys.argv[1:]))
