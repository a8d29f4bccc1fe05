"""Sphinx + myst-nb configuration for the static book.

    sphinx-build -c book chapters book/_build/html                                # no execution (CI: add -W)
    sphinx-build -c book chapters book/_build/html -D nb_execution_mode=cache     # executed, cached

The chapters stay where readers open them (``chapters/``); this folder holds only the configuration,
so the source directory is ``chapters`` and ``chapters/index.rst`` is the book's front page (reST, so
the notebook harness, which runs every ``chapters/*.md``, leaves it alone). The
executed build caches every chapter's outputs in ``book/_build/.jupyter_cache``: a rebuild re-runs
only the chapters that changed. Chapters run in full mode unless ``RNN_BOOK_QUICK=1`` is exported.
"""
from __future__ import annotations

import importlib.util
import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

project = "rnn-book — RNN, LSTM and GRU you can run"
author = "rnn-book authors"
copyright = "rnn-book authors"
language = "en"

extensions = ["myst_nb"]
# MathJax from the local disk, so equations render without a network
if importlib.util.find_spec("sphinx-mathjax-offline") is not None:
    extensions.append("sphinx-mathjax-offline")

root_doc = "index"
exclude_patterns = ["solutions", "_build", "**/.ipynb_checkpoints", "*.ipynb", "README.md"]
source_suffix = {".md": "myst-nb", ".rst": "restructuredtext"}

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3             # [text](01_rnn.md#a-heading) links resolve
suppress_warnings = ["mystnb.unknown_mime_type"]     # widget views have no static rendering

# off: structure, links and toctree only (CI). cache: run each chapter once, reuse until it changes.
nb_execution_mode = "off"
nb_execution_cache_path = str(HERE / "_build" / ".jupyter_cache")
nb_execution_timeout = -1
# executed chapters draw with the kernel's inline backend; a non-interactive MPLBACKEND (pytest sets
# agg) inherited by the kernel would make plt.show() draw nothing into the pages
os.environ.pop("MPLBACKEND", None)
# RNN_BOOK_EXECUTE_ONLY=01_rnn[,02_lstm]: execute only these chapters (the browser test builds one page so)
_only = [s.strip() for s in os.environ.get("RNN_BOOK_EXECUTE_ONLY", "").split(",") if s.strip()]
nb_execution_excludepatterns = sorted(p.name for p in (HERE.parent / "chapters").glob("*.md")
                                      if _only and p.stem not in _only)
nb_execution_raise_on_error = True
nb_merge_streams = True
# A chapter's text/markdown outputs (display(Markdown(plots.table(...)))) are MyST, as the chapters are:
# tables and $math$ render (myst-nb's default, CommonMark, has no tables and printed them as raw pipes)
nb_render_markdown_format = "myst"


def _encrypted_kernels() -> None:
    """Start the executing kernels with CurveZMQ transport encryption where pyzmq and the kernelspec
    support it. Without it ipykernel warns, once per executed chapter, that it runs over plain TCP;
    myst-nb creates its kernel managers with no configuration, so the policy is set on the class."""
    try:
        import zmq
        from jupyter_client.manager import KernelManager
    except ImportError:
        return
    trait = KernelManager.class_traits().get("transport_encryption")
    if trait is not None and zmq.has("curve"):
        trait.default_value = "auto"          # "auto": encrypt when the kernelspec declares support


_encrypted_kernels()
# Widgets need a running kernel; the static pages load no widget JavaScript (it would come from a CDN)
nb_ipywidgets_js = {}

html_theme = "alabaster"
html_title = "rnn-book"
html_theme_options = {"page_width": "1100px", "sidebar_width": "260px"}
html_static_path = []
