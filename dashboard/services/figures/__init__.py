"""Figures people land on: the home page and the executive overview."""
