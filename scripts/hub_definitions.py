"""Write each tap's Meltano Hub plugin definition from what the tap reports, in the form the Hub keeps.

    python scripts/hub_definitions.py [tap-x ...]          # (re)write tap-*/meltano-hub.yml
    python scripts/hub_definitions.py --check [tap-x ...]  # exit 1 when a definition is out of date

Sources: `tap-x --about --format=json` (settings, their types, secrets, defaults, required ones, capabilities,
supported Python versions), the tap's pyproject.toml (distribution name, URLs) and SOURCES below (what the Hub
shows about the provider). The output is what the Hub's own tools would leave unchanged: keys sorted at every
level (its yamllint `key-ordering`), settings sorted by name, capabilities and each settings group sorted (its
`hub-utils` reformatting), and every description already in the form hub-utils' description cleaner gives.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# What the taps' tests exercise (contract.md); a capability --about reports beyond these is not claimed.
TESTED_CAPABILITIES = frozenset({"about", "catalog", "discover", "schema-flattening", "state", "stream-maps"})
VARIANT = "adtech"
HEADER = "# Meltano Hub plugin definition, written by scripts/hub_definitions.py from --about: regenerate, do not edit.\n"


@dataclass(frozen=True)
class Source:
    label: str
    description: str  # the provider in a few words, as Hub descriptions are
    domain_url: str
    logo: str  # file name under the Hub's static/assets/logos/extractors/


SOURCES = {
    "tap-rokt": Source("Rokt", "Rokt ecommerce marketing platform", "https://www.rokt.com/", "rokt.png"),
    "tap-adroll": Source("AdRoll", "AdRoll (NextRoll) digital advertising platform", "https://www.adroll.com/", "adroll.png"),
    "tap-mediamath": Source("MediaMath", "MediaMath programmatic advertising platform", "https://www.mediamath.com/", "mediamath.png"),
}
# Credentials a tap needs one set of, beside the settings --about marks required; the tap checks them itself, and
# --about's `required` cannot say "one of". Each alternative becomes one settings group, as in the root meltano.yml.
AUTH_ALTERNATIVES = {
    "tap-adroll": (("personal_access_token",), ("access_token", "refresh_token", "client_secret")),
}


# --- hub-utils' description cleaner --------------------------------------------------------------------------
# The Hub runs `MeltanoUtil._clean_description` (meltano/hub-utils, hub_utils/meltano_util.py, at 70a447b,
# 2025-08-25; hub-utils is not on PyPI) over every setting description it takes from --about. Reimplemented here
# rule for rule, including its failure: a sentence left empty by its period splitting (as "1..10000" leaves)
# raises IndexError, which is how the Hub's tool crashed on tap-mediamath's page_size description.
_KEEP_DOTS_IN = ("http", "ssh", "ssl", "e.g.", '"', "`", "()", ".com")


def _split_periods(word: str) -> list[str]:
    """A period inside a word is taken as a sentence end and gets a space after it, except in numbers and links."""
    if "i.e." in word or "e.g." in word:
        return [word]
    parts = word.split(".")
    if len(parts) > 1 and not word.startswith("."):
        if parts[0][-1].isnumeric() and parts[1][:1].isnumeric():
            return [word]  # a decimal number such as 2.5
        if not any(keep in word for keep in _KEEP_DOTS_IN):
            return word.replace(".", ". ").split()
    return [word]


def _capitalise_sentences(text: str) -> str:
    sentences: list[str] = []
    for sentence in text.split(". "):
        words = sentence.split()
        first = words[0]  # IndexError on an empty sentence, as in hub-utils
        previous = sentences[-1] if sentences else ""
        if not (
            first[0].isupper() or first[0] == "'" or previous.endswith(("e.g", "i.e")) or first.startswith(("tap-", "target-", "http"))
        ):
            words[0] = first.capitalize()
        sentences.append(" ".join(words))
    return ". ".join(sentences)


def hub_clean_description(description):
    """What hub-utils makes of a setting description (raises where hub-utils raises)."""
    if not description:
        return description
    if not isinstance(description, str):
        return ""
    words = [piece for word in description.split() for piece in _split_periods(word)]
    return _capitalise_sentences(" ".join(words)).replace("Dbt", "dbt")


def hub_description(text: str) -> str:
    """`text` in the form the Hub's cleaner leaves unchanged, written so that the cleaner cannot fail on it."""
    text = " ".join(str(text or "").split())
    text = re.sub(r"(\d)\s*\.{2,}\s*(\d)", r"\1 to \2", text)  # a range, "1..10000": "1 to 10000"
    text = re.sub(r"\.{2,}", "\u2026", text)  # an ellipsis: each of its periods would end a sentence
    text = " ".join(word for word in text.split() if word.strip("."))  # a lone period ends an empty sentence
    # The cleaner is not idempotent ("e.g. x" -> "E.g. x" -> "E. G. x"): clean until it changes nothing more, so the
    # Hub's next pass over the file leaves it as it is.
    for _ in range(5):
        cleaned = hub_clean_description(text)
        if cleaned == text:
            return text
        text = cleaned
    raise ValueError(f"the Hub's description cleaner does not settle on {text!r}")


