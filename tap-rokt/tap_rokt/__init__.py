"""tap-rokt: a Singer tap for the Rokt Query API."""
