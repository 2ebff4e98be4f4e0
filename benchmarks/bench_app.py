"""The app's first answers on the offline sample, as a user meets them (issue 11 targets:
first coverage run ≤ 8 s, built-in business-circle catchments ≤ 10 s).

Runs the Streamlit script headless with streamlit.testing (AppTest): a fresh interpreter, so
nothing is cached; each figure is the wall time of the click's rerun.

    python benchmarks/bench_app.py
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def timed(label, fn):
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    print(f"{label:<52} {dt:6.2f} s")
    return dt, out


def main() -> int:
    from streamlit.testing.v1 import AppTest

    os.environ.setdefault("GEO_APP_PROJECT_DIR", tempfile.mkdtemp())
    print(f"load average {os.getloadavg()[0]:.2f}; python {sys.version.split()[0]}")
    _, at = timed("open the app (overview page)",
                  lambda: AppTest.from_file(str(REPO / "streamlit_app.py"),
                                            default_timeout=600).run())
    timed("switch to the coverage page", lambda: at.sidebar.radio(key="page")
          .set_value("coverage").run())
    t_cov, _ = timed("first coverage run (sample, basket levels)",
                     lambda: at.sidebar.button(key="cov_run").click().run())
    assert not at.exception, at.exception
    timed("switch to the cluster page", lambda: at.sidebar.radio(key="page")
          .set_value("cluster_maps").run())
    view = next(w for w in at.sidebar.radio if w.key == "cl_view")
    timed("catchments view", lambda: view.set_value("cl_catchments").run())
    centres = next(w for w in at.sidebar.radio if w.key == "cl_centres")
    timed("bundled business circles as centres", lambda: centres.set_value("bundled").run())
    t_catch, _ = timed("built-in business-circle catchments (run)",
                       lambda: at.sidebar.button(key="cl_catchments_run").click().run())
    assert not at.exception, at.exception
    print(f"targets: first coverage {t_cov:.1f} s (≤ 8 s: {'met' if t_cov <= 8 else 'MISSED'}); "
          f"catchments {t_catch:.1f} s (≤ 10 s: {'met' if t_catch <= 10 else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
