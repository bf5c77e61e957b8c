"""Tiering by the estimate and dispatching the first responsible persons; the dispatch board."""
