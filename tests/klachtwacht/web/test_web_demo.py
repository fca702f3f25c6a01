"""``klachtwacht demo`` serves the review app with its accounts printed; a new user signs in and decides a message."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from support.cli import REPO

from klachtwacht.demo import ACCOUNTS, WEB_PASSWORD


def test_the_demo_serves_the_app_and_its_secretary_signs_in_and_decides_a_waiting_message(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO), "KLACHTWACHT_PROGRESS": "plain"}
    env.pop("KLACHTWACHT_CONFIG", None)
    demo = subprocess.Popen([sys.executable, "-m", "klachtwacht.cli", "demo"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    try:
        assert demo.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = demo.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        out = "".join(lines)
        url = re.search(r"http://127\.0\.0\.1:(\d+)/", out)
        assert url, out
        for name, _, _, _ in ACCOUNTS:
            assert f"gebruikersnaam {name}" in out
        assert WEB_PASSWORD in out
        base = url.group(0).rstrip("/")
        with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
            for _ in range(100):  # the line is printed just before the server binds
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            assert client.get("/healthz").status_code == 200
            form = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', form)
            assert token
            queue = client.post("/login", data={"username": "secretaris", "password": WEB_PASSWORD, "csrf_token": token.group(1)})
            assert queue.status_code == 200 and "wachten op uw oordeel" in queue.text
            first = re.search(r'href="/berichten/(\d+)"', queue.text)
            assert first, "a message waits for the secretary"
            page = client.get(f"/berichten/{first.group(1)}").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            done = client.post(f"/berichten/{first.group(1)}/besluit", data={"csrf_token": token.group(1), "label": "klacht", "volgende": "0"})
            assert done.status_code == 200 and "Uw besluit is opgeslagen" in done.text
    finally:
        demo.send_signal(signal.SIGINT)
        try:
            demo.wait(timeout=30)
        except subprocess.TimeoutExpired:
            demo.kill()
            demo.wait()
    assert demo.returncode in (0, 1, -signal.SIGINT, 130)
