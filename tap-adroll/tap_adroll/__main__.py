"""Run the tap: ``python -m tap_adroll --config config.json``."""

from tap_adroll.tap import TapAdRoll

TapAdRoll.cli()
