"""One pattern for every widget in the book: controls, a pure render function, and an output area.

``render(**values)`` draws from the controls' values and returns a matplotlib Figure, a string of
HTML/text, or ``(figure_or_text, data)`` where ``data`` holds the numbers shown. Because the callback
is an ordinary function of the values, the tests drive a widget without a browser::

    w = Explorer({"t": IntSlider(0, 0, 9)}, render)
    before = w.data; w.set(t=5); assert w.data != before

``set`` is for code (a chapter's checks, the tests): it tries values as if a reader had moved the
controls, with the controls' own validation (a slider clamps, a dropdown refuses what it does not
offer), and returns the data; the widget on the page keeps showing what the reader chose, so a
check that runs after an explorer is displayed never moves it under the reader's eyes. Successive
``set`` calls build on each other until the reader moves a control. Labels are shown whole, and
JupyterLab typesets ``$...$`` in a label or in the title as math.
"""
from __future__ import annotations

from typing import Any, Callable

import ipywidgets as W
from IPython.display import HTML, display


class Explorer:
    def __init__(self, controls: dict[str, W.ValueWidget], render: Callable[..., Any], title: str | None = None,
                 continuous: bool = False):
        self.controls = controls
        self.render = render
        self.title = title
        self.output = W.Output()
        self.figure = None
        self.data: Any = None
        self.calls = 0
        self._tried: dict[str, Any] | None = None     # values set from code since the reader last moved a control
        self._probing = False
        for c in controls.values():
            if hasattr(c, "continuous_update"):
                c.continuous_update = continuous
            style = getattr(c, "style", None)
            if getattr(c, "description", "") and hasattr(style, "description_width") and not style.description_width:
                style.description_width = "initial"     # the whole label, not "C̃ (candid…"
            c.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        """What the controls on the page show."""
        return {k: c.value for k, c in self.controls.items()}

    def set(self, **changes) -> Any:
        """Try values from code as a reader would set them, one control after the other: the render runs
        once per control that moves. Returns the new data.

        The widget on the page is left as the reader has it (see the module docstring).
        """
        for k in changes:
            if k not in self.controls:
                raise KeyError(f"no control named {k!r}; controls: {', '.join(self.controls)}")
        tried = dict(self._tried if self._tried is not None else self.values())
        for k, v in changes.items():
            value = self._accepted(k, v)
            if value != tried[k]:            # a control moved to where it already is changes nothing
                tried[k] = value
                self._tried = tried
                self._draw(tried, show=False)
        return self.data

    def _accepted(self, name: str, value: Any) -> Any:
        """The value control ``name`` takes when given ``value`` (clamped, or refused with the control's
        own error). The control is put back at once, inside one held sync, so the page only ever
        receives the value it already shows."""
        control = self.controls[name]
        shown = control.value
        self._probing = True
        try:
            with control.hold_sync():
                try:
                    control.value = value
                    return control.value
                finally:
                    control.value = shown
        finally:
            self._probing = False

    def _on_change(self, _change) -> None:
        if self._probing:
            return
        self._tried = None                  # the reader moved a control: start again from the page
        self.refresh()

    def refresh(self) -> None:
        """Draw what the controls on the page show into the output area."""
        self._draw(self.values(), show=True)

    def _draw(self, values: dict[str, Any], show: bool) -> None:
        import matplotlib.pyplot as plt

        result = self.render(**values)
        view, data = result if isinstance(result, tuple) else (result, None)
        self.calls += 1
        self.data = data
        if hasattr(view, "savefig"):
            self.figure = view
        if not show:
            if hasattr(view, "savefig"):
                plt.close(view)             # not shown: a cell's open figures would be drawn below it
            return
        with self.output:
            self.output.clear_output(wait=True)
            if hasattr(view, "savefig"):
                display(view)
                plt.close(view)
            elif isinstance(view, str):
                display(HTML(view))
            elif view is not None:
                display(view)

    @property
    def widget(self) -> W.Widget:
        parts = [W.HTMLMath(f"<b>{self.title}</b>")] if self.title else []     # $...$ in a title is typeset
        parts += [W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap")), self.output]
        return W.VBox(parts)

    def _ipython_display_(self) -> None:
        display(self.widget)
