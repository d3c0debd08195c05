"""The colours of the four statuses, shared by the badges and the tree figure."""

from __future__ import annotations

from ...vocab import Status

#: badge colours (background, text) and figure colours (fill, edge) per status
COLOURS: dict[Status, dict[str, str]] = {
    Status.ON_TRACK: {"bg": "#d1fae5", "fg": "#065f46", "edge": "#059669"},
    Status.AT_RISK: {"bg": "#fef3c7", "fg": "#92400e", "edge": "#d97706"},
    Status.OFF_TRACK: {"bg": "#fee2e2", "fg": "#991b1b", "edge": "#dc2626"},
    Status.UNKNOWN: {"bg": "#e5e7eb", "fg": "#374151", "edge": "#9ca3af"},
}

#: the class of a gap cell per status (the report stylesheet colours good and bad)
TONES: dict[Status, str] = {
    Status.ON_TRACK: "good",
    Status.AT_RISK: "",
    Status.OFF_TRACK: "bad",
    Status.UNKNOWN: "muted",
}

__all__ = ["COLOURS", "TONES"]
