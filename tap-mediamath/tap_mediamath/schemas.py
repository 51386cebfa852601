"""The field catalog (``fields.json``, generated from the OpenAPI tables by ``scripts/build_field_catalog.py``)
and the stream schemas built from it."""

from __future__ import annotations

import functools
import json
import typing as t
from importlib import resources

from singer_sdk import typing as th

_TYPES: dict[str, type[th.JSONTypeHelper]] = {
    "string": th.StringType,
    "integer": th.IntegerType,
    "number": th.DecimalType,
    "boolean": th.BooleanType,
}


@functools.cache
def catalog() -> dict:
    """The whole field catalog: ``{"datasets": {name: {fields, rollups, time_zones, ...}}}``."""
    return json.loads(resources.files("tap_mediamath").joinpath("fields.json").read_text(encoding="utf-8"))


def dataset_names() -> list[str]:
    return sorted(catalog()["datasets"])


def dataset(name: str) -> dict:
    return catalog()["datasets"][name]


def fields_of(name: str) -> dict[str, dict]:
    """A dataset's fields: name -> ``{kind, type, format?, label, rollups?, time_windows?}``."""
    return dataset(name)["fields"]


def is_dimension(dataset_name: str, field: str) -> bool:
    return fields_of(dataset_name)[field]["kind"] == "dimension"


def unknown_fields(dataset_name: str, fields: t.Iterable[str]) -> list[str]:
    table = fields_of(dataset_name)
    return [field for field in fields if field not in table]


def json_type(spec: dict) -> th.JSONTypeHelper:
    if spec.get("format") == "date-time":
        return th.DateTimeType()
    return _TYPES[spec["type"]]()


def report_schema(dataset_name: str, fields: t.Sequence[str], rollup: str) -> dict:
    """A report stream's schema: ``organization_id`` and ``agg_timestamp`` (unless ``rollup=all``), then the
    requested fields typed from the catalog (ids integers, names strings, timestamps date-time, metrics numbers)."""
    table = fields_of(dataset_name)
    properties: list[th.Property] = [
        th.Property("organization_id", th.IntegerType, required=True, description="MediaMath organization of the row"),
    ]
    if rollup != "all":
        properties.append(
            th.Property("agg_timestamp", th.DateTimeType, required=True, description=f"Start of the report period ({rollup}), RFC 3339"),
        )
    for field in fields:
        if field in ("organization_id", "agg_timestamp"):
            continue
        spec = table[field]
        label = spec.get("label") or field.replace("_", " ")
        properties.append(th.Property(field, json_type(spec), description=f"{spec['kind']}: {label}"))
    return th.PropertiesList(*properties).to_dict()
