"""State that survives: widget values kept across page switches, reruns and a language switch.

Streamlit forgets a widget's value at the end of a run that did not draw it (another page was
shown), and a select box or radio sends back the *label* of its choice, which no longer matches
its options once the language changed. :func:`keep_widgets` runs at the top of every run
(``app.py``): it copies every keyed value widget's value (read with the previous run's options,
so a key, never a label) into a per-session store, and sets again the value of every kept widget
the browser does not show (it sent no value for it, or sent one though the last run did not draw
the widget: it drops that when it has caught up), so that the value reaches the browser in
whichever run draws the widget. Streamlit pushes a value only in a run that sets it: a value put
back in a run that did not draw its widget was otherwise drawn blank. After a run cut short (a
click on another page while one was drawing) and after a language switch every value is set
again: the browser may have dropped what it sent, and a choice's label changes with the
language. Buttons, uploads, table editors and map components are never written (Streamlit
refuses that).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from geo_app.labels import t

STORE = "_kept_widgets"  # key -> the widget's last value, for widgets not drawn in a run
LAST_LANG = "_kept_lang"
RUNNING = "_kept_running"  # True from the top of a run to its end (see run_finished)
DRAWN = "_kept_drawn"  # keys of the widgets the last finished run drew
# the value kinds of widgets whose value may be set: selects, radios, number and text inputs,
# checkboxes, sliders (buttons are "trigger_value", uploads "file_uploader_state_value")
SETTABLE = {"string_value", "double_value", "int_value", "bool_value", "string_array_value",
            "double_array_value"}
PLAIN = (str, int, float, bool, type(None))


def _plain(value) -> bool:
    """A value a widget of ours holds: a number, text, flag or a list of them (a table editor's
    or a selection's value is a dict)."""
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, PLAIN) for v in value)
    return isinstance(value, PLAIN)


def value_widgets() -> dict[str, str]:
    """User key -> value kind of the value widgets drawn in the last run (empty if Streamlit's
    bookkeeping is not readable: then nothing is kept, nothing breaks)."""
    try:
        from streamlit.runtime.state import get_session_state

        state = get_session_state()._state
        meta = state._new_widget_state.widget_metadata
        ids = state._key_id_mapper.id_key_mapping
    except (AttributeError, ImportError, RuntimeError):
        return {}
    return {key: meta[wid].value_type for wid, key in ids.items()
            if wid in meta and meta[wid].value_type in SETTABLE and not key.startswith("$$")}


def sent_back() -> set[str]:
    """User keys of the widgets whose values the browser sent with this run: those it shows.
    At the top of a run the widget store holds just those (Streamlit empties it before taking
    the browser's values); nothing is drawn yet (empty if Streamlit's bookkeeping is not
    readable: then every kept value is set again, which shows the same values)."""
    try:
        from streamlit.runtime.state import get_session_state

        state = get_session_state()._state
        ids = state._key_id_mapper.id_key_mapping
        sent = state._new_widget_state.states
    except (AttributeError, ImportError, RuntimeError):
        return set()
    return {key for wid, key in ids.items() if wid in sent}


def drawn() -> set[str]:
    """User keys of the widgets drawn so far in this run (empty if Streamlit's bookkeeping is not
    readable: then every kept value is set again in every run)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
        from streamlit.runtime.state import get_session_state

        wids = get_script_run_ctx().shared.widget_ids_this_run.snapshot()
        keys = get_session_state()._state._key_id_mapper.id_key_mapping
    except (AttributeError, ImportError, RuntimeError):
        return set()
    return {keys[wid] for wid in wids if wid in keys}


def keep_widgets() -> None:
    """Keep every value widget's value for the session (call first in every run, before
    anything draws a widget)."""
    ss = st.session_state
    store = ss.setdefault(STORE, {})
    # what the browser sent of a widget the last run did not draw, it drops when it catches up
    shown = sent_back() & ss.get(DRAWN, set())
    values = {}
    for key in value_widgets():
        try:
            value = ss[key]
        except KeyError:  # a widget not drawn in the last run: Streamlit dropped its value
            continue
        if _plain(value):
            values[key] = value
    store.update(values)
    for key in set(store) - set(values) - shown:  # set by a page while its widget was away
        value = ss.get(key, store[key])
        if _plain(value):
            store[key] = value
    lang = ss.get("lang", "zh")
    every = ss.get(LAST_LANG, lang) != lang or ss.get(RUNNING, False)  # switched, or cut short
    ss[LAST_LANG], ss[RUNNING] = lang, True
    for key, value in store.items():
        # a set value reaches the browser when its widget is drawn; one the browser sent is
        # what it shows
        if key != "lang" and (every or key not in shown):
            ss[key] = value


def run_finished() -> None:
    """Call last in a run: the next run then trusts the values the browser sends."""
    st.session_state[RUNNING] = False
    st.session_state[DRAWN] = drawn()


def forget(*keys: str) -> None:
    """Drop kept values (a page resetting its widgets on purpose)."""
    store = st.session_state.setdefault(STORE, {})
    for key in keys:
        store.pop(key, None)
        st.session_state.pop(key, None)


def kept(key: str, default=None):
    """A widget's value, drawn this run or kept from an earlier one."""
    if key in st.session_state:
        return st.session_state[key]
    return st.session_state.get(STORE, {}).get(key, default)


