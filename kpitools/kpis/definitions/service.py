"""Service KPIs (seed 003 "Service", seed 000)."""

from __future__ import annotations
