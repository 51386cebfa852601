"""Sharded extraction on Dagster: shards of each tap as Meltano inherited plugins (shards.py), one op per
shard running `meltano run <shard> <loader>` (definitions.py), Celery workers with their own Meltano run
directory (worker.py)."""
