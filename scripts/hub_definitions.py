"""Write each tap's Meltano Hub plugin definition from what the tap reports, so it cannot drift.

    python scripts/hub_definitions.py [tap-x ...]          # (re)write tap-*/meltano-hub.yml
    python scripts/hub_definitions.py --check [tap-x ...]  # exit 1 when a definition is out of date

Sources: `tap-x --about --format=json` (settings, their types, secrets, defaults, required ones, capabilities)
and the tap's pyproject.toml (distribution name, description, keywords, repository URL).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# Settings every SDK tap has; the Hub lists a plugin's own settings.
SDK_SETTINGS = {"stream_maps", "stream_map_config", "faker_config", "flattening_enabled", "flattening_max_depth",
                "flattening_max_key_length", "flattening_separator", "batch_config"}
LABELS = {"rokt": "Rokt", "adroll": "AdRoll", "mediamath": "MediaMath"}


def setting_kind(schema: dict) -> str:
    types = [kind for kind in schema.get("type", ["string"]) if kind != "null"] if isinstance(schema.get("type"), list) else [schema.get("type", "string")]
    kind = types[0] if types else "string"
    if kind == "string" and schema.get("format") in ("date-time", "date"):
        return "date_iso8601"
    if schema.get("enum"):
        return "options"
    return {"number": "decimal"}.get(kind, kind)


def setting(name: str, schema: dict) -> dict:
    entry = {
        "name": name,
        "label": schema.get("title") or name.replace("_", " ").capitalize(),
        "kind": setting_kind(schema),
        "description": schema.get("description", ""),
    }
    if schema.get("secret"):
        entry["sensitive"] = True
    if "default" in schema:
        entry["value"] = schema["default"]
    if schema.get("enum"):
        entry["options"] = [{"label": str(value), "value": value} for value in schema["enum"]]
    return entry


def definition(folder: Path) -> dict:
    tap = folder.name
    about = json.loads(subprocess.run([str(Path(sys.executable).parent / tap), "--about", "--format=json"],
                                      capture_output=True, text=True, check=True).stdout)
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    properties = about["settings"]["properties"]
    provider = tap.removeprefix("tap-")
    return {
        "name": tap,
        "namespace": tap.replace("-", "_"),
        "variant": "adtech",
        "label": LABELS.get(provider, provider.title()),
        "description": project["description"],
        "pip_url": project["name"],
        "repo": project["urls"]["Repository"],
        "executable": tap,
        "capabilities": sorted(about["capabilities"]),
        "keywords": project.get("keywords", []),
        "maintenance_status": "active",
        "quality": "silver",
        "settings_group_validation": [sorted(about["settings"].get("required", []))],
        "settings": [setting(name, schema) for name, schema in properties.items() if name not in SDK_SETTINGS],
    }


def render(data: dict) -> str:
    header = "# Meltano Hub plugin definition, written by scripts/hub_definitions.py from --about: do not edit.\n"
    return header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=120)


def main(check: bool, taps: list[str]) -> int:
    stale = []
    folders = [ROOT / tap for tap in taps] or sorted(p.parent for p in ROOT.glob("tap-*/pyproject.toml"))
    for folder in folders:
        target = folder / "meltano-hub.yml"
        text = render(definition(folder))
        if not target.exists() or target.read_text() != text:
            stale.append(target.relative_to(ROOT))
            if not check:
                target.write_text(text)
    if check and stale:
        print(f"out of date: {', '.join(map(str, stale))}; run python scripts/hub_definitions.py")
        return 1
    return 0


if __name__ == "__main__":
    arguments = sys.argv[1:]
    sys.exit(main("--check" in arguments, [a for a in arguments if a != "--check"]))
