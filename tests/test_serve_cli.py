"""``chaosdrill serve`` through the real entry point: it starts with nothing else running,
prints the URL with its key, keeps the key across restarts, and refuses bad settings in one
line."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx2
import pytest

from tests.conftest import interruptible

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start(folder: Path, port: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "serve", "--port", str(port), "--dir", str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=interruptible,  # stopped with SIGINT
    )
    assert proc.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"Open (http://\S+)", line)
        if found:
            return proc, found.group(1)
        assert line or proc.poll() is None, "serve exited before printing its URL"
    raise AssertionError("serve printed no URL")


def wait_until_up(url: str) -> httpx2.Response:
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx2.get(url.replace("localhost", "127.0.0.1"), timeout=5)
        except httpx2.TransportError:
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.2)


def stop(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGINT)
    return proc.wait(timeout=20)


def test_serve_starts_prints_its_key_and_keeps_it(tmp_path: Path) -> None:
    folder, port = tmp_path / "gamedays", free_port()
    proc, url = start(folder, port)
    try:
        assert url.startswith(f"http://localhost:{port}/?key=")
        page = wait_until_up(url)
        assert page.status_code == 200
        assert "New game day" in page.text
        bare = httpx2.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert bare.status_code == 403
        # the port is taken now: a second server says so in one line
        again = subprocess.run(
            [sys.executable, "-m", "sim", "serve", "--port", str(port), "--dir", str(folder)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert again.returncode == 1
        assert "pick another --port" in again.stderr
        assert "Traceback" not in again.stderr
    finally:
        assert stop(proc) == 0
    assert (folder / "gamedays.sqlite").is_file()
    proc, url_again = start(folder, port)  # the same key after a restart: links keep working
    try:
        assert url_again == url
        # and it serves the page before it is stopped
        assert wait_until_up(url_again).status_code == 200
    finally:
        stop(proc)


def test_ctrl_c_while_it_starts_ends_like_any_command(tmp_path: Path) -> None:
    """Ctrl-C right after the URL: exit 130 and "interrupted" if it came before the server
    served (0 if the server was already up) — never uvicorn's failed-start 3, its "coroutine
    never awaited" warning or a traceback."""
    proc, _ = start(tmp_path / "gamedays", free_port())
    code = stop(proc)
    assert proc.stdout is not None
    rest = proc.stdout.read()
    assert code in (0, 130), rest
    assert "never awaited" not in rest
    assert "Traceback" not in rest
    if code == 130:
        assert "interrupted" in rest


def test_a_restarted_server_resumes_its_game_days(tmp_path: Path) -> None:
    """A game day created and played on one server goes on, with its feed and clock, on the
    next one started on the same folder — even after the first was killed outright."""
    folder, port = tmp_path / "gamedays", free_port()
    proc, url = start(folder, port)
    base = f"http://127.0.0.1:{port}"
    key = url.split("key=")[1]
    try:
        wait_until_up(url)
        made = httpx2.post(
            f"{base}/api/gamedays",
            json={"scenario": "payment-provider-outage", "seed": 2},
            headers={"X-Key": key},
            timeout=60,
        ).json()
        ops = made["join"]["operations"].split("token=")[1]
        gid = made["id"]
        for line in ("ack", "thirdparty", "say the vendor looks down"):
            answer = httpx2.post(
                f"{base}/g/{gid}/api/command",
                json={"line": line},
                headers={"X-Token": ops},
                timeout=60,
            )
            assert answer.status_code == 200, answer.text
        before = httpx2.get(f"{base}/g/{gid}/api/state", headers={"X-Token": ops}).json()
    finally:
        proc.kill()  # no orderly shutdown
        proc.wait(timeout=20)
    proc, _ = start(folder, port)
    try:
        wait_until_up(url)
        after = httpx2.get(f"{base}/g/{gid}/api/state", headers={"X-Token": ops}).json()
        assert after["feed"] == before["feed"]
        assert after["live"]["clock"] == before["live"]["clock"]
        assert after["live"]["pages"][0]["acknowledged_by"] == "operations"
        again = httpx2.post(
            f"{base}/g/{gid}/api/command",
            json={"line": "status"},
            headers={"X-Token": ops},
            timeout=60,
        )
        assert again.status_code == 200
    finally:
        stop(proc)


def test_serve_refuses_bad_settings_in_one_line(tmp_path: Path) -> None:
    for args, code, message in (
        (["--port", "0"], 2, "expected 1–65535"),
        (["--key", "short"], 2, "at least 12 characters"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "sim", "serve", "--dir", str(tmp_path), *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == code, done.stderr
        assert message in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
