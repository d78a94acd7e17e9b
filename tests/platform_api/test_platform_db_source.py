"""The database URL without its password on a command line (README, "PostgreSQL behind a
reverse proxy"; :mod:`vpp.platform.db_source`), on SQLite and PostgreSQL.

A process's arguments are readable by every local user (``/proc/PID/cmdline``), so the
URL comes from ``--db``, ``--db-file`` or the environment variable ``VPP_DB``, in that
order, then the default. Checked: ``vpp keys list`` and ``vpp runs --db`` read
``VPP_DB``; ``--db`` and ``--db-file`` override it; a ``--db-file`` open to others is
refused; ``vpp serve`` started as the systemd unit starts it (``VPP_DB`` in its
environment, no ``--db``) has neither the URL nor the password in its arguments or its
log, and neither has ``vpp serve --mqtt`` the broker password; a wrong password is an
error naming ``$VPP_DB`` or the file, with the password hidden.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
import pytest
from platform_helpers import PARK_FILE, REPO, free_port

from vpp.cli import main
from vpp.platform.keys import create_key
from vpp.platform.service import Platform

SECRET = "s3cret-never-shown"
#: Longest wait for ``vpp serve`` to answer, and for PostgreSQL to reload pg_hba [s].
START_TIMEOUT_S = 60.0
RELOAD_TIMEOUT_S = 10.0


@pytest.fixture
def key_in(db_url: str) -> str:
    """A key id created in the database at ``db_url`` (migrated)."""
    platform = Platform.open(db_url)
    key_id = create_key(platform.sessions, "admin", label="in VPP_DB")[0]
    platform.close()
    return key_id


def secret_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def test_keys_read_vpp_db_and_the_options_override_it(
    db_url: str,
    key_in: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the default database would be tmp_path/runs/
    monkeypatch.setenv("VPP_DB", db_url)
    assert main(["keys", "list"]) == 0
    assert key_in in capsys.readouterr().out
    other = f"sqlite:///{tmp_path / 'other.sqlite'}"
    assert main(["keys", "list", "--db", other]) == 0  # --db before VPP_DB
    assert key_in not in capsys.readouterr().out
    assert main(["keys", "--db", other, "list"]) == 0
    assert key_in not in capsys.readouterr().out
    monkeypatch.delenv("VPP_DB")
    for text in (f"{db_url}\nignored\n", f"VPP_DB='{db_url}'\n"):  # the URL, or systemd's line
        url_file = secret_file(tmp_path / "db-url", text)
        assert main(["keys", "list", "--db-file", str(url_file)]) == 0
        assert key_in in capsys.readouterr().out
    assert main(["keys", "list"]) == 0  # no VPP_DB: the default, a new SQLite file
    assert key_in not in capsys.readouterr().out
    assert (tmp_path / "runs" / "platform.sqlite").is_file()


def test_runs_db_alone_reads_vpp_db_and_no_db_keeps_the_registry_file(
    db_url: str,
    key_in: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VPP_DB", db_url)
    assert main(["runs", "--db"]) == 0, capsys.readouterr().err  # the migrated database
    assert "no runs match" in capsys.readouterr().out
    assert main(["runs"]) == 2  # without --db: the job's registry file, as before
    assert "no run registry at runs/schedule/registry.sqlite" in capsys.readouterr().err
    url_file = secret_file(tmp_path / "db-url", db_url)
    monkeypatch.delenv("VPP_DB")
    assert main(["runs", "--db-file", str(url_file)]) == 0
    assert main(["runs", "--db"]) == 2  # the default database does not exist
    assert "the default" in capsys.readouterr().err


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_db_file_open_to_others_is_refused_and_the_options_are_exclusive(
    db_url: str,
    key_in: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with_password = f"postgresql+psycopg://vpp:{SECRET}@127.0.0.1:{free_port()}/vpp"
    shown = secret_file(tmp_path / "open", with_password, 0o644)
    assert main(["keys", "list", "--db-file", str(shown)]) == 2
    err = capsys.readouterr().err
    assert f"--db-file {shown}: other users may read" in err and "mode 644" in err
    assert f"chmod 600 {shown}" in err and SECRET not in err
    group = secret_file(tmp_path / "group", db_url, 0o640)  # root:vpp 640: a note only
    assert main(["keys", "list", "--db-file", str(group)]) == 0
    captured = capsys.readouterr()
    assert key_in in captured.out and "its group may read it (mode 640)" in captured.err
    for bad, reason in (
        (tmp_path / "missing", "does not read: No such file or directory"),
        (secret_file(tmp_path / "empty", "\n"), "first line is empty"),
    ):
        assert main(["keys", "list", "--db-file", str(bad)]) == 2
        err = capsys.readouterr().err
        assert f"--db-file {bad}: the database URL file" in err and reason in err
    both = ["keys", "list", "--db", db_url, "--db-file", str(group)]
    assert main(both) == 2
    assert "--db and --db-file both give the database URL" in capsys.readouterr().err


def with_password(url: str) -> str:
    """``url`` with :data:`SECRET` as its password (the test cluster trusts loopback and
    ignores it; SQLite has none)."""
    return url.replace("postgresql+psycopg://postgres@", f"postgresql+psycopg://postgres:{SECRET}@")


@contextmanager
def serving(env: dict[str, str], tmp_path: Path, *extra: str) -> Iterator[tuple[int, Path]]:
    """``vpp serve`` as the systemd unit starts it: no ``--db``; its pid and log."""
    port = free_port()
    log = tmp_path / "serve.log"
    command = [sys.executable, "-m", "vpp.cli", "serve", "--port", str(port)]
    command += ["--park", str(PARK_FILE), "--runs-dir", str(tmp_path / "runs"), *extra]
    with open(log, "wb") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=tmp_path
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield server.pid, log
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serve_takes_the_url_from_its_environment_never_its_arguments(
    db_url: str, tmp_path: Path
) -> None:
    url = with_password(db_url)
    env = {**os.environ, "PYTHONPATH": str(REPO), "VPP_DB": url}
    with serving(env, tmp_path) as (pid, log):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
        assert "serve" in argv and url not in argv and SECRET not in argv
        environ = Path(f"/proc/{pid}/environ")
        assert stat.S_IMODE(environ.stat().st_mode) == 0o400  # its owner's only
        assert f"VPP_DB={url}".encode() in environ.read_bytes()
    text = log.read_text()
    assert "($VPP_DB)" in text and SECRET not in text
    if db_url.startswith("postgresql"):
        assert "postgres:***@127.0.0.1" in text


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_serve_mqtt_keeps_the_broker_password_out_of_arguments_and_log(
    db_url: str, tmp_path: Path
) -> None:
    """The broker password comes from ``VPP_MQTT_PASSWORD`` or ``--mqtt-password-file``:
    with a broker, neither ``/proc/PID/cmdline`` nor the log shows it."""
    from mqtt_broker import Mosquitto, require_mosquitto

    from vpp.platform.mqtt_access import PLATFORM_USER, write_access
    from vpp.platform_mqtt import MqttUser

    require_mosquitto()
    broker_secret = f"mqtt-{SECRET}"
    platform = Platform.open(db_url)
    folder, port = tmp_path / "broker", free_port()
    run_as = "root" if os.geteuid() == 0 else None
    user = MqttUser(PLATFORM_USER, broker_secret)
    write_access(platform.sessions, folder, user, port=port, run_as=run_as)
    platform.close()
    broker = Mosquitto(folder, folder / "mosquitto.conf", port)
    broker.start()
    password_file = secret_file(tmp_path / "mqtt-password", broker_secret)
    env = {**os.environ, "PYTHONPATH": str(REPO), "VPP_DB": db_url}
    env.pop("VPP_MQTT_PASSWORD", None)
    try:
        for extra, environment in (
            ((), {**env, "VPP_MQTT_PASSWORD": broker_secret}),
            (("--mqtt-password-file", str(password_file)), env),
        ):
            mqtt = ("--mqtt", f"127.0.0.1:{port}", *extra)
            with serving(environment, tmp_path, *mqtt, "--log-level", "debug") as (pid, log):
                argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
                assert "--mqtt" in argv and broker_secret not in argv
            text = log.read_text()
            assert f"MQTT mqtt://{PLATFORM_USER}@127.0.0.1:{port}" in text
            assert broker_secret not in text
    finally:
        broker.stop()


@contextmanager
def password_role(pg_cluster: dict[str, object]) -> Iterator[tuple[str, int]]:
    """A role with password authentication on loopback (the cluster trusts the others),
    owning a database of its name; pg_hba.conf is restored afterwards."""
    port = int(pg_cluster["port"])  # type: ignore[call-overload]
    role = f"p_{uuid.uuid4().hex[:8]}"
    admin = {"host": "127.0.0.1", "port": port, "user": "postgres", "autocommit": True}
    with psycopg.connect(dbname="postgres", **admin) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{SECRET}'")
        conn.execute(f"CREATE DATABASE {role} OWNER {role}")
        hba = Path(conn.execute("SHOW hba_file").fetchone()[0])
        before = hba.read_text()
        hba.write_text(f"host all {role} 127.0.0.1/32 scram-sha-256\n{before}")
        conn.execute("SELECT pg_reload_conf()")
    try:
        deadline = time.monotonic() + RELOAD_TIMEOUT_S
        while True:  # the reload is a signal: wait until a wrong password is refused
            try:
                psycopg.connect(dbname=role, **{**admin, "user": role, "password": "x"}).close()
            except psycopg.OperationalError:
                break
            assert time.monotonic() < deadline, "pg_hba.conf was not reloaded"
            time.sleep(0.1)
        yield role, port
    finally:
        with psycopg.connect(dbname="postgres", **admin) as conn:
            hba.write_text(before)
            conn.execute("SELECT pg_reload_conf()")


def test_a_wrong_password_is_named_by_its_source_and_hidden(
    pg_cluster: dict[str, object],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the default database would be tmp_path/runs/
    wrong = f"{SECRET}-wrong"
    with password_role(pg_cluster) as (role, port):
        right_url = f"postgresql+psycopg://{role}:{SECRET}@127.0.0.1:{port}/{role}"
        wrong_url = right_url.replace(SECRET, wrong)
        monkeypatch.setenv("VPP_DB", wrong_url)
        for argv in (["keys", "list"], ["runs", "--db"]):
            assert main(argv) == 2
            err = capsys.readouterr().err
            assert "$VPP_DB" in err and "password authentication failed" in err, err
            assert f"{role}:***@127.0.0.1" in err and SECRET not in err
        url_file = secret_file(tmp_path / "db-url", wrong_url)
        assert main(["keys", "list", "--db-file", str(url_file)]) == 2
        err = capsys.readouterr().err
        assert f"--db-file {url_file}: cannot open the database" in err and SECRET not in err
        monkeypatch.setenv("VPP_DB", right_url)
        assert main(["keys", "create", "--role", "admin"]) == 0  # the right one opens it
        assert SECRET not in capsys.readouterr().err
