"""The tables each tap lands, keyed as the dbt sources name them: ``<namespace>/<stream>``.

A tap lands one table per selected stream (``select:`` of the tap in meltano.yml, ``<stream>.*``), in the schema
of its namespace (``tap_rokt``), which the dbt sources of transform/ name as their source (``tap_rokt``); the
tables the dbt sources declare for that namespace are added, so that every source the models read has the tap
that lands it upstream.
"""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

import yaml


def selected_streams(meltano_yml: Path) -> dict[str, tuple[str, list[str]]]:
    """tap -> (namespace, the streams its ``select:`` names), from the project's meltano.yml."""
    content = yaml.safe_load(meltano_yml.read_text(encoding="utf-8")) or {}
    found: dict[str, tuple[str, list[str]]] = {}
    for plugin in (content.get("plugins") or {}).get("extractors") or []:
        streams: list[str] = []
        for pattern in plugin.get("select") or []:
            stream = str(pattern).split(".", 1)[0]
            # A negation or a wildcard names no table by itself.
            if stream.startswith("!") or any(char in stream for char in "*?["):
                continue
            if stream not in streams:
                streams.append(stream)
        found[plugin["name"]] = (plugin.get("namespace") or plugin["name"].replace("-", "_"), streams)
    return found


def source_tables(manifest: t.Mapping[str, t.Any] | None) -> dict[str, list[str]]:
    """dbt source name -> its tables, from a dbt manifest."""
    found: dict[str, list[str]] = {}
    for source in (manifest or {}).get("sources", {}).values():
        tables = found.setdefault(source["source_name"], [])
        if source["name"] not in tables:
            tables.append(source["name"])
    return found


def landed_tables(meltano_yml: Path, tap: str, manifest: t.Mapping[str, t.Any] | None) -> tuple[str, list[str]]:
    """(namespace, tables) that ``tap`` lands: its selected streams, then the dbt sources' other tables of it."""
    namespace, streams = selected_streams(meltano_yml).get(tap, (tap.replace("-", "_"), []))
    declared = source_tables(manifest).get(namespace, [])
    return namespace, streams + [table for table in declared if table not in streams]

