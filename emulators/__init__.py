"""Local emulators of the Rokt, AdRoll and MediaMath APIs, for tests and the demo."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from emulators.server import Emulator

# Provider name -> "module:class"; `python -m emulators` serves all of them.
PROVIDERS = {
    "rokt": "emulators.rokt:RoktEmulator",
    "adroll": "emulators.adroll:AdRollEmulator",
    "mediamath": "emulators.mediamath:MediaMathEmulator",
}


def emulator_class(provider: str) -> type[Emulator]:
    """The emulator class of ``provider`` (a key of :data:`PROVIDERS`)."""
    module, _, cls = PROVIDERS[provider].partition(":")
    return getattr(importlib.import_module(module), cls)
