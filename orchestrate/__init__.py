"""Sharded extraction on Dagster: shards of each tap as Meltano inherited plugins (shards.py), the tables they land
and the dbt models of transform/ as assets (landing.py, transform.py, definitions.py), Celery workers with their
own Meltano run directory (worker.py), and everything on one machine with an embedded PostgreSQL (local.py)."""
