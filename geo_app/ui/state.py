"""State that survives: widget values kept across page switches, reruns and a language switch.

Streamlit forgets a widget's value at the end of a run that did not draw it (another page was
shown), and a select box or radio sends back the *label* of its choice, which no longer matches
its options once the language changed. :func:`keep_widgets` runs at the top of every run
(``app.py``): it copies every keyed value widget's value (read with the previous run's options,
so a key, never a label) into a per-session store, puts back the values of widgets the last run
did not draw, and on a language switch sets every value again so each widget is redrawn in the
new language with its choice kept. Buttons, uploads, table editors and map components are never
written (Streamlit refuses that).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from geo_app.labels import t

STORE = "_kept_widgets"  # key -> the widget's last value, for widgets not drawn in a run
LAST_LANG = "_kept_lang"
RELABEL = "_kept_relabel"  # kept widgets not drawn since the language switched
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
    """User keys of the widgets whose values the browser sent with this run: those it shows
    (a value the app set on a widget not shown counts for nothing)."""
    try:
        from streamlit.runtime.state import get_session_state
        from streamlit.runtime.state.session_state import Value

        state = get_session_state()._state
        ids = state._key_id_mapper.id_key_mapping
        sent = state._new_widget_state.states
    except (AttributeError, ImportError, RuntimeError):
        return set()
    return {key for wid, key in ids.items()
            if wid in sent and not isinstance(sent[wid], Value)}


def keep_widgets() -> None:
    """Keep every value widget's value for the session (call first in every run)."""
    ss = st.session_state
    store = ss.setdefault(STORE, {})
    values, kinds = {}, value_widgets()
    for key in kinds:
        try:
            value = ss[key]
        except KeyError:  # a widget not drawn in the last run: Streamlit dropped its value
            continue
        if _plain(value):
            values[key] = value
    store.update(values)
    present = set(values)
    lang = ss.get("lang", "zh")
    switched = ss.get(LAST_LANG, lang) != lang
    ss[LAST_LANG] = lang
    # after a language switch every kept widget is set again until it is drawn in the new
    # language (a select or radio sends back its label, and a new label makes a new widget
    # that ignores the old one's value), on whichever page it comes back
    pending = set(store) - {"lang"} if switched else ss.get(RELABEL, set()) - sent_back()
    ss[RELABEL] = pending
    for key, value in store.items():
        if key == "lang":
            continue
        if key in pending or switched:
            ss[key] = value  # a set value reaches the browser; an old one does not
        elif key not in present and key not in ss:
            ss[key] = value  # back after a page switch (pages' own settings meanwhile win)


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
