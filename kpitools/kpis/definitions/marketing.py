"""Marketing KPIs (seed 003 "Marketing", seed 002)."""

from __future__ import annotations
