"""Escaping at every sink: a value that slipped past the spec's grammars stays inert.

The spec refuses what each destination cannot hold (``infra/llmpod/spec/grammars.py``);
this is the second line: every renderer writes user-derived strings through the
quoting rule of the language it writes (POSIX shell, systemd unit files, PromQL
string literals, JSON-form Dockerfile instructions), and refuses the few values
that no quoting can make safe (control characters in a one-line systemd setting).
"""

from __future__ import annotations

import json
import re
import shlex

import jinja2

from llmpod.errors import LlmpodError


class UnsafeValue(LlmpodError):
    """A value no quoting makes safe in its sink (e.g. a newline in a unit file).
    An LlmpodError, so the CLI reports it as one paragraph with exit code 1."""

    def __init__(self, message: str) -> None:
        super().__init__(
            code="unsafe_value",
            message=f"refusing to render {message}.",
            suggestions=["remove control characters from the spec value"],
        )


def shell_quote(value: object) -> str:
    """One POSIX shell word, whatever ``value`` holds (shlex.quote: single quotes,
    a ' written as '"'"'; safe words stay bare so ordinary renders read as before)."""
    return shlex.quote(str(value))


class Expand(str):
    """A systemd word that must keep ``${VAR}`` expansion (built by llmpod from
    constants, never from user input)."""

    __slots__ = ()


_SYSTEMD_BARE = re.compile(r"^[A-Za-z0-9_@+=:,./-]+$")
_EXPAND_BARE = re.compile(r"^[A-Za-z0-9_@+=:,./${}-]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def systemd_word(value: object) -> str:
    """One word of an Exec*= command line (systemd.service(5), "Command lines").

    systemd expands ``%`` specifiers and ``$VAR`` in every word, splits on
    whitespace, and honours single and double quotes with C escapes inside. So:
    ``%`` → ``%%``, ``$`` → ``$$`` (unless llmpod asked for expansion with
    ``Expand``), then a bare word if nothing else is special, single quotes if the
    word has no quote or backslash, else double quotes with ``\\`` and ``"`` escaped.
    A control character is refused: a newline would end the setting and start a
    new one (``ExecStartPre=…``).
    """
    text = str(value)
    if _CONTROL.search(text):
        raise UnsafeValue(f"a control character in a systemd command word: {text[:80]!r}")
    text = text.replace("%", "%%")
    if not isinstance(value, Expand):
        text = text.replace("$", "$$")
    bare = _EXPAND_BARE if isinstance(value, Expand) else _SYSTEMD_BARE
    if _SYSTEMD_BARE.fullmatch(text) or bare.fullmatch(text):
        return text
    if "'" not in text and "\\" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_command(words: list[str]) -> str:
    return " ".join(systemd_word(w) for w in words)


def systemd_value(value: object) -> str:
    """A one-line setting value (Description=): ``%`` specifiers escaped, control
    characters (which would start a new setting) refused."""
    text = str(value)
    if _CONTROL.search(text):
        raise UnsafeValue(f"a control character in a systemd setting: {text[:80]!r}")
    return text.replace("%", "%%")


_PROMQL_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def promql_string(value: object) -> str:
    """A PromQL double-quoted string literal (Prometheus query language: strings
    follow Go's escaping): backslash, quote and control characters escaped, so a
    value can never close the literal and add matchers or operators."""
    out = []
    for ch in str(value):
        if ch in _PROMQL_ESCAPES:
            out.append(_PROMQL_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def json_string(value: object) -> str:
    """A JSON value, as Dockerfile exec-form instructions and LABEL values take it
    (json.dumps; jinja's tojson would HTML-escape ' < > & into \\u00XX)."""
    return json.dumps(value)


def add_filters(env: jinja2.Environment) -> jinja2.Environment:
    """Register the sink filters in a template environment."""
    env.filters["shell_quote"] = shell_quote
    env.filters["systemd_word"] = systemd_word
    env.filters["systemd_command"] = systemd_command
    env.filters["systemd_value"] = systemd_value
    env.filters["promql_string"] = promql_string
    env.filters["json_string"] = json_string
    return env
