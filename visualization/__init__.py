"""Solara/Mesa user interface of the creditloop model."""
