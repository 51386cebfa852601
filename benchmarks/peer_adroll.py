"""Launch the published singer-io tap-adroll (1.2.1, from PyPI) against another base URL, its files unchanged.

    PEER_ADROLL_URL=http://127.0.0.1:PORT .venv-peer/bin/python benchmarks/peer_adroll.py --config C [--catalog K]

Runs inside the peer's own virtual environment (benchmarks/peer.py creates it). The tap reads its URLs from two
module constants at call time, so setting them before calling its own ``main()`` is enough; its OAuth library
refuses a plain-http token URL unless OAUTHLIB_INSECURE_TRANSPORT is set.
"""

import os
import sys

os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")

import tap_adroll
import tap_adroll.client

base = os.environ["PEER_ADROLL_URL"].rstrip("/")
tap_adroll.client.ENDPOINT_BASE = f"{base}/api/v1/"
tap_adroll.client.TOKEN_REFRESH_URL = f"{base}/auth/token"

if __name__ == "__main__":
    sys.exit(tap_adroll.main())
