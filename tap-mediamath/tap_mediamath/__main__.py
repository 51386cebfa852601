"""``python -m tap_mediamath`` runs the tap's command line."""

from tap_mediamath.tap import TapMediaMath

TapMediaMath.cli()
