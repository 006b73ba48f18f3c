"""Start and stop the local AWS stand-ins (moto server, dynalite) on free 127.0.0.1 ports.

Used by the test fixtures, the demo and the benchmarks. Not part of the shipped collection:
the modules only ever see an ``endpoint_url``.

    python tools/stand_ins.py start --state build/stand-ins.json   # prints the endpoints
    python tools/stand_ins.py stop  --state build/stand-ins.json
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DYNALITE_BIN = REPO / "node_modules" / ".bin" / "dynalite"
KINDS = ("moto", "dynalite")


@dataclass
class StandIn:
    kind: str
    url: str
    pid: int
    log: str

    def stop(self, timeout: float = 10.0) -> None:
        stop_pid(self.pid, timeout)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _command(kind: str, port: int, dynalite_update_ms: int) -> list[str]:
    if kind == "moto":
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    if kind == "dynalite":
        if not DYNALITE_BIN.exists():
            raise RuntimeError(f"{DYNALITE_BIN} is missing: run 'npm ci' in {REPO} (make setup does it)")
        # Short create/delete delays keep tests quick; UPDATING stays long enough to be observed.
        return [str(DYNALITE_BIN), "--host", "127.0.0.1", "--port", str(port),
                "--createTableMs", "20", "--deleteTableMs", "20", "--updateTableMs", str(dynalite_update_ms)]
    raise ValueError(f"unknown stand-in {kind!r}; choose one of {', '.join(KINDS)}")


def _answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer (dynalite says 400 to a bare GET) means it is serving
    except OSError:
        return False


def start(kind: str, log_dir: Path, dynalite_update_ms: int = 500, timeout: float = 30.0) -> StandIn:
    """Start one stand-in on a free port and return once it answers HTTP."""
    port = free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{kind}-{port}.log"
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="stand-in-secret-key")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(_command(kind, port, dynalite_update_ms), stdout=log, stderr=subprocess.STDOUT,
                                env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while not _answers(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_pid(proc.pid)
            raise RuntimeError(f"{kind} did not start on {url}; see {log_path}:\n{log_path.read_text()[-2000:]}")
        time.sleep(0.1)
    return StandIn(kind=kind, url=url, pid=proc.pid, log=str(log_path))


def stop_pid(pid: int, timeout: float = 10.0) -> None:
    """Stop a stand-in (its whole process group) by PID: TERM, then KILL after timeout."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # not our child (stopped from another process): poll for existence
            done = 0 if _alive(pid) else pid
        if done:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("--state", type=Path, required=True, help="JSON file holding endpoints and PIDs")
    parser.add_argument("--only", choices=KINDS, action="append", help="start only these (default: all)")
    args = parser.parse_args(argv)
    if args.action == "start":
        started = [start(kind, args.state.parent / "logs") for kind in (args.only or KINDS)]
        args.state.parent.mkdir(parents=True, exist_ok=True)
        args.state.write_text(json.dumps({s.kind: asdict(s) for s in started}, indent=2))
        for s in started:
            print(f"{s.kind}: {s.url} (pid {s.pid})")
        return 0
    if not args.state.exists():
        return 0
    for info in json.loads(args.state.read_text()).values():
        stop_pid(info["pid"])
        print(f"stopped {info['kind']} (pid {info['pid']})")
    args.state.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
