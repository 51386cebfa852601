"""tap-rokt in the fault matrix."""

from __future__ import annotations

import base64

from fault_matrix import Profile


def profile() -> Profile:
    from emulators.rokt import RoktEmulator

    app_id, app_secret = "matrix-rokt-id-51c2", "matrix-rokt-SECRET-9d7e0a"
    return Profile(
        tap="tap-rokt",
        provider="Rokt",
        make_emulator=lambda: RoktEmulator(app_id=app_id, app_secret=app_secret),
        config=lambda emulator: {
            "api_url": emulator.url, "app_id": app_id, "app_secret": app_secret,
            "start_date": "2025-03-01", "end_date": "2025-03-21", "report_window_days": 7,
        },
        secrets=lambda config: [config["app_secret"], base64.b64encode(f"{config['app_id']}:{config['app_secret']}".encode()).decode()],
        report_path=r"/(campaigns/|transactions)$",
        token_path=r"/auth/oauth2/token$",
    )