# --- settings ------------------------------------------------------------------------------------------------
def _types(schema: dict) -> list[str]:
    """The non-null JSON types a schema allows, in order, looking through anyOf/oneOf alternatives."""
    kinds = schema.get("type")
    found = list(kinds) if isinstance(kinds, list) else [kinds] if kinds else []
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []):
        if isinstance(alternative, dict):
            found += _types(alternative)
    return [kind for kind in dict.fromkeys(found) if kind != "null"]


def setting_kind(schema: dict) -> str:
    types = _types(schema)
    if schema.get("enum"):
        return "options"
    if "string" in types and schema.get("format") in ("date-time", "date"):
        return "date_iso8601"
    # Meltano takes one kind per setting: where several types are allowed (faker_config.seed, .locale), the most
    # general one, which is also what the Hub lists for them.
    for general in ("array", "string"):
        if len(types) > 1 and general in types:
            return general
    kind = types[0] if types else "string"
    return {"number": "decimal"}.get(kind, kind)


def _option_label(value) -> str:
    return " ".join(word.capitalize() for word in re.split(r"[_\-\s]+", str(value)))


def _flattened(name: str, schema: dict) -> list[tuple[str, dict]]:
    """An object of fixed keys (batch_config) becomes one setting per leaf, `batch_config.encoding.format`, as the
    Hub lists SDK taps; a map of free keys (stream_maps: its additionalProperties is a schema) stays one object."""
    properties = schema.get("properties") or {}
    is_map = isinstance(schema.get("additionalProperties"), dict)
    if "object" in _types(schema) and properties and not is_map:
        return [leaf for key, child in properties.items() for leaf in _flattened(f"{name}.{key}", child)]
    return [(name, schema)]


def setting(name: str, schema: dict) -> dict:
    entry = {
        "name": name,
        "label": schema.get("title") or name.replace("_", " ").capitalize(),
        "kind": setting_kind(schema),
        "description": hub_description(schema.get("description", "")),
    }
    if schema.get("secret"):
        entry["sensitive"] = True
    if schema.get("default") is not None:
        entry["value"] = schema["default"]
    if schema.get("enum"):
        entry["options"] = [{"label": _option_label(value), "value": value} for value in schema["enum"] if value is not None]
    return entry


def settings_groups(tap: str, required: list[str]) -> list[list[str]]:
    alternatives = AUTH_ALTERNATIVES.get(tap, ((),))
    return [sorted({*required, *alternative}) for alternative in alternatives]


# --- the definition ------------------------------------------------------------------------------------------
def about(tap: str) -> dict:
    executable = Path(sys.executable).parent / tap
    done = subprocess.run([str(executable), "--about", "--format=json"], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def definition(folder: Path) -> dict:
    tap = folder.name
    reported = about(tap)
    project = tomllib.loads((folder / "pyproject.toml").read_text())["project"]
    source = SOURCES[tap]
    settings = []
    for name, schema in reported["settings"]["properties"].items():
        for leaf_name, leaf in _flattened(name, schema):
            try:
                settings.append(setting(leaf_name, leaf))
            except ValueError as error:
                raise SystemExit(f"{tap}: setting {leaf_name}: {error}") from None
    return {
        "name": tap,
        "namespace": tap.replace("-", "_"),
        "variant": VARIANT,
        "label": source.label,
        "description": source.description,
        "domain_url": source.domain_url,
        "logo_url": f"/assets/logos/extractors/{source.logo}",
        "pip_url": project["name"],
        "repo": project["urls"]["Repository"],
        "docs": project["urls"]["Documentation"],
        "executable": tap,
        "capabilities": sorted(TESTED_CAPABILITIES & set(reported["capabilities"])),
        "keywords": ["api", "meltano_sdk"],  # meltano_sdk: how the Hub recognises an SDK tap
        "maintenance_status": "active",
        "quality": "silver",  # hub-utils' rating of a community SDK tap
        "supported_python_versions": list(reported["supported_python_versions"]),
        "settings_group_validation": settings_groups(tap, reported["settings"].get("required", [])),
        "settings": sorted(settings, key=lambda entry: entry["name"]),
    }


def render(data: dict) -> str:
    # sort_keys: the Hub's key-ordering rule; a wide line keeps each description on one line.
    return HEADER + yaml.safe_dump(data, sort_keys=True, allow_unicode=True, width=4096)


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
