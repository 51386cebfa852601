"""Nested entity lists in both shapes the API sends (production's objects, the docs' EIDs), emitted in one shape per
property as the schema declares; an element of neither shape fails the run in one line; and the record check of
emulators.testing (every RECORD against its stream's SCHEMA) catches a record that breaks its schema."""

from __future__ import annotations

import json

import pytest
from adroll_support import catalog_for, make_emulator
from tap_adroll.entities import NestedListError, normalise_nested_lists

from emulators.adroll import NESTED_LIST_SHAPES, AdRollEmulator
from emulators.testing import SchemaViolationError, check_records, run_tap

# Six advertisables: the fifth has no data, the sixth has one ad in two adgroups (every demo ad is in one).
ACCOUNTS = 6
TRUTH = AdRollEmulator(accounts=ACCOUNTS)  # production's shape: the ground truth of both runs
ADVERTISABLES = [TRUTH.advertisable_eids()[0], TRUTH.advertisable_eids()[5]]


def _config(emulator: AdRollEmulator) -> dict:
    return {"api_url": emulator.url, "api_key": emulator.client_id, "personal_access_token": emulator.personal_access_token,
            "start_date": "2025-03-01", "advertisable_eids": ADVERTISABLES}


@pytest.fixture(scope="module", params=NESTED_LIST_SHAPES)
def shaped(request):
    """One run of the entity streams with nested lists per shape: (shape, run)."""
    with make_emulator(accounts=ACCOUNTS, nested_lists=request.param) as emulator:
        run = run_tap("tap-adroll", _config(emulator), catalog=catalog_for("campaigns", "ad_groups", "ads"))
    assert run.returncode == 0, run.stderr[-3000:]
    return request.param, run


def _by_eid(records: list[dict]) -> dict[str, dict]:
    return {record["eid"]: record for record in records}


def test_the_emulator_sends_each_shape(shaped):
    shape, _ = shaped
    emulator = AdRollEmulator(accounts=ACCOUNTS, nested_lists=shape)
    ad, truth = emulator.ads(ADVERTISABLES[0])[0], TRUTH.ads(ADVERTISABLES[0])[0]
    assert ad["adgroups"] == ([truth["adgroups"][0]["id"]] if shape == "docs" else truth["adgroups"])
    assert isinstance(ad["adgroups"][0], str if shape == "docs" else dict)
    # The other lists are the same in both shapes: objects in adgroups, EIDs in campaigns.
    assert emulator.adgroups(ADVERTISABLES[1]) == TRUTH.adgroups(ADVERTISABLES[1])
    assert emulator.campaigns(ADVERTISABLES[1]) == TRUTH.campaigns(ADVERTISABLES[1])


def test_ads_adgroups_are_id_status_objects_whatever_the_shape(shaped):
    shape, run = shaped
    ads = _by_eid(run.records("ads"))
    truth = {ad["eid"]: ad for adv in ADVERTISABLES for ad in TRUTH.ads(adv)}
    assert len(run.records("ads")) == len(ads) == len(truth) == 31
    assert ads.keys() == truth.keys()
    for eid, ad in ads.items():
        groups = truth[eid]["adgroups"]
        # Production sends the ad's status in each adgroup; the docs' plain EIDs leave it null.
        assert ad["adgroups"] == [{"id": g["id"], "status": g["status"] if shape == "production" else None} for g in groups]
    in_two = [ad for ad in ads.values() if len(ad["adgroups"]) == 2]
    assert len(in_two) == 1 and in_two[0]["advertisable_eid"] == ADVERTISABLES[1]
    assert sum(len(ad["adgroups"]) == 1 for ad in ads.values()) == 30


def test_ad_groups_ads_and_segments_are_objects_and_campaigns_adgroups_are_eids(shaped):
    _, run = shaped
    groups = _by_eid(run.records("ad_groups"))
    truth = {g["eid"]: g for adv in ADVERTISABLES for g in TRUTH.adgroups(adv)}
    assert groups.keys() == truth.keys() and len(groups) == 13
    for eid, group in groups.items():
        assert group["ads"] == truth[eid]["ads"]
        assert group["segments"] == truth[eid]["segments"]
    campaigns = _by_eid(run.records("campaigns"))
    truth_campaigns = {c["eid"]: c for adv in ADVERTISABLES for c in TRUTH.campaigns(adv)}
    assert campaigns.keys() == truth_campaigns.keys() and len(campaigns) == 9
    for eid, campaign in campaigns.items():
        assert campaign["adgroups"] == truth_campaigns[eid]["adgroups"]
        assert all(isinstance(g, str) for g in campaign["adgroups"])
    # The lists agree with each other: an ad lists an adgroup exactly when that adgroup lists the ad.
    from_ads = sorted((g["id"], ad["eid"]) for ad in run.records("ads") for g in ad["adgroups"])
    from_groups = sorted((group["eid"], a["id"]) for group in groups.values() for a in group["ads"])
    assert from_ads == from_groups and len(from_ads) == 32


