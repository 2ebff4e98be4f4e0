"""``geo-app cluster``: a LocalCluster kept running for several sharded runs in a row."""

from __future__ import annotations

import argparse
import threading

from geo_app.cli import checks


def add_commands(sub) -> None:
    """Register ``cluster``."""
    p = sub.add_parser("cluster", help="start a Dask LocalCluster on this machine and keep it "
                       "running for several runs (--scheduler tcp://127.0.0.1:PORT); Ctrl+C "
                       "stops it")
    p.add_argument("--workers", type=checks.number(1, 256, integer=True), default=None,
                   help="worker processes, one thread each (default: one per core)")
    p.add_argument("--port", type=checks.number(0, 65_535, integer=True), default=8786,
                   help="the scheduler's port on 127.0.0.1 (0: a free one)")
    p.set_defaults(func=cmd_cluster)


def cmd_cluster(args: argparse.Namespace) -> int:
    """Start the cluster as ``--scheduler local:N`` does (the same settings), let its workers
    import what the tasks need, print its address and wait until stopped (Ctrl+C or SIGTERM);
    then shut it down."""
    from geo_app.workflows.dask_cluster import client_for, close, warm_up

    n = "" if args.workers is None else f":{int(args.workers)}"
    port = int(args.port)
    if port and not _free(port):
        raise OSError(f"port {port} on 127.0.0.1 is in use (a cluster already running "
                      "there?): choose another --port, or 0 for a free one")
    client = client_for(f"local{n}", port=port)
    try:
        client.run(warm_up)
        address = client.scheduler.address
        workers = len(client.scheduler_info()["workers"])
        print(f"scheduler {address} with {workers} workers: geo-app coverage ... --scheduler "
              f"{address} (Ctrl+C stops it)", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        close(client)
        print("cluster stopped", flush=True)
    return 0


def _free(port: int) -> bool:
    """Whether a server can listen on 127.0.0.1:``port``."""
    import socket

    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the scheduler binds
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