# --- a progress indicator for the whole of a run -----------------------------------------------

class RunProgress:
    """A running status (its spinner turns from the first moment to the last) with a bar, in a
    place of its own: ``say(fraction, step)`` or, like ``st.progress``, ``progress(value,
    text=step)``; ``step`` is a catalogue key (or text already in the session's language).
    ``done()`` (or ``slot.empty()``) takes it away when the work ends; the result then stands in
    its place. Drawn again in the same slot (after a queue message), pass ``started``."""

    def __init__(self, what: str, slot=None, started: float | None = None) -> None:
        self.lang = st.session_state.get("lang", "zh")
        self.holder = st.empty() if slot is None else slot
        self.title = t(what, self.lang)
        self.started = time.monotonic() if started is None else started  # a run's earlier part
        self.box = self.holder.status(self.title, state="running", expanded=True)
        self.bar = self.box.progress(0.0, text=t("progress_starting", self.lang))

    def __call__(self, fraction: float = 0.0, step: str = "") -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        seconds = round(time.monotonic() - self.started)
        self.bar.progress(f, text=t(step, self.lang) if step else t("progress_starting",
                                                                      self.lang))
        self.box.update(label=t("progress_label", self.lang).format(
            what=self.title, percent=round(100 * f), seconds=seconds))

    def progress(self, value: float, text: str = "") -> None:
        self(value, text)

    def done(self) -> None:
        self.holder.empty()


@contextmanager
def progress_run(what: str, slot=None) -> Iterator[RunProgress]:
    """``with progress_run("running_coverage") as say: work(progress=say)``: a
    :class:`RunProgress` for the whole of the block, taken away when it ends (or fails)."""
    say = RunProgress(what, slot)
    try:
        yield say
    finally:
        say.done()


# --- Streamlit's own words, in the session's language ------------------------------------------

def chinese_widgets(lang: str) -> None:
    """Replace the English the file uploader draws itself ("Upload", "200MB per file", "Drag and
    drop a file here") with the catalogue's words, through CSS (Streamlit offers no setting)."""
    if lang != "zh":
        return
    limit = st.get_option("server.maxUploadSize")
    words = {"button": t("uploader_button", lang), "drop": t("uploader_drop", lang),
             "limit": t("uploader_limit", lang).format(mb=limit)}
    st.html(f"""<style>
[data-testid="stFileUploaderDropzone"] button {{ font-size: 0 !important; }}
[data-testid="stFileUploaderDropzone"] button * {{ font-size: 0 !important; }}
[data-testid="stFileUploaderDropzone"] button::after {{ content: "{words['button']}";
  font-size: 0.875rem; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ font-size: 0 !important; }}
[data-testid="stFileUploaderDropzoneInstructions"] div::after {{ content: "{words['limit']}";
  font-size: 0.875rem; opacity: 0.7; }}
[data-testid="stFileUploaderDropzone"] > div:not([data-testid]) > span {{ font-size: 0 !important; }}
[data-testid="stFileUploaderDropzone"] > div:not([data-testid]) > span::after {{
  content: "{words['drop']}"; font-size: 0.875rem; }}
</style>""")
