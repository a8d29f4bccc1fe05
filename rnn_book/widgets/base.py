"""One pattern for every widget in the book: controls, a pure render function, and an output area.

``render(**values)`` draws from the controls' values and returns a matplotlib Figure, a string of
HTML/text, or ``(figure_or_text, data)`` where ``data`` holds the numbers shown. Because the callback
is an ordinary function of the values, the tests drive a widget without a browser::

    w = Explorer({"t": IntSlider(0, 0, 9)}, render)
    before = w.data; w.set(t=5); assert w.data != before
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
        for c in controls.values():
            if hasattr(c, "continuous_update"):
                c.continuous_update = continuous
            c.observe(self._on_change, names="value")
        self.refresh()

    def values(self) -> dict[str, Any]:
        return {k: c.value for k, c in self.controls.items()}

    def set(self, **changes) -> Any:
        """Move controls as a reader would; the render runs once per change. Returns the new data."""
        for k, v in changes.items():
            if k not in self.controls:
                raise KeyError(f"no control named {k!r}; controls: {', '.join(self.controls)}")
            self.controls[k].value = v
        return self.data

    def _on_change(self, _change) -> None:
        self.refresh()

    def refresh(self) -> None:
        import matplotlib.pyplot as plt

        result = self.render(**self.values())
        view, data = result if isinstance(result, tuple) else (result, None)
        self.calls += 1
        self.data = data
        with self.output:
            self.output.clear_output(wait=True)
            if hasattr(view, "savefig"):
                self.figure = view
                display(view)
                plt.close(view)
            elif isinstance(view, str):
                display(HTML(view))
            elif view is not None:
                display(view)

    @property
    def widget(self) -> W.Widget:
        parts = [W.HTML(f"<b>{self.title}</b>")] if self.title else []
        parts += [W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap")), self.output]
        return W.VBox(parts)

    def _ipython_display_(self) -> None:
        display(self.widget)
