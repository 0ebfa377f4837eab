"""The PostgreSQL stand-in: server binaries, a data directory the server's user can reach, start and stop.

initdb and postgres refuse to run as root, so as root they run as the `postgres` system user. That user
may not be able to enter the checkout (root's home is 0700, so is a `mktemp -d` directory), so as root the
data directory is not under the state dir but in a per-checkout directory under /var/tmp, named after
the state dir's path so `stop` and `status` find it again. As anyone else, the server runs as the invoking
user with its data in the state dir. The server listens on 127.0.0.1 only, with no Unix socket (so no
socket directory either), and its output goes to the state dir's postgres.log, which we open ourselves.

Other users of the machine reach 127.0.0.1 too (a shared CI runner), so the server asks for a SCRAM
password, kept in the 0700 state dir, and it starts from a scrubbed environment: a superuser's
`COPY … FROM PROGRAM 'printenv'` finds no credential of the job that started it.
"""

from __future__ import annotations

import glob
import hashlib
import os
import pwd
import secrets
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from scripts.standins.errors import StandInError, log_size, with_cause
from scripts.standins.processes import AGAIN, Record, kill, scrubbed_env, wait_port, wanted_port

PG_DB = "retail"
PG_USER = "postgres"
PASSWORD_FILE = "postgres.password"
SHARED_DATA_BASE = Path("/var/tmp")
INSTALL = "install PostgreSQL's server (`apt-get install postgresql` as root, or `make setup`), then " + AGAIN


def find_pg() -> Path | None:
    """The newest Debian PostgreSQL with initdb and pg_ctl."""
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(d, "initdb").exists() and Path(d, "pg_ctl").exists():
            return Path(d)
    return None


