"""The embedded PostgreSQL of `make run`: it starts, the application role is held by row-level
security, a second start reuses the server, and a start after a crash recovers; the settings
without DATABASE_URL connect to it as the application role."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import pytest

from scf_platform.embedded_db import APP_ROLE, OWNER_ROLE, EmbeddedPostgres

ROOT = Path(__file__).resolve().parents[2]

# A table of the kind every tenant table is: owned by the owner role, row-level security forced,
# rows visible to the organization set in the transaction (as scf_platform/rls.py does it).
TENANT_TABLE_SQL = """
CREATE TABLE deal (id int PRIMARY KEY, organization_id int NOT NULL);
ALTER TABLE deal ENABLE ROW LEVEL SECURITY;
ALTER TABLE deal FORCE ROW LEVEL SECURITY;
CREATE POLICY by_organization ON deal
  USING (organization_id = nullif(current_setting('scf.organization_id', true), '')::int);
GRANT SELECT, INSERT ON deal TO scf_app;
"""


@pytest.fixture(scope="module")
def server():
    # Not pytest's tmp_path: its base folder is private to this account, and any pytest session
    # starting meanwhile makes it private again, out of reach of the server's own account.
    root = Path(tempfile.mkdtemp(prefix="scf-embedded-test-"))
    server = EmbeddedPostgres(root / "postgres")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def connect(server: EmbeddedPostgres, role: str):
    connection = psycopg2.connect(server.url(role))
    connection.autocommit = True
    return connection


def query(server: EmbeddedPostgres, role: str, sql: str, organization: int | None = None):
    with connect(server, role) as connection, connection.cursor() as cursor:
        if organization is not None:
            cursor.execute(
                "SELECT set_config('scf.organization_id', %s, false)", [str(organization)]
            )
        cursor.execute(sql)
        rows = cursor.fetchall() if cursor.description else []
    connection.close()
    return rows


def test_a_first_start_makes_the_server_with_both_roles_and_the_database(server):
    assert not server.is_running()
    assert server.start() is True
    assert server.is_running()
    [(user, database)] = query(server, APP_ROLE, "SELECT current_user, current_database()")
    assert (user, database) == (APP_ROLE, "scf")
    # Only through the socket: nothing listens on TCP.
    assert query(server, OWNER_ROLE, "SHOW listen_addresses") == [("",)]


def test_the_application_role_is_neither_superuser_nor_bypassrls_nor_owner(server):
    server.start()
    [(superuser, bypassrls)] = query(
        server, APP_ROLE, "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user"
    )
    assert (superuser, bypassrls) == (False, False)
    [(owner,)] = query(
        server, APP_ROLE, "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'scf'"
    )
    assert owner == OWNER_ROLE


def test_row_level_security_holds_the_application_role(server):
    server.start()
    query(server, OWNER_ROLE, TENANT_TABLE_SQL)
    query(server, OWNER_ROLE, "INSERT INTO deal VALUES (1, 7)", organization=7)
    query(server, OWNER_ROLE, "INSERT INTO deal VALUES (2, 8)", organization=8)

    assert query(server, APP_ROLE, "SELECT id FROM deal") == []  # no scope: no rows
    assert query(server, APP_ROLE, "SELECT id FROM deal", organization=7) == [(1,)]
    with pytest.raises(psycopg2.errors.InsufficientPrivilege):
        query(server, APP_ROLE, "ALTER TABLE deal NO FORCE ROW LEVEL SECURITY")


def test_a_second_start_reuses_the_running_server(server):
    server.start()
    pid = server.postmaster_pid()
    assert server.start() is False
    assert server.postmaster_pid() == pid


def test_a_start_after_the_postmaster_was_killed_recovers_the_data(server):
    server.start()
    query(
        server, OWNER_ROLE, "CREATE TABLE IF NOT EXISTS kept (n int); INSERT INTO kept VALUES (1)"
    )
    pid = server.postmaster_pid()
    os.kill(pid, signal.SIGKILL)
    _wait_until_stopped(server)
    assert (server.data_dir / "postmaster.pid").exists()  # stale

    assert server.start() is True
    assert server.postmaster_pid() not in (None, pid)
    assert query(server, OWNER_ROLE, "SELECT count(*) FROM kept") == [(1,)]


def test_a_start_recovers_from_a_lock_file_naming_another_live_process(server):
    """After a reboot the pid in a stale postmaster.pid may belong to some other process, which
    PostgreSQL takes for a server still running."""
    server.stop()
    stranger = subprocess.Popen(["sleep", "60"])  # noqa: S607
    try:
        lines = [stranger.pid, server.data_dir, 0, 5432, server.socket_dir, "", "0 0", "ready"]
        (server.data_dir / "postmaster.pid").write_text("".join(f"{line}\n" for line in lines))
        assert not server.is_running()
        assert server.start() is True
        assert query(server, APP_ROLE, "SELECT 1") == [(1,)]
    finally:
        stranger.kill()
        stranger.wait()


def test_stop_stops_it_and_a_stopped_server_starts_again(server):
    server.start()
    assert server.stop() is True
    assert not server.is_running()
    assert server.stop() is False
    assert server.start() is True


def test_the_settings_without_database_url_connect_to_it_as_the_application_role(server):
    server.start()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}}
    env.update(SCF_VAR_DIR=str(server.root.parent), DEBUG="true")
    script = (
        "import django; django.setup()\n"
        "from django.db import connection\n"
        "with connection.cursor() as cursor:\n"
        "    cursor.execute('SELECT current_user, rolsuper FROM pg_roles"
        " WHERE rolname = current_user')\n"
        "    print(*cursor.fetchone())\n"
    )
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "scf_platform.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [APP_ROLE, "False"]


def test_a_long_checkout_path_puts_the_socket_in_the_temporary_folder():
    deep = Path("/srv") / ("very-long-folder-name-" * 5) / "var" / "postgres"
    server = EmbeddedPostgres(deep)
    assert server.socket_dir.parent == Path(tempfile.gettempdir())
    assert len(str(server.socket_dir / ".s.PGSQL.5432.lock")) <= 107
    assert EmbeddedPostgres(Path("/srv/scf/var/postgres")).socket_dir == Path(
        "/srv/scf/var/postgres/run"
    )


def _wait_until_stopped(server: EmbeddedPostgres) -> None:
    """SIGKILL is delivered, not waited for."""
    deadline = time.monotonic() + 10
    while server.is_running() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not server.is_running()
