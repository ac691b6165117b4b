"""A throwaway PostgreSQL server for tests and benches: initdb + pg_ctl in a folder, on a free port.

As root (CI runs as root) the server runs as the ``postgres`` user through ``runuser``,
since PostgreSQL refuses to run as root. ``python3 -m tests.pgserver start DIR`` prints
the server's URI; ``python3 -m tests.pgserver stop DIR`` stops it (``.ci/run`` does both).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

BIN_DIRS = (
    "/usr/lib/postgresql/17/bin",
    "/usr/lib/postgresql/16/bin",
    "/usr/lib/postgresql/15/bin",
)
USER = "postgres"


def pg_bin(name: str) -> str | None:
    """The path of a PostgreSQL server program (initdb, pg_ctl), or None when not installed."""
    for folder in BIN_DIRS:
        path = Path(folder) / name
        if path.exists():
            return str(path)
    return shutil.which(name)


def available() -> bool:
    return pg_bin("initdb") is not None and pg_bin("pg_ctl") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_server_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", USER, "--", *cmd] if os.geteuid() == 0 else cmd


def start(folder: str | Path) -> str:
    """Create a cluster in ``folder`` (must not exist or be empty) and start it; returns its URI."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data"
    if os.geteuid() == 0:
        shutil.chown(folder, USER, USER)
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    if initdb is None or pg_ctl is None:
        raise RuntimeError("PostgreSQL server programs not found (apt-get install postgresql)")
    run = subprocess.run
    run(
        _as_server_user([initdb, "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8",
                         "--locale=C.UTF-8", "--no-sync"]),
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    port = _free_port()
    _launch(folder, port)
    uri = f"postgresql://{USER}@127.0.0.1:{port}/postgres"
    (folder / "uri").write_text(uri)
    return uri


def _launch(folder: Path, port: int) -> None:
    pg_ctl = pg_bin("pg_ctl")
    assert pg_ctl is not None
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={folder} -c fsync=off"
    )
    subprocess.run(
        _as_server_user([pg_ctl, "-D", str(folder / "data"), "-o", options, "-l",
                         str(folder / "log"), "-w", "-t", "60", "start"]),
        check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


def restart(folder: str | Path, *, evict: bool = False) -> str:
    """Stop the server started in ``folder`` and start it again on its port; returns its URI.

    ``evict=True`` first drops the cluster's files from the operating system's page cache
    (``posix_fadvise(DONTNEED)``; only these files), so the next reads come from disk as
    after a reboot: a cold start for benchmarks.
    """
    folder = Path(folder)
    uri = (folder / "uri").read_text().strip()
    stop(folder)
    if evict:
        for path in (folder / "data").rglob("*"):
            if path.is_file():
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                finally:
                    os.close(fd)
    port = urlsplit(uri).port
    assert port is not None
    _launch(folder, port)
    return uri


def stop(folder: str | Path) -> None:
    """Stop the server started in ``folder`` (fast shutdown); nothing when none runs there."""
    pg_ctl = pg_bin("pg_ctl")
    data = Path(folder) / "data"
    if pg_ctl is None or not (data / "postmaster.pid").exists():
        return
    subprocess.run(
        _as_server_user([pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]),
        check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@contextlib.contextmanager
def server_for_tests() -> Iterator[str]:
    """The URI of a PostgreSQL server for a test module: ``FENGQIAO_TEST_PG_URI`` (``.ci/run``
    starts one) or one started here in a temporary folder. In CI (``CI=true``) a missing server
    fails the tests; elsewhere they are skipped with the command that installs it.
    """
    import pytest

    given = os.environ.get("FENGQIAO_TEST_PG_URI")
    if given:
        yield given
        return
    if not available():
        message = "PostgreSQL is not installed: apt-get install postgresql"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    # Not under pytest's tmp_path: the postgres user must be able to reach the folder.
    folder = Path(tempfile.mkdtemp(prefix="fengqiao-pg-"))
    try:
        yield start(folder)
    finally:
        stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(server_uri: str) -> str:
    """Create an empty database on the server; returns its URI (each test gets its own)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_uri, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]  # generated name
    parts = urlsplit(server_uri)
    return parts._replace(path=f"/{name}").geturl()


if __name__ == "__main__":
    action, where = sys.argv[1], sys.argv[2]
    if action == "start":
        print(start(where))
    else:
        stop(where)
