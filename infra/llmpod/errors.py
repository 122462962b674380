"""The one error type users see.

Every failure a user can cause (bad spec, unknown model, a layout vLLM would
reject, a plan that does not fit) is raised as an ``LlmpodError``. The CLI turns
it into one paragraph (or a JSON ``errors`` entry) and an exit code; nothing a
user can cause should ever reach them as a traceback.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from llmpod.suggestion import Suggestion


@dataclass
class LlmpodError(Exception):
    """A user-facing error: what went wrong, with which value, and how to fix it.

    ``code`` is a stable machine-readable identifier (``unknown_model``,
    ``tp_heads_indivisible``, ``context_does_not_fit`` ...); ``suggestions`` are
    ranked ways out, most useful first.
    """

    code: str
    message: str
    suggestions: list[str] = field(default_factory=list)
    #: 1 = bad input (the request itself is wrong), 2 = valid but infeasible.
    exit_code: int = 1
    #: The suggestions that are one setting each, as data (rendered into
    #: ``suggestions`` as flags or spec keys by whoever raised the error).
    changes: list[Suggestion] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        """One paragraph: the message, then the suggestions."""
        if not self.suggestions:
            return self.message
        tips = "; ".join(self.suggestions)
        return f"{self.message} Try: {tips}."

    def as_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "suggestions": list(self.suggestions),
            "suggested_changes": [c.as_json() for c in self.changes],
        }


#: How much of an offending value an error message shows.
SHOWN_CHARS = 80


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``repr`` of a value for an error message: control and other non-printable
    characters escaped (repr does that), cut to ``limit`` characters with the
    full length stated, so a 6 MB value never lands in a terminal or a log."""
    if isinstance(value, str) and len(value) > limit:
        return repr(value[:limit])[:-1] + f"…' ({len(value)} characters)"
    text = repr(value)
    return text if len(text) <= limit + 2 else text[:limit] + f"… ({len(text)} characters)"


def did_you_mean(value: str, choices: Iterable[str], *, n: int = 3) -> list[str]:
    """Closest matches to ``value`` among ``choices`` (case-insensitive)."""
    pool = sorted(set(choices))
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(value.lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def hint(value: str, choices: Sequence[str] | Iterable[str]) -> str:
    """A ' Did you mean X?' sentence, or '' when nothing is close."""
    close = did_you_mean(value, choices)
    if not close:
        return ""
    return " Did you mean " + " or ".join(f"'{c}'" for c in close) + "?"


def shorten(value: object, limit: int = 80, *, quote: bool = True, keep_end: bool = False) -> str:
    """``value`` for an error message: repr'd (or, with ``quote=False``, bare text with
    unprintable characters escaped) and cut to ``limit`` characters.

    Unlike ``shown`` it never raises (ints past CPython's 4,300-digit limit) and
    can render bare text (paths, exception messages, YAML problems).

    Messages echo what the user wrote, but a 6 MB value or a control character
    must not flood or garble a terminal: the cut says how long the original was,
    and repr escapes newlines and control characters. Paths pass ``keep_end=True``:
    their end (the file name) is the part that tells the user which file it was.
    """
    try:
        full = repr(value) if quote else str(value)
    except ValueError:  # int beyond CPython's 4,300-digit str() limit
        return f"<{type(value).__name__} too large to show>"
    if not quote:  # repr escapes control characters; do the same for bare text
        full = (
            "".join(c if c.isprintable() else repr(c)[1:-1] for c in full[: limit + 1])
            + full[limit + 1 :]
        )
    if len(full) <= limit:
        return full
    if keep_end:  # a path is at most a few KiB: no length note needed
        return ("'…" if quote else "…") + full[-limit:]
    return f"{full[:limit]}…({len(full):,} characters)"
