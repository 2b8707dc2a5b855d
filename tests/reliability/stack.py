"""A private copy of the platform's services for fault injection: its own PostgreSQL cluster and
Redis server on free loopback ports, the application under gunicorn, a real Celery worker. Faults
(restarts, lost queues) are injected here, never into the PostgreSQL and Redis that everything
else on the machine shares.

Redis runs with exactly the options of scripts/ensure-services (read from it), only the port,
directory and log file differ: a restart here behaves as a restart there.
"""

import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from glob import glob
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition, *, seconds: float, what: str, every: float = 0.2):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(every)
    raise AssertionError(f"gave up after {seconds} s waiting for {what}")


def ensure_services_redis_command() -> list[str]:
    """The `redis-server ...` line of scripts/ensure-services, as arguments."""
    text = (ROOT / "scripts" / "ensure-services").read_text()
    match = re.search(r"^\s*(redis-server\b.*?)(?<!\\)$", text.replace("\\\n", " "), re.M)
    assert match, "scripts/ensure-services no longer starts redis-server"
    return shlex.split(match.group(1))


class PrivatePostgres:
    def __init__(self, base: Path) -> None:
        self.dir = base / "pg"
        self.port = free_port()
        bins = sorted(glob("/usr/lib/postgresql/*/bin"))
        assert bins, "PostgreSQL server binaries are not installed"
        self.bin = Path(bins[-1])
        self.log = base / "postgres.log"
        self.socket_dir = base

    def _as_postgres(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)  # noqa: S603

    def init(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.socket_dir, "postgres")
        self._as_postgres(
            str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        self.start()
        self.sql(
            "postgres",
            "CREATE ROLE scf_owner LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS;"
            " CREATE ROLE scf_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;",
        )
        self.sql("postgres", "CREATE DATABASE scf OWNER scf_owner")

    def _ctl(self, action: str, *extra: str) -> None:
        options = f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._as_postgres(
            str(self.bin / "pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-o", options,
            "-w", action, *extra,
        )  # fmt: skip

    def start(self) -> None:
        self._ctl("start")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def restart(self) -> None:
        """What a restart does to clients: every connection is cut; the data stays."""
        self._ctl("restart", "-m", "fast")

    def url(self, role: str) -> str:
        return f"postgres://{role}@127.0.0.1:{self.port}/scf"

    def sql(self, database: str, statement: str, params=None, *, role: str = "postgres"):
        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=role, dbname=database)
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchall() if cursor.description else None
        finally:
            conn.close()

    def query(self, statement: str, params=None) -> list[tuple]:
        """As the platform sees it (the superuser: every row)."""
        return self.sql("scf", statement, params)


class PrivateRedis:
    def __init__(self, base: Path) -> None:
        self.port = free_port()
        self.dir = base
        self.log = base / "redis.log"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        """scripts/ensure-services' command, on this server's port, directory and files."""
        args = ensure_services_redis_command()
        own = {
            "--port": str(self.port),
            "--dir": str(self.dir),
            "--logfile": str(self.log),
            "--pidfile": str(self.dir / "redis.pid"),
        }
        out = []
        index = 0
        while index < len(args):
            if args[index] in own:
                index += 2  # put back below, with this server's value
                continue
            out.append(args[index])
            index += 1
        for option, value in own.items():
            out += [option, value]
        return out

    def start(self) -> None:
        subprocess.run(self.command(), check=True, capture_output=True)  # noqa: S603
        wait_until(self.ping, seconds=20, what="redis to answer")

    def ping(self) -> bool:
        result = subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
        )
        return result.stdout.strip() == "PONG"

    def shutdown_nosave(self) -> None:
        subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), "shutdown", "nosave"], capture_output=True
        )
        wait_until(lambda: not self.ping(), seconds=20, what="redis to stop")

    def cli(self, *args: str) -> str:
        return subprocess.run(  # noqa: S603
            ["redis-cli", "-p", str(self.port), *args], capture_output=True, text=True, check=True
        ).stdout.strip()


