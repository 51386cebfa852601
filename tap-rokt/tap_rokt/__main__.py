"""``python -m tap_rokt`` runs the tap's command line."""

from tap_rokt.tap import TapRokt

TapRokt.cli()
