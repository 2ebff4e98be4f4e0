"""A served app's sessions: who owns the projects, each session's key, the heavy-run line.

Without sign-in (``Settings.sign_in = "none"``) a browser session gets a project store of its
own, addressed by a random id kept in the address bar (``?ws=…``), so that a reload or a
bookmark finds it again and no other session can. With sign-in (``"oidc"``: Streamlit's
``st.login``; ``"header"``: a trusted reverse proxy's user header) each user has one store
across sessions. See README, "Serving the workbench".
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from geo_app.config import Settings
from geo_app.labels import t
from geo_app.workflows import runs, sessions

STORE_PARAM = "ws"  # the query parameter holding a session's store id
_OPEN: dict[str, str] = {}  # session key → Streamlit session id, in this process
_SWEPT = {"at": None}
_LOCK = threading.Lock()
SWEEP_EVERY_S = 60.0
_STARTED = time.time()  # this server process's start (near enough: the module's first import)


def settings() -> Settings:
    """The server's settings (from the ``GEO_APP_*`` environment)."""
    return Settings.from_env()


def _lang() -> str:
    return st.session_state.get("lang", "zh")


def session_key() -> str:
    """This browser session's random key (its upload folder, its place in the run line)."""
    key = st.session_state.get("_session_key")
    if key is None:
        key = st.session_state["_session_key"] = secrets.token_urlsafe(16)
    return key


def _streamlit_id() -> str | None:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return None if ctx is None else ctx.session_id


def _is_open(key: str) -> bool:
    """Whether the session of ``key`` is still connected to this server process."""
    from streamlit.runtime import Runtime

    sid = _OPEN.get(key)
    if sid is None:
        return False
    if not Runtime.exists():
        return True
    return bool(Runtime.instance().is_active_session(sid))


def identity(s: Settings) -> str | None:
    """The signed-in user (``"oidc:…"``, ``"header:…"``), None without sign-in; stops the
    page with a sign-in prompt when sign-in is configured and nobody is signed in."""
    if s.sign_in == "none":
        return None
    lang = _lang()
    if s.sign_in == "oidc":
        if not st.user.get("is_logged_in", False):
            st.info(t("sign_in_needed", lang))
            st.button(t("sign_in", lang), on_click=st.login, type="primary", key="sign_in")
            st.stop()
        info = st.user.to_dict()
        subject = info.get("sub") or info.get("email")
        return f"oidc:{info.get('iss', '')}:{subject}"
    who = user_from_headers(st.context.headers, s.user_header)
    if who is None:
        st.error(t("sign_in_header_missing", lang))
        st.stop()
    return who


def user_from_headers(headers, header: str | None) -> str | None:
    """The identity a trusted proxy's ``header`` carries, or None if absent or blank."""
    if not header:
        return None
    value = (headers.get(header) or "").strip()
    return f"header:{value}" if value else None


def store():
    """This session's :class:`~geo_app.io.project_store.ProjectStore`."""
    from geo_app.io.project_store import ProjectStore, new_token, valid_token

    s = settings()
    who = identity(s)
    if who is not None:
        return ProjectStore.for_user(who, s)
    token = st.session_state.get("_store_token")
    if token is None:
        given = st.query_params.get(STORE_PARAM)
        token = given if valid_token(given) else new_token()
        st.session_state["_store_token"] = token
    if st.query_params.get(STORE_PARAM) != token:
        st.query_params[STORE_PARAM] = token
    return ProjectStore.for_session(token, s)


def start_session() -> None:
    """On every run: register this session, keep its uploads fresh; on its first run, sweep
    old upload folders and project stores (at most once a minute per process), and drop the
    uploads of the session this one replaces."""
    from geo_app.io.project_store import sweep_stores

    s, key = settings(), session_key()
    sid = _streamlit_id()
    if sid is not None:
        _OPEN[key] = sid
    sessions.touch(key, s)
    if st.session_state.get("_session_started"):
        return
    st.session_state["_session_started"] = True
    with _LOCK:
        first, last = _SWEPT["at"] is None, _SWEPT["at"] or 0.0
        due = time.monotonic() - last >= SWEEP_EVERY_S or first
        if due:
            _SWEPT["at"] = time.monotonic()
    if due:
        # at the first sweep, folders untouched since before this process started belong to
        # sessions of an earlier run of the server: they go at once
        grace = min(time.time() - _STARTED, sessions.GRACE_S) if first else sessions.GRACE_S
        sessions.sweep_uploads(s, _is_open, grace_s=grace)
        sweep_stores(s)
    if s.sign_in == "none":
        sessions.replace_session(store().root, key, s, _is_open)


# --- heavy runs ---------------------------------------------------------------------------------

def admission() -> runs.Admission:
    s = settings()
    return runs.shared(s.max_heavy_runs, runs.default_cap_bytes(s.run_memory_mb))


def _abandoned(grace_s: float):
    """A test whether this session's browser has been gone for ``grace_s`` seconds."""
    from streamlit.runtime import Runtime

    sid = _streamlit_id()
    if sid is None or not Runtime.exists():
        return None
    runtime, since = Runtime.instance(), [None]

    def gone() -> bool:
        if runtime.is_active_session(sid):
            since[0] = None
            return False
        since[0] = since[0] or time.monotonic()
        return time.monotonic() - since[0] >= grace_s
    return gone


@contextmanager
def heavy_run(kind: str, estimate: int, slot) -> Iterator[runs.Ticket]:
    """Wait for a place to run (``slot``, an ``st.empty()``, shows the place in line), run,
    give the place back. Raises :class:`~geo_app.workflows.runs.RunRefused` (show it with
    :func:`show_refused`)."""
    lang = _lang()
    adm = admission()

    def waiting(place: int) -> None:
        slot.info(t("run_queued", lang).format(place=place, limit=adm.limit))

    ticket = adm.enter(session_key(), estimate, kind=kind, on_wait=waiting,
                       abandoned=_abandoned(settings().run_abandon_s))
    slot.empty()
    try:
        yield ticket
    finally:
        adm.leave(ticket)


def show_refused(exc: runs.RunRefused) -> None:
    """The reason a run did not start (or stopped), in the session's language."""
    st.warning(t(exc.key, _lang()).format(**exc.values))


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]<>!~$|"})


def md(text) -> str:
    """User text (a file, site or scenario name) for a Streamlit message: Markdown and HTML
    characters escaped, so it shows as typed and never becomes a link, image or markup."""
    return str(text).translate(_MARKDOWN)


def local_time(iso: str | None) -> str:
    """An ISO 8601 UTC time as ``YYYY-MM-DD HH:MM:SS`` in the configured time zone."""
    if not iso:
        return ""
    try:
        return settings().local_time(str(iso)).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(iso)


def shown_run_info(info):
    """A run-info table for people: file names instead of server paths, times in the
    configured zone."""
    from geo_app.workflows.inputs import hide_paths

    values = [f"{local_time(v)} ({settings().timezone})" if k.endswith("run_at")
              else hide_paths(str(v)) for k, v in zip(info["key"], info["value"])]
    return info.assign(value=values)