class Process:
    """A child process in its own session (so that it dies with its children)."""

    def __init__(self, name: str, command: list[str], env: dict, log: Path) -> None:
        self.name, self.log = name, log
        self.process = subprocess.Popen(  # noqa: S603
            command,
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


class Stack:
    """PostgreSQL and Redis of its own, migrated and seeded; gunicorn and a worker on demand."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="scf-faults-"))
        self.base.chmod(0o755)
        self.postgres = PrivatePostgres(self.base)
        self.redis = PrivateRedis(self.base)
        self.processes: list[Process] = []
        self.web_port = free_port()
        self.seed: dict = {}

    def env(self, role: str = "scf_app") -> dict:
        env = dict(os.environ)
        env.update(
            DATABASE_URL=self.postgres.url(role),
            REDIS_URL=self.redis.url,
            DJANGO_SETTINGS_MODULE="scf_platform.settings",
            PYTHONPATH=str(ROOT),
            SCF_VAR_DIR=str(self.base / "var"),
            LEDGER_SIGNING_KEY=os.environ.get(
                "FAULTS_SIGNING_KEY", "ZmF1bHRzLW9ubHktc2lnbmluZy1rZXktMzItYnl0ZXM="
            ),
        )
        env.pop("TEST_DATABASE_NAME", None)
        env.pop("DATABASE_APP_URL", None)
        return env

    def up(self) -> "Stack":
        self.postgres.init()
        self.redis.start()
        subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", "migrate", "--noinput"],
            cwd=ROOT,
            env=self.env("scf_owner"),
            check=True,
            capture_output=True,
        )
        output = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tests.reliability.fault_seed"],
            cwd=ROOT,
            env=self.env(),
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        self.seed = json.loads(output.strip().splitlines()[-1])
        # Seeding confirmed invoices queued their letters: not what these tests are about.
        self.redis.cli("flushall")
        return self

    def start_web(self) -> Process:
        web = Process(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "scf_platform.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--workers",
                "2",
                "--log-level",
                "warning",
            ],
            self.env(),
            self.base / "gunicorn.log",
        )
        self.processes.append(web)
        wait_until(lambda: self._answers(), seconds=60, what="gunicorn to answer")
        return web

    def _answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=5)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return True
        except OSError:
            return False

    def start_worker(self) -> Process:
        log = self.base / "worker.log"
        offset = log.stat().st_size if log.exists() else 0
        worker = Process(
            "worker",
            [
                sys.executable, "-m", "celery", "-A", "scf_platform", "worker",
                "--concurrency", "2", "--loglevel", "INFO", "--without-gossip",
                "--without-mingle", "--without-heartbeat",
            ],
            self.env(),
            log,
        )  # fmt: skip
        self.processes.append(worker)

        def ready() -> bool:
            assert worker.alive(), log.read_text(errors="replace")[-3000:]
            with log.open("rb") as handle:
                handle.seek(offset)
                return b"ready." in handle.read()

        wait_until(ready, seconds=90, what="the worker to be ready")
        return worker

    def api(self, method: str, path: str, *, token: str, organization: int, body=None):
        """One API call; (status, JSON body or None)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.web_port, timeout=60)
        headers = {"Authorization": f"Token {token}", "X-Organization": str(organization)}
        payload = None
        if body is not None:
            payload = json.dumps(body)
            headers["Content-Type"] = "application/json"
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        raw = response.read()
        conn.close()
        try:
            return response.status, json.loads(raw) if raw else None
        except ValueError:
            return response.status, raw.decode(errors="replace")

    def send_task(self, name: str, **kwargs) -> None:
        from celery import Celery

        app = Celery("faults", broker=self.redis.url)
        app.send_task(name, kwargs=kwargs)

    def manage(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
        )

    def down(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        if self.redis.ping():
            self.redis.shutdown_nosave()
        with contextlib.suppress(subprocess.CalledProcessError):
            self.postgres.stop()
        shutil.rmtree(self.base, ignore_errors=True)
