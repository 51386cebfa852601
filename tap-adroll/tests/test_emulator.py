"""The AdRoll emulator itself: documented envelopes, auth, refresh-token rotation, quota and report filters."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from adroll_support import CLIENT_ID, CLIENT_SECRET, PAT, REFRESH_TOKEN

from emulators.adroll import NESTED_LIST_SHAPES, AdRollEmulator
from emulators.facts import convert_cents

PAT_HEADERS = {"Authorization": f"Token {PAT}"}


def get(emulator, path, headers=PAT_HEADERS, **params):
    params.setdefault("apikey", CLIENT_ID)
    return requests.get(
        f"{emulator.url}/api/v1/{path}", headers=headers, params={k: v for k, v in params.items() if v is not None}, timeout=10
    )


def test_default_construction_works():
    emulator = AdRollEmulator()
    assert len(emulator.advertisables) >= 3
    assert {a["_currency"] for a in emulator.advertisables} - {"USD"}


def test_pat_needs_the_apikey_and_the_right_token(emulator):
    assert get(emulator, "organization/get").json() == {"results": emulator.organization}
    missing = get(emulator, "organization/get", apikey=None)
    assert missing.status_code == 401 and missing.json()["errors"]
    assert get(emulator, "organization/get", headers={"Authorization": "Token wrong"}).status_code == 401
    assert get(emulator, "organization/get", headers={}).status_code == 401


def test_refresh_tokens_rotate_and_are_single_use(emulator):
    def refresh(token):
        return requests.post(
            f"{emulator.url}/auth/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": token,
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            },
            timeout=10,
        )

    first = refresh(REFRESH_TOKEN)
    assert first.status_code == 200
    body = first.json()
    assert body["refresh_token"] != REFRESH_TOKEN and body["expires_in"] == 86400
    again = refresh(REFRESH_TOKEN)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert refresh(body["refresh_token"]).status_code == 200
    bearer = {"Authorization": f"Bearer {body['access_token']}"}
    assert get(emulator, "organization/get", headers=bearer, apikey=None).status_code == 200
    emulator.tokens.expire_all()
    assert get(emulator, "organization/get", headers=bearer).json() == {"errors": ["Access token expired"]}


def test_campaigns_ads_and_adgroups_are_active_unless_asked(emulator):
    adv = emulator.advertisable_eids()[0]
    active = get(emulator, "advertisable/get_campaigns", advertisable=adv).json()["results"]
    inactive = get(emulator, "advertisable/get_campaigns", advertisable=adv, is_active="false").json()["results"]
    assert active and inactive and all(c["is_active"] for c in active) and not any(c["is_active"] for c in inactive)
    assert len(active) + len(inactive) == len(emulator.campaigns(adv))
    ads = [get(emulator, "advertisable/get_ads", advertisable=adv, is_active=f).json()["results"] for f in ("true", "false")]
    assert len(ads[0]) + len(ads[1]) == len(emulator.ads(adv))
    groups = [get(emulator, "advertisable/get_adgroups", advertisable=adv, camp_active=f).json()["results"] for f in ("true", "false")]
    assert len(groups[0]) + len(groups[1]) == len(emulator.adgroups(adv))


def test_reports_filter_convert_and_validate(emulator):
    advs = emulator.advertisable_eids()
    gbp = next(a for a in emulator.advertisables if a["_currency"] == "GBP")["eid"]
    day = dt.date(2025, 3, 1)
    repeated = get(
        emulator, "report/advertisable", data_format="entity", start_date="03-01-2025", end_date="03-01-2025", advertisables=advs[:2]
    ).json()["results"]
    comma = get(
        emulator,
        "report/advertisable",
        data_format="entity",
        start_date="03-01-2025",
        end_date="03-01-2025",
        advertisables=",".join(advs[:2]),
    ).json()["results"]
    assert repeated == comma == emulator.truth_report("advertisable", day, advs[:2])
    assert [r["eid"] for r in comma] == advs[:2]
    in_usd = emulator.truth_report("advertisable", day, [gbp], "USD")[0]
    in_gbp = emulator.truth_report("advertisable", day, [gbp], "GBP")[0]
    assert round(Decimal(str(in_usd["cost"])) * 100) == convert_cents(round(Decimal(str(in_gbp["cost"])) * 100), "GBP", "USD")
    bad = get(emulator, "report/ad", data_format="entity", start_date="2025-03-01", end_date="03-01-2025")
    assert bad.status_code == 400 and bad.json() == {"errors": ["Invalid start_date '2025-03-01': expected MM-DD-YYYY"]}
    assert get(emulator, "report/advertisable", data_format="entity", start_date="03-01-2025", end_date="03-01-2025").status_code == 400
    assert get(emulator, "report/ad", start_date="03-01-2025", end_date="03-01-2025").status_code == 400


@pytest.mark.parametrize("retry_after", [0, None])
def test_quota_answers_429_past_the_daily_count(retry_after):
    with AdRollEmulator(personal_access_token=PAT, client_id=CLIENT_ID, quota_per_day=2, quota_retry_after=retry_after) as emulator:
        assert [get(emulator, "organization/get").status_code for _ in range(3)] == [200, 200, 429]
        refused = get(emulator, "organization/get")
        assert refused.json() == {"errors": ["Request quota exceeded: 2 requests per day"]}
        assert (
            float(refused.headers["Retry-After"]) == retry_after if retry_after is not None else float(refused.headers["Retry-After"]) > 0
        )
        emulator.reset()
        assert get(emulator, "organization/get").status_code == 200


@pytest.mark.parametrize("nested_lists", NESTED_LIST_SHAPES)
def test_nested_lists_in_production_shape_or_as_the_docs_read(emulator, nested_lists):
    adv = emulator.advertisable_eids()[0]
    ad = get(emulator, "advertisable/get_ads", advertisable=adv).json()["results"][0]
    group = get(emulator, "advertisable/get_adgroups", advertisable=adv).json()["results"][0]
    campaign = get(emulator, "advertisable/get_campaigns", advertisable=adv).json()["results"][0]
    membership = next(m for g in emulator.adgroups(adv) for m in g["ads"] if m["id"] == ad["eid"])
    home = next(g["eid"] for g in emulator.adgroups(adv) if membership in g["ads"])
    # Only an ad's adgroups differ: {id, status} objects in production, adgroup EIDs in the docs.
    assert ad["adgroups"] == ([{"id": home, "status": membership["status"]}] if nested_lists == "production" else [home])
    assert [set(m) for m in group["ads"]] == [{"id", "status"}] * len(group["ads"]) and group["ads"]
    assert [set(m) for m in group["segments"]] == [{"id", "is_negative"}]
    assert campaign["adgroups"] and all(isinstance(g, str) for g in campaign["adgroups"])


def test_command_line_serves_the_docs_shape_on_request():
    root = Path(__file__).parents[2]
    command = [sys.executable, "-m", "emulators", "--providers", "adroll", "--adroll-nested-lists", "docs"]
    server = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        url = json.loads(server.stdout.readline())["adroll"]  # type: ignore[union-attr]
        headers = {"Authorization": "Token demo-personal-access-token"}
        adv = requests.get(f"{url}/api/v1/organization/get_advertisables", params={"apikey": "demo-client-id"}, headers=headers,
                           timeout=10).json()["results"][0]["eid"]
        ads = requests.get(f"{url}/api/v1/advertisable/get_ads", params={"apikey": "demo-client-id", "advertisable": adv},
                           headers=headers, timeout=10).json()["results"]
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert ads == AdRollEmulator(nested_lists="docs").ads(adv, True)
    assert all(isinstance(g, str) for ad in ads for g in ad["adgroups"]) and len(ads) == 10
    wrong = subprocess.run([*command[:-1], "eids"], cwd=root, capture_output=True, text=True, check=False, timeout=30)
    assert wrong.returncode == 2 and "invalid choice: 'eids' (choose from 'production', 'docs')" in wrong.stderr
    with pytest.raises(ValueError, match="nested_lists must be one of production, docs, not 'eids'"):
        AdRollEmulator(nested_lists="eids")
