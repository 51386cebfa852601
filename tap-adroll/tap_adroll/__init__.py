"""tap-adroll: a Singer tap for the AdRoll (NextRoll) CRUD API v1."""