@pytest.mark.parametrize("in_flight", [1])  # the broken element is in the first answer to arrive: one at a time, a known entity
@pytest.mark.parametrize(
    ("stream", "path", "prop", "element", "shape"),
    [
        ("ads", "get_ads", "adgroups", 42, "{id, status}"),
        ("ad_groups", "get_adgroups", "ads", {"status": "active"}, "{id, status}"),
        ("ad_groups", "get_adgroups", "segments", {"id": "SEG", "is_negative": "no"}, "{id, is_negative}"),
        ("campaigns", "get_campaigns", "adgroups", None, "with an EID 'id'"),
    ],
)
def test_an_element_of_neither_shape_fails_the_run_in_one_line(emulator, config, stream, path, prop, element, shape):
    emulator.faults.add("nested_element", path=f"/advertisable/{path}$", params={"property": prop, "element": element})
    run = run_tap("tap-adroll", config, catalog=catalog_for(stream))
    first_eid = emulator.advertisable_eids()[0]
    entity = {"ads": emulator.ads, "ad_groups": emulator.adgroups, "campaigns": emulator.campaigns}[stream](first_eid, True)[0]
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if "| ERROR" in line]
    assert len(errors) == 1, errors
    assert errors[0].endswith(
        f"AdRoll API answer for stream '{stream}': entity {entity['eid']}: property '{prop}' holds {element!r}, "
        f"which is neither an EID nor an object {shape}"
    ), errors[0]
    assert run.records(stream) == []  # the broken entity was the first: nothing of the stream was emitted


def test_both_shapes_of_every_nested_list_read_into_one():
    assert normalise_nested_lists("ads", {"eid": "AD", "adgroups": ["G1", {"id": "G2", "status": "paused", "extra": 1}]}) == {
        "eid": "AD", "adgroups": [{"id": "G1", "status": None}, {"id": "G2", "status": "paused"}]}
    assert normalise_nested_lists("ad_groups", {"eid": "G", "ads": ["A1", {"id": "A2", "status": "active"}],
                                                "segments": ["S1", {"id": "S2", "is_negative": True}]}) == {
        "eid": "G", "ads": [{"id": "A1", "status": None}, {"id": "A2", "status": "active"}],
        "segments": [{"id": "S1", "is_negative": None}, {"id": "S2", "is_negative": True}]}
    assert normalise_nested_lists("campaigns", {"eid": "C", "adgroups": ["G1", {"id": "G2", "status": "approved"}]}) == {
        "eid": "C", "adgroups": ["G1", "G2"]}
    assert normalise_nested_lists("campaigns", {"eid": "C", "adgroups": None}) == {"eid": "C", "adgroups": None}
    assert normalise_nested_lists("segments", {"eid": "S", "mobile": {}}) == {"eid": "S", "mobile": {}}
    for stream, record, message in (
        ("ads", {"eid": "AD", "adgroups": "G1"}, "property 'adgroups' is 'G1', not a list"),
        ("ads", {"eid": "AD", "adgroups": [""]}, "property 'adgroups' holds '', which is neither an EID nor an object {id, status}"),
        ("ads", {"eid": "AD", "adgroups": [{"id": 7}]}, "holds {'id': 7}, which is neither"),
        ("ad_groups", {"eid": "G", "ads": [{"id": "A", "status": 1}]}, "holds {'id': 'A', 'status': 1}, which is neither"),
    ):
        with pytest.raises(NestedListError) as caught:
            normalise_nested_lists(stream, record)
        assert message in str(caught.value)
        assert str(caught.value).startswith(f"AdRoll API answer for stream '{stream}': entity {record['eid']}: ")


@pytest.mark.parametrize("shaped", ["production"], indirect=True)
def test_the_record_check_catches_a_record_that_breaks_its_schema(shaped):
    """The check every process test runs (emulators.testing): the old schema's failure in production (an object in
    a list of EIDs) and an impossible date-time are caught, each named by record, stream, key, place and rule."""
    _, run = shaped
    messages = json.loads(json.dumps(run.messages))
    assert check_records("tap-adroll", messages) == len(run.records()) == 53
    records = [m for m in messages if m["type"] == "RECORD"]
    campaign = next(n for n, m in enumerate(records) if m["stream"] == "campaigns")
    ad = next(n for n, m in enumerate(records) if m["stream"] == "ads")
    broken_campaign, broken_ad = records[campaign]["record"], records[ad]["record"]
    broken_campaign["adgroups"][0] = {"id": broken_campaign["adgroups"][0], "status": "approved"}
    broken_ad["created_date"] = "2025-02-30T00:00:00Z"
    with pytest.raises(SchemaViolationError) as caught:
        check_records("tap-adroll", messages)
    assert str(caught.value) == (
        "tap-adroll: 2 schema violation(s) in 53 RECORD message(s), first 2:\n"
        f"  RECORD #{campaign + 1} of stream 'campaigns' (eid={broken_campaign['eid']!r}), at adgroups/0: "
        f"{broken_campaign['adgroups'][0]!r} is not of type 'string' (schema: properties/adgroups/items/type)\n"
        f"  RECORD #{ad + 1} of stream 'ads' (eid={broken_ad['eid']!r}), at created_date: "
        "'2025-02-30T00:00:00Z' is not a 'date-time' (schema: properties/created_date/format)"
    )


def test_a_tap_process_whose_record_breaks_its_schema_fails_the_test(emulator, config):
    """The same check in run_tap: a stream map that keeps created_date's date-time type but writes an impossible
    date makes every ad record break the SCHEMA the tap emitted, and run_tap raises, naming the first ones."""
    config = {**config, "stream_maps": {"ads": {"created_date": "created_date and '2025-02-30T00:00:00Z'"}}}
    with pytest.raises(SchemaViolationError) as caught:
        run_tap("tap-adroll", config, catalog=catalog_for("ads"))
    ads = [ad for adv in emulator.advertisable_eids() for active in (True, False) for ad in emulator.ads(adv, active)]
    lines = str(caught.value).splitlines()
    assert lines[0] == "tap-adroll: 50 schema violation(s) in 50 RECORD message(s), first 5:"
    assert lines[1:] == [
        f"  RECORD #{n} of stream 'ads' (eid={ad['eid']!r}), at created_date: '2025-02-30T00:00:00Z' is not a 'date-time' "
        "(schema: properties/created_date/format)"
        for n, ad in enumerate(ads[:5], start=1)
    ]
