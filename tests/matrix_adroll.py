"""tap-adroll in the fault matrix."""

from __future__ import annotations

from fault_matrix import Profile, Scenario

CLIENT_ID, CLIENT_SECRET = "matrix-adroll-client-3f1a", "matrix-adroll-SECRET-77ab0c"
PAT = "matrix-adroll-PAT-c0ffee42"


def profile() -> Profile:
    from emulators.adroll import AdRollEmulator

    return Profile(
        tap="tap-adroll",
        provider="AdRoll",
        make_emulator=lambda: AdRollEmulator(client_id=CLIENT_ID, client_secret=CLIENT_SECRET, personal_access_token=PAT),
        config=lambda emulator: {
            "api_url": emulator.url, "api_key": CLIENT_ID, "personal_access_token": PAT,
            "start_date": "2025-03-01", "end_date": "2025-03-21",
            # 3 of the 4 advertisables: the emulator's outside_window fault adds a row of the fourth.
            "advertisable_eids": emulator.advertisable_eids()[:3],
        },
        secrets=lambda config: [config["personal_access_token"], CLIENT_SECRET],
        # Faults land on the advertisable report: its rows are the advertisables asked for, so an answer
        # "outside the window" (entity rows carry no date) is detectable there.
        report_path=r"/api/v1/report/advertisable$",
        token_path=r"/auth/token$",
        # A personal access token is not issued by a token endpoint: revoking it means every request,
        # from some point on, is refused with 401. The run must fail saying so; once the user has a valid
        # token again (the fault cleared), the resumed run completes.
        replaced=(
            Scenario("token revoked", ({"kind": "status", "status": 401, "path": "report", "skip": 1, "times": 1000},),
                     expect="fail", message=("401",)),
        ),
    )
