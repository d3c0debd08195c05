"""What every params model shares: strictness, and one line per validation problem."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError


class _Strict(BaseModel):
    """A params model: unknown keys are errors (``extra="forbid"``) and values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _format_loc(loc: tuple) -> str:
    return ".".join(str(p) for p in loc) or "(top level)"


def format_validation_error(path: str, exc: ValidationError) -> list[str]:
    """One line per problem: ``file: field.path: message``.

    Parameters
    ----------
    path : str
        The file (or ``<objectives>``, say) the values came from, first on every line.
    exc : pydantic.ValidationError
    """
    lines = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field (not allowed here; check the spelling)"
        msg = msg.removeprefix("Value error, ")
        lines.append(f"{path}: {_format_loc(loc)}: {msg}")
    return lines


__all__ = ["format_validation_error"]
