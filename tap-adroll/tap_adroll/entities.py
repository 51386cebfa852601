"""AdRoll's nested entity lists, read in either shape the API sends and emitted in one shape per property.

The docs call an ad's ``adgroups`` "the list of adgroup EIDs", but production answers send ``{id, status}``
objects there (as the published singer-io tap-adroll, in production use, types them). So every nested list is
read in both shapes, a plain EID or an object with an ``id``, and emitted as its schema declares (schemas.py):

- ``ads.adgroups`` and ``ad_groups.ads``: ``{id, status}`` objects (a plain EID becomes ``{id: EID, status: null}``);
- ``ad_groups.segments``: ``{id, is_negative}`` objects (a plain EID: ``is_negative`` null);
- ``campaigns.adgroups``: EIDs (an object becomes its ``id``).

Any other element fails the run with one line naming the stream, the entity's EID and the property.
"""

from __future__ import annotations

import typing as t

from singer_sdk.exceptions import FatalAPIError

#: The value types allowed beside ``id`` in an element object (null: the API did not say).
_FIELD_TYPES: dict[str, tuple[type, ...]] = {"status": (str, type(None)), "is_negative": (bool, type(None))}

#: stream -> property -> the fields of its emitted objects, or None for plain EIDs.
NESTED_LISTS: dict[str, dict[str, tuple[str, ...] | None]] = {
    "campaigns": {"adgroups": None},
    "ad_groups": {"ads": ("id", "status"), "segments": ("id", "is_negative")},
    "ads": {"adgroups": ("id", "status")},
}


class NestedListError(FatalAPIError):
    """A nested entity list holds an element that is neither an EID nor an object with an EID ``id``."""


def normalise_nested_lists(stream: str, record: dict) -> dict:
    """``record`` with each nested entity list of ``stream`` in the one shape its schema declares."""
    for name, fields in NESTED_LISTS.get(stream, {}).items():
        value = record.get(name)
        if value is None:
            continue
        if not isinstance(value, list):
            raise NestedListError(_describe(stream, record, name, f"is {_snippet(value)}, not a list"))
        record[name] = [_element(stream, record, name, fields, element) for element in value]
    return record


def _element(stream: str, record: dict, name: str, fields: tuple[str, ...] | None, element: t.Any) -> t.Any:
    if _is_eid(element):
        return element if fields is None else {field: element if field == "id" else None for field in fields}
    if isinstance(element, dict) and _is_eid(element.get("id")):
        if fields is None:
            return element["id"]
        if all(isinstance(element.get(field), _FIELD_TYPES[field]) for field in fields if field != "id"):
            return {field: element.get(field) for field in fields}
    shape = "an object with an EID 'id'" if fields is None else "an object {" + ", ".join(fields) + "}"
    raise NestedListError(_describe(stream, record, name, f"holds {_snippet(element)}, which is neither an EID nor {shape}"))


def _is_eid(value: t.Any) -> bool:
    return isinstance(value, str) and bool(value)


def _describe(stream: str, record: dict, name: str, problem: str) -> str:
    return f"AdRoll API answer for stream '{stream}': entity {record.get('eid')}: property '{name}' {problem}"


def _snippet(value: t.Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
