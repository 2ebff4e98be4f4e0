"""A bounded load test of the served app on loopback (issue 17): N browser sessions each start a
coverage run on the offline sample at about the same time, while the health endpoint is polled.

Starts ``streamlit run streamlit_app.py`` on 127.0.0.1 with its own project and cache folders,
opens N Playwright contexts in the system's headless Chromium, presses Run in each (the app's
line of heavy runs takes ``GEO_APP_MAX_HEAVY_RUNS``, default 2, at a time; the others are told
their place), and waits for every session's result. Prints, per session, the time from its click
to its result and the places in line it was shown; then the wall time, errors, the health
checks (answered / failed, slowest) and the server's peak memory.

Bounded in count (``--sessions``, default 20) and time (``--timeout``, default 900 s). Not part
of the test suite::

    python benchmarks/bench_served.py [--sessions 20] [--max-runs 2] [--timeout 900]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Health(threading.Thread):
    """Polls ``/_stcore/health`` every ``every_s`` seconds; samples the server's memory."""

    def __init__(self, url: str, pid: int, every_s: float = 0.5):
        super().__init__(daemon=True)
        self.url, self.every_s = url + "/_stcore/health", every_s
        self.stop = threading.Event()
        self.latencies: list[float] = []
        self.failures: list[str] = []
        self.peak_rss = 0
        import psutil

        self.proc = psutil.Process(pid)

    def run(self) -> None:
        while not self.stop.is_set():
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    ok = r.status == 200
                if ok:
                    self.latencies.append(time.perf_counter() - t0)
                else:
                    self.failures.append(f"status {r.status}")
            except OSError as exc:
                self.failures.append(str(exc)[:80])
            try:
                rss = self.proc.memory_info().rss + sum(
                    c.memory_info().rss for c in self.proc.children(recursive=True))
                self.peak_rss = max(self.peak_rss, rss)
            except Exception:  # noqa: BLE001 — the server may be gone at the very end
                pass
            self.stop.wait(self.every_s)


def start_server(home: Path, max_runs: int) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "GEO_APP_PROJECT_DIR": str(home / "projects"),
           "GEO_APP_CACHE_DIR": str(home / "cache"), "GEO_APP_MAX_HEAVY_RUNS": str(max_runs)}
    log = (home / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(REPO / "streamlit_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         # a served app does not reload its code when files change (nor does `geo-app serve`
         # need to): in a checkout being edited the reloads break sessions mid-import
         "--server.fileWatcherType", "none"],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise SystemExit(f"the app did not start; see {log.name}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--max-runs", type=int, default=2, help="GEO_APP_MAX_HEAVY_RUNS")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds for everything")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        raise SystemExit("Debian 'chromium' is not installed")
    home = Path(tempfile.mkdtemp(prefix="bench_served_"))
    print(f"{args.sessions} sessions, {args.max_runs} heavy runs at once; load average "
          f"{os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs; folders in {home}")
    proc, url = start_server(home, args.max_runs)
    health = Health(url, proc.pid)
    health.start()
    deadline = time.monotonic() + args.timeout
    errors: list[str] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium,
                                        args=["--no-sandbox", "--disable-gpu",
                                              "--disable-background-networking"])
            pages = []
            t_open = time.perf_counter()
            for i in range(args.sessions):
                page = browser.new_context(viewport={"width": 1100, "height": 800}).new_page()
                page.on("pageerror", lambda e, i=i: errors.append(f"session {i}: {e}"))
                page.goto(url)
                page.get_by_text("覆盖分析 / Coverage").click()
                pages.append(page)
            for page in pages:
                page.get_by_role("button", name="运行分析").wait_for(timeout=180_000)
            print(f"opened {len(pages)} sessions on the coverage page in "
                  f"{time.perf_counter() - t_open:.1f} s")
            started = time.perf_counter()
            clicked = []
            for page in pages:  # every session asks before any has finished
                page.get_by_role("button", name="运行分析").click()
                clicked.append(time.perf_counter())
            finished: dict[int, float] = {}
            places: dict[int, set[int]] = {i: set() for i in range(len(pages))}
            while len(finished) < len(pages) and time.monotonic() < deadline:
                for i, page in enumerate(pages):
                    if i in finished:
                        continue
                    queued = page.get_by_text("您排在第")
                    if queued.count():
                        m = re.search(r"第 (\d+) 位", queued.first.inner_text())
                        if m:
                            places[i].add(int(m.group(1)))
                    if page.get_by_role("button", name="下载结果(GeoPackage)").count():
                        finished[i] = time.perf_counter()
                    elif page.get_by_test_id("stException").count():
                        errors.append(f"session {i}: exception shown")
                        finished[i] = float("nan")
                page.wait_for_timeout(100)
            wall = time.perf_counter() - started
            browser.close()
    finally:
        health.stop.set()
        health.join(10)
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()

    durations = [finished[i] - clicked[i] for i in sorted(finished)]
    print("\nsession  click→result (s)  places shown")
    for i in range(len(pages)):
        took = f"{finished[i] - clicked[i]:8.1f}" if i in finished else "   (none)"
        print(f"{i:>7}  {took:>16}  {sorted(places[i], reverse=True) or '-'}")
    ok = [d for d in durations if d == d]
    lat = sorted(health.latencies)
    print(f"\nall {len(ok)} of {len(pages)} sessions finished in {wall:.1f} s "
          f"(median {statistics.median(ok):.1f} s, slowest {max(ok):.1f} s)" if ok else
          f"\nno session finished in {wall:.1f} s")
    print(f"sessions told their place in line: {sum(bool(v) for v in places.values())}; "
          f"highest place shown: {max((max(v) for v in places.values() if v), default=0)}")
    print(f"errors: {len(errors)}" + "".join(f"\n  {e}" for e in errors[:10]))
    if lat:
        print(f"health checks: {len(lat)} answered, {len(health.failures)} failed; latency "
              f"median {1000 * statistics.median(lat):.0f} ms, p95 "
              f"{1000 * lat[int(0.95 * (len(lat) - 1))]:.0f} ms, slowest {1000 * lat[-1]:.0f} ms")
    print(f"server peak memory (RSS, with children): {health.peak_rss / 2**20:,.0f} MB")
    return 0 if len(ok) == len(pages) and not errors and not health.failures else 1


if __name__ == "__main__":
    sys.exit(main())
