"""A click-to-browse file input: the keyboard-reachable companion of Solara's drag-and-drop ``FileDrop``.

``solara.FileDrop`` takes files only by drag and drop; its zone is not focusable and opens no file dialog.
ipyvuetify's ``FileInput`` is Vuetify's ``v-file-input`` (a real ``<input type="file">``: click, or Tab and
Enter, opens the browser's dialog) that streams the chosen file to Python; it only lacks a label. The component
hands the file to ``on_file`` in the dict form ``FileDrop`` uses, so both feed the same loading code.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import solara
import traitlets
from ipyvuetify.extra import FileInput


class LabelledFileInput(FileInput):
    """ipyvuetify's file input with a visible label (its template is ipyvuetify's, with ``:label`` added)."""

    label = traitlets.Unicode().tag(sync=True)
    template = traitlets.Unicode(
        FileInput.template.default_value.replace("<v-file-input", '<v-file-input :label="label"', 1)
    ).tag(sync=True)


@solara.component
def FileBrowse(label: str, on_file: Callable[[dict[str, Any]], None], accept: str = ""):
    """A visible file input; ``on_file`` gets ``{"name", "size", "file_obj", "data"}`` like ``FileDrop``'s
    ``on_file`` with ``lazy=False``."""
    info, set_info = solara.use_state(None)
    files, set_files = solara.use_state(None)
    element = LabelledFileInput.element(
        label=label, accept=accept, multiple=False, show_progress=False, on_file_info=set_info
    )

    def wire():  # the widget exists only after the render; the file handles need it
        if info:
            widget = solara.get_widget(element)
            widget.reset_stats()
            set_files(widget.get_files()[:1])

    solara.use_effect(wire, [info])

    def load(cancel: threading.Event):
        # in a thread: the widget asks the browser for the file's bytes and waits for them
        for file in files or ():
            on_file({**file, "data": file["file_obj"].read()})

    result = solara.use_thread(load, [files])
    if result.error:
        raise result.error
    return element
