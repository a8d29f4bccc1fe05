"""Data for the chapters: shipped corpora (see DATA_LICENSE.md) and generated tasks. Nothing downloads."""
