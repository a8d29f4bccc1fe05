"""Figures drawn by code: the cell diagrams of the chapters share one visual language (viz.diagram)."""
from .diagram import Diagram, PALETTE

__all__ = ["Diagram", "PALETTE"]
