"""The Dask cluster a sharded run uses: a LocalCluster started here (``local:N``) or a
running scheduler (``tcp://HOST:PORT``), started in the background while the inputs are
read, and closed in the background while the result is written.

Nothing heavy at import (no geopandas, not even Dask until a cluster is asked for), so that
a command can start its workers before it imports the rest.
"""

from __future__ import annotations

import gc
import logging
import sys
import threading
import warnings
from contextlib import contextmanager

from geo_app.errors import ParameterError

log = logging.getLogger(__name__)


def workers_of(client) -> int | None:
    """The worker threads of a Dask client (None: no client)."""
    return sum(client.nthreads().values()) if client is not None else None


def client_for(scheduler: str | None, *, port: int = 0):
    """A Dask client: ``local`` or ``local:N`` starts a LocalCluster of N worker processes
    (one thread each; N defaults to the cores; its scheduler on loopback at ``port``, 0: a
    free one; forked from this process when :func:`fork_safe`, else spawned),
    ``tcp://HOST:PORT`` joins a running scheduler; ``None``: no client (shards run one
    after another here)."""
    if scheduler is None:
        return None
    from dask.distributed import Client, LocalCluster

    if _is_local(scheduler):
        n = scheduler.partition(":")[2]
        try:
            workers = int(n) if n else None
        except ValueError:
            raise ParameterError(f"--scheduler {scheduler}: write local:N with N workers") \
                from None
        if workers is not None and workers < 1:
            raise ParameterError(f"--scheduler {scheduler}: N must be at least 1")
        # No dashboard; its bare HTTP routes on a free port, not 8787 (two runs at once).
        # The workers allocate as one process does: Dask's fixed MALLOC_TRIM_THRESHOLD_
        # (for long-lived workers) stops glibc's adaptive mmap threshold, so every large
        # array is mapped afresh, page by page (a third more time at 1M nodes).
        # No work stealing: a tile walks where its piece was read (stealing moved walks
        # to the other worker and left the piece's own worker idle, 2-4 s at 1M nodes).
        import dask

        if logging.getLogger().getEffectiveLevel() > logging.DEBUG:  # not with --debug
            logging.getLogger("distributed").setLevel(logging.WARNING)  # no INFO lines
            # a cluster that fails to start is reported by the error that follows
            logging.getLogger("distributed.deploy.spec").setLevel(logging.ERROR)
        settings = {"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                    "distributed.scheduler.work-stealing": False}
        fork = fork_safe()
        if fork:  # workers forked from here, with the modules the tasks need: ~0.1 s for
            warm_up()  # two, against ~1 s each to start a Python and import them
            settings["distributed.worker.multiprocessing-method"] = "fork"
            gc.collect()
            gc.freeze()  # their collector leaves the copied objects (and pages) alone
        try:
            with dask.config.set(settings), warnings.catch_warnings():
                # Python 3.12+ warns of forking with threads: only Dask's are running, while
                # this one waits (a worker the nanny restarts later is spawned, as usual)
                warnings.filterwarnings("ignore", r".*use of fork\(\) may lead to deadlocks",
                                        DeprecationWarning)
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                       processes=True, dashboard_address=None,
                                       host="127.0.0.1", scheduler_port=port,
                                       preload=[__name__],  # dask_setup: ignore Ctrl+C
                                       scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        finally:
            if fork:
                gc.unfreeze()
        return Client(cluster)
    if scheduler.startswith(("tcp://", "tls://")):
        return Client(scheduler, timeout="10s")
    raise ParameterError(f"--scheduler {scheduler}: expected local, local:N or tcp://HOST:PORT")


def fork_safe() -> bool:
    """Whether a LocalCluster started now may fork its workers from this process: on Linux,
    from the main thread of a process with no other thread (a command-line run). A fork
    copies only the thread that forks; a lock another thread held then would stay held in
    the worker (a library reading a file, an import), so otherwise they are spawned."""
    return (sys.platform.startswith("linux") and threading.active_count() == 1
            and threading.current_thread() is threading.main_thread())


def _is_local(scheduler: str) -> bool:
    return scheduler == "local" or scheduler.startswith("local:")


@contextmanager
def dask_client(scheduler: str | None):
    """:func:`client_for` as a context: the client (and a LocalCluster it started) is closed
    on leaving; ``None`` without a scheduler."""
    client = client_for(scheduler) if scheduler else None
    try:
        yield client
    finally:
        close(client)


def close(client) -> None:
    """Close a Dask client and the LocalCluster it started (nothing for ``None``)."""
    if client is not None:
        cluster = getattr(client, "cluster", None)
        client.close()
        if cluster is not None:
            cluster.close()


def dask_setup(worker) -> None:
    """Run by Dask in each worker of a LocalCluster started here, as it starts: Ctrl+C in a
    terminal reaches every process of the command, and each worker would die printing a
    KeyboardInterrupt traceback; the command closes its cluster itself, so they ignore it
    (and the tasks it cancels then are not reported as warnings)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logging.getLogger("distributed.worker.state_machine").setLevel(logging.ERROR)


def warm_up() -> None:
    """Import the modules a coverage task runs (on a worker, before its first task)."""
    import geo_app.workflows.coverage_steps  # noqa: F401
    import geo_app.workflows.graphs  # noqa: F401
    import geo_app.workflows.shard_reads  # noqa: F401
    import layers.network  # noqa: F401
    import layers.userfile  # noqa: F401


@contextmanager
def client_starting(scheduler: str | None):
    """:func:`dask_client`, started in the background while this process imports the rest
    and reads its inputs: yields a function that waits for the client (None without a
    scheduler), whose workers have imported what the tasks need. A LocalCluster that may
    fork its workers (see :func:`fork_safe`) starts at once instead: about 0.1 s.

    On leaving, a LocalCluster shuts down in the background while this process writes its
    results (the interpreter waits for it at exit)."""
    from concurrent.futures import ThreadPoolExecutor

    if not scheduler:
        yield lambda: None
        return
    if _is_local(scheduler) and fork_safe():  # started here and now: forking is quick
        client = client_for(scheduler)
        try:
            yield lambda: client
        finally:
            threading.Thread(target=_close_quietly, args=(client,), name="close-dask").start()
        return
    # Dask is imported here, not in the thread: this process imports modules that import
    # Dask meanwhile, and a package imported from two threads at once can fail ("KeyError:
    # 'dask'", seen once in the tests)
    import dask.distributed  # noqa: F401

    def start():
        client = client_for(scheduler)
        try:
            client.run(warm_up)
        except BaseException:
            close(client)
            raise
        return client

    with ThreadPoolExecutor(1) as pool:
        started = pool.submit(start)
        try:
            yield started.result
        finally:
            if started.exception() is None:
                threading.Thread(target=_close_quietly, args=(started.result(),),
                                 name="close-dask").start()


def _close_quietly(client) -> None:
    try:
        close(client)
    except Exception as exc:  # noqa: BLE001 (a cluster that will not close must not fail a run)
        log.warning("closing the Dask client: %s", exc)
