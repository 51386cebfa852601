"""tap-mediamath: a Singer tap for the MediaMath Reporting API v2."""
