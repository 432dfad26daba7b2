"""Fault injection for tests: failing requests (``injection``) and the SIGKILL matrix
(``matrix``, run by ``test_matrix.py``)."""

from __future__ import annotations

from tests.faults.injection import FaultPlan, FaultyStore, LostReplies, exercise_store

__all__ = ["FaultPlan", "FaultyStore", "LostReplies", "exercise_store"]
