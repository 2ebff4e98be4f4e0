"""``geo-app ARGS`` in its own process, as a user runs it, without paying the imports each time.

Each call is a fresh process forked from a server that has imported the CLI and its heavy
libraries once (``multiprocessing``'s forkserver): its own exit code, stdout and stderr,
working folder, default warning filters and no state shared with the test or with other
calls. When the environment differs from the one the server started with (a test set a
variable), the call runs in a fresh interpreter instead, as ``python -m geo_app.cli``.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

PRELOAD = ["geo_app.cli", "geo_app.cli.coverage", "geo_app.workflows.coverage",
           "geo_app.io.export", "geopandas", "pyogrio", "pyproj", "shapely",
           "scipy.sparse.csgraph"]
MAIN = str(Path(__file__).resolve().parents[1] / "geo_app" / "cli" / "__main__.py")

_server: tuple | None = None  # the forkserver context and the environment it started with


def _context():
    global _server
    if _server is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _server = (ctx, dict(os.environ))
    return _server


def _child(args: list[str], cwd: str | None, out: str, err: str) -> None:
    """The forked process: stdout and stderr to the files, then the CLI's ``main``."""
    for fd, path in ((1, out), (2, err)):
        f = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.dup2(f, fd)
        os.close(f)
    if cwd is not None:
        os.chdir(cwd)
    sys.argv = [MAIN, *args]
    from geo_app.cli import main

    code = main(args)
    for t in threading.enumerate():  # as an interpreter's exit waits for them
        if t is not threading.main_thread() and not t.daemon:
            t.join()
    sys.exit(code)


def run(args: list[str], *, cwd=None, timeout: float = 900) -> subprocess.CompletedProcess:
    """What ``subprocess.run([python, -m, geo_app.cli, *args], capture_output=True,
    text=True, cwd=cwd, timeout=timeout)`` gives."""
    ctx, env = _context()
    if dict(os.environ) != env:
        return subprocess.run([sys.executable, "-m", "geo_app.cli", *args],
                              capture_output=True, text=True, cwd=cwd, timeout=timeout,
                              check=False)
    with tempfile.TemporaryDirectory(prefix="cli_") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        out.touch()
        err.touch()
        proc = ctx.Process(target=_child, args=(list(args), None if cwd is None else str(cwd),
                                                str(out), str(err)))
        proc.start()
        proc.join(timeout)
        if proc.is_alive():
            proc.kill()
            proc.join()
            raise subprocess.TimeoutExpired(["geo-app", *args], timeout)
        return subprocess.CompletedProcess(
            [sys.executable, "-m", "geo_app.cli", *args], proc.exitcode,
            out.read_text(encoding="utf-8", errors="replace"),
            err.read_text(encoding="utf-8", errors="replace"))