def pg_bindir(log: Path | None = None) -> Path:
    """PostgreSQL's server binaries: found, or installed from Debian when we are root."""
    found = find_pg()
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("postgres: not found, installing from Debian (apt-get install postgresql)…", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        offset = log_size(log) if log else 0
        with open(log or os.devnull, "ab") as out:
            subprocess.run(["apt-get", "update", "-qq"], env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
            done = subprocess.run(["apt-get", "install", "-y", "-qq", "postgresql"], env=env, stdout=out, stderr=out)
        found = find_pg()
        if found:
            return found
        if done.returncode != 0 and log:
            raise StandInError(with_cause("postgres: `apt-get install postgresql` failed", log, offset), log, INSTALL)
    raise StandInError(
        "postgres: no PostgreSQL server binaries (initdb, pg_ctl) found under /usr/lib/postgresql/*/bin", fix=INSTALL
    )


def as_server_user(cmd: list[str]) -> list[str]:
    """initdb, pg_ctl and postgres refuse root: as root they run as the postgres system user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_USER, "--", *cmd]
    return cmd


def pg_data_dir(state_dir: Path) -> Path:
    """The data directory of this state dir's server: in the state dir, or as root where the postgres user
    can reach it whatever the checkout's location (one per state dir, so checkouts do not share one)."""
    if os.geteuid() != 0:
        return state_dir / "pgdata"
    key = hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:12]
    return SHARED_DATA_BASE / f"rdp-pgdata-{key}"


def prepare_data_dir(data: Path) -> None:
    """An empty 0700 data directory owned by the server's user. As root it is created by us before it is
    chowned, so a file or link someone else left at that path in the shared /var/tmp is never touched."""
    if os.geteuid() != 0:
        data.mkdir(parents=True, exist_ok=True)
        return
    try:
        owner = pwd.getpwnam(PG_USER)
    except KeyError:
        raise StandInError(f"postgres: there is no `{PG_USER}` system user to run the server as", fix=INSTALL) from None
    try:
        os.mkdir(data, 0o700)
    except FileExistsError:
        st = os.lstat(data)
        if stat.S_ISDIR(st.st_mode) and st.st_uid == owner.pw_uid:
            return
        raise StandInError(
            f"postgres: {data} exists but is not a directory owned by {PG_USER}", fix=f"remove {data}, then {AGAIN}"
        ) from None
    os.chown(data, owner.pw_uid, owner.pw_gid)


def server_cwd(data: Path) -> str | None:
    """As root, the server's tools start in their data directory: the postgres user may not enter ours."""
    return str(data) if os.geteuid() == 0 else None


def run_logged(cmd: list[str], log: Path, data: Path) -> int:
    """Run a server tool with its output (and the postmaster's, which inherits it) appended to the log, in a
    scrubbed environment (the postmaster inherits that too)."""
    with open(log, "ab") as out:
        return subprocess.run(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=server_cwd(data),
            env=scrubbed_env(),
        ).returncode


def _trust_auth(data: Path) -> bool:
    """A data directory an older stand-in made: it lets anyone in (`trust` in pg_hba.conf)."""
    hba = data / "pg_hba.conf"
    return hba.is_file() and any(
        line.split()[-1:] == ["trust"] for line in hba.read_text().splitlines() if not line.lstrip().startswith("#")
    )


def password(state_dir: Path) -> str | None:
    """The superuser's password of this state dir's server (None before its first initdb)."""
    f = state_dir / PASSWORD_FILE
    return f.read_text().strip() if f.is_file() else None


def dsn(state_dir: Path, port: int, database: str = PG_DB) -> str:
    """How the scripts and tests connect: the superuser, its password, the loopback port."""
    return f"postgresql://{PG_USER}:{password(state_dir)}@127.0.0.1:{port}/{database}"


def _initdb(bindir: Path, data: Path, state_dir: Path, log: Path) -> int:
    """initdb with SCRAM for every connection and a new random password, written to the state dir (0600)
    and handed to initdb through a 0600 file only the server's user can read, removed right after."""
    secret = secrets.token_urlsafe(24)
    pw_file = data.parent / f".{data.name}.pw"
    fd = os.open(pw_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(secret + "\n")
        if os.geteuid() == 0:
            owner = pwd.getpwnam(PG_USER)
            os.chown(pw_file, owner.pw_uid, owner.pw_gid)
        cmd = [str(bindir / "initdb"), "-D", str(data), "-U", PG_USER, "--auth=scram-sha-256"]
        done = run_logged(as_server_user([*cmd, f"--pwfile={pw_file}", "-E", "UTF8", "--no-sync"]), log, data)
    finally:
        pw_file.unlink(missing_ok=True)
    if done == 0:
        keep = state_dir / PASSWORD_FILE
        keep.unlink(missing_ok=True)
        os.close(os.open(keep, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        keep.write_text(secret + "\n")
    return done


def start_postgres(state_dir: Path, record: Record) -> dict:
    """initdb on first use, pg_ctl start on 127.0.0.1, the `retail` database; stopped again on failure."""
    state_dir.mkdir(parents=True, exist_ok=True)
    state_dir.chmod(0o700)
    log = state_dir / "postgres.log"
    offset = log_size(log)
    bindir = pg_bindir(log)
    data = pg_data_dir(state_dir)
    damaged = f"if the log says {data} is damaged or incompatible, remove it (`make local` reloads it); then {AGAIN}"
    if password(state_dir) is None and _trust_auth(data):
        print(f"postgres: {data} is an older stand-in without a password (trust auth): re-created", file=sys.stderr)
        remove_data(state_dir)
    if not (data / "PG_VERSION").exists():
        prepare_data_dir(data)
        if _initdb(bindir, data, state_dir, log) != 0:
            raise StandInError(with_cause("postgres: initdb failed", log, offset), log, damaged)
    port = wanted_port("postgres")
    info = {"pid": None, "port": port, "bindir": str(bindir), "data": str(data)}
    record(info)
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c max_connections=200"
    )
    try:
        pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data), "-w", "-t", "60", "start", "-o", options]
        if run_logged(as_server_user(pg_ctl), log, data) != 0:
            raise StandInError(with_cause("postgres: did not start", log, offset), log, damaged)
        info["pid"] = int((data / "postmaster.pid").read_text().split()[0])
        record(info)
        wait_port("postgres", port, info["pid"], log, offset, damaged)
        create_database(dsn(state_dir, port, "postgres"), log)
    except BaseException:
        stop_postgres(info)
        raise
    return info


def create_database(admin_dsn: str, log: Path) -> None:
    """The platform's database, created once."""
    import psycopg

    try:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            if not conn.execute("select 1 from pg_database where datname = %s", (PG_DB,)).fetchone():
                conn.execute(f'create database "{PG_DB}"')
    except psycopg.Error as e:
        raise StandInError(f"postgres: could not create the {PG_DB} database ({e})", log, AGAIN) from e


def stop_postgres(info: dict) -> None:
    """pg_ctl stop (fast, then immediate), then whatever is left of the server's process group."""
    data, bindir = info.get("data"), info.get("bindir")
    for mode in ("fast", "immediate"):
        if not (data and bindir and Path(data, "postmaster.pid").exists()):
            break
        subprocess.run(
            as_server_user([str(Path(bindir) / "pg_ctl"), "-D", data, "-m", mode, "-w", "-t", "30", "stop"]),
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=server_cwd(Path(data)),
        )
    kill(info.get("pid"))


def remove_data(state_dir: Path) -> None:
    """Remove this state dir's PostgreSQL data (the server must be stopped); a link is removed, not followed."""
    data = pg_data_dir(state_dir)
    if data.is_symlink():
        data.unlink()
    elif data.is_dir():
        shutil.rmtree(data)
