"""Unit-store backends: the implementations of ``retrieval.store.UnitStore``."""
