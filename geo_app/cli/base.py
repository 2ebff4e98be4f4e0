"""``geo-app layers``, ``map overview`` and ``serve``."""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path


def cmd_layers(args: argparse.Namespace) -> int:
    from geo_app.workflows.base_layers import layer_summary, load_base_layers

    table = layer_summary(load_base_layers(), args.lang)
    width = max(len(k) for k in table["layer"])
    print(f"{'layer':<{width}}  features  no-coords  source")
    for row in table.itertuples():
        print(f"{row.layer:<{width}}  {row.features:>8}  {row.without_coordinates:>9}  "
              f"{row.label}: {row.source}")
    return 0


def cmd_map_overview(args: argparse.Namespace) -> int:
    from geo_app.maps.base import overview_map
    from geo_app.maps.offline import save_offline_html
    from geo_app.workflows.base_layers import load_base_layers

    base = load_base_layers()
    keys = args.layers or list(base.places)
    unknown = [k for k in keys if k not in base.places]
    if unknown:
        raise ValueError(f"unknown layer(s) {', '.join(unknown)}: expected "
                         f"{', '.join(base.places)}")
    m = overview_map(base.districts, {k: base.places[k] for k in keys},
                     choropleth=args.choropleth, lang=args.lang, tiles=args.tiles)
    out = save_offline_html(m, args.out)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB, works offline)")
    return 0


LAUNCHER = """\
# Written by `geo-app serve`: Streamlit needs a script file; the app lives in geo_app.ui.app.
from geo_app.ui.app import main

if __name__ == "__main__":  # not when a worker process re-imports this script
    main()
"""


def write_launcher(folder: Path) -> Path:
    """Write the app's entry script into ``folder`` (a per-user folder, never site-packages)
    and return its path; Streamlit serves ``folder/static`` (Leaflet, filled on first use)."""
    from geo_app.io.files import write_atomic

    script = folder / "streamlit_app.py"
    if not script.is_file() or script.read_text(encoding="utf-8") != LAUNCHER:
        write_atomic(script, LAUNCHER)
    (folder / "static").mkdir(exist_ok=True)
    return script


def cmd_serve(args: argparse.Namespace) -> int:
    import subprocess

    from geo_app.config import Settings

    settings = Settings.from_env()
    app = write_launcher(settings.home_path("app"))
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--server.port", str(args.port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.enableStaticServing", "true", "--client.toolbarMode", "minimal",
           # the uploader's limit (whole MB) is the one save_upload checks
           "--server.maxUploadSize", str(math.ceil(settings.max_upload_mb)),
           # a served app never reloads its modules when files change under it
           "--server.fileWatcherType", "none", "--server.runOnSave", "false",
           # widget values are kept across pages by setting them (geo_app/ui/state.py)
           "--global.disableWidgetStateDuplicationWarning", "true"]
    print(f"starting the app at http://localhost:{args.port} (Ctrl+C stops it)")
    try:
        return subprocess.call(cmd, cwd=app.parent)
    except KeyboardInterrupt:
        return 0
