"""Fuzzing the stack-file path: loader, spec and `llmpod render`, with hypothesis.

Whatever a stack file holds, llmpod either refuses it with its own error
(``LlmpodError``; on the command line: exit 1 or 2 and one ``error:``
paragraph, the output directory untouched) or renders manifests that validate
strictly. Anything else (a traceback, the CLI's "internal error" fallback, an
output directory changed by a failed render) fails here with the input that
caused it.

Bounded and deterministic: the "ci" profile in conftest.py derandomizes
hypothesis and drops its deadline; example counts are set per test so the whole
file runs in well under two minutes on two cores.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from llmpod.cli.main import main
from llmpod.environments.stack_files import read_stack_config
from llmpod.errors import LlmpodError
from llmpod.k8s.validate import ManifestInvalid, validate_object
from llmpod.spec.stack import StackSpec
from llmpod.yamlio.reader import load_yaml

STACKS = Path(__file__).resolve().parents[2] / "stacks"

#: Strings that break one grammar or another: shell, systemd, YAML, PromQL, IAM,
#: paths, terminals, Jinja, and sizes that crashed main before issue 10.
INJECTIONS = [
    "us-east-1;touch /tmp/pwned;",
    "$(id)",
    "`id`",
    "${IFS}id",
    "a\nExecStartPre=/bin/sh",
    "x\r\ny",
    " --privileged -v /:/host",
    "\x00",
    "\x01\x1b[31m",
    "{{ 7*7 }}",
    "{% raw %}",
    "'\"",
    "\\",
    "a: b",
    "- x",
    "#",
    "&a",
    "*a",
    "!!python/object:os.system",
    "s3://*/models",
    "s3://llmpod-models/*",
    "arn:aws:s3:::*",
    "../../etc/passwd",
    "/",
    "..",
    "*",
    '"} or vector(1) #',
    "名前",
    "\u202eevil",
    "x" * 300,
    "a" * 5000,
    "hf://org/name@$(id)",
    "ghcr.io/x/y:tag --entrypoint=/bin/sh",
    "🙂",
    " ",
    "",
]

SCALARS = (
    st.sampled_from(INJECTIONS)
    | st.text(max_size=40)
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.booleans()
    | st.none()
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=12) | st.integers(), inner, max_size=4)
    ),
    max_leaves=12,
)


@cache
def _shipped(stack: str) -> dict[str, Any]:
    doc: dict[str, Any] = YAML(typ="safe", pure=True).load(
        (STACKS / f"Pulumi.{stack}.yaml").read_text()
    )
    return doc


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _paths(value, (*prefix, i))
    return found


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        node = node[part]
    return node


def _string_paths(node: Any) -> list[tuple[Any, ...]]:
    return [p for p in _paths(node) if isinstance(_get(node, p), str)]


def _with(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


def _dump(doc: Any) -> bytes:
    buf = io.StringIO()
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.dump(doc, buf)
    return buf.getvalue().encode("utf-8", "surrogatepass")


def _load_spec(raw: bytes) -> StackSpec | None:
    """The offline commands' path: read the file, validate; None when refused cleanly."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "Pulumi.fuzz.yaml"
        path.write_bytes(raw)
        try:
            return StackSpec.from_config(read_stack_config(path), where=str(path))
        except LlmpodError as err:
            assert err.exit_code == 1 and err.code
            assert len(err.render()) < 4000, "error messages must cut long values"
            return None


# --- the loader and the spec, fast: many examples --------------------------------------


@settings(max_examples=300)
@given(st.binary(max_size=600))
def test_any_bytes_are_a_spec_or_a_clean_error(raw: bytes) -> None:
    _load_spec(raw)


YAML_TOKENS = st.sampled_from(
    [
        "config:",
        "\n",
        "  ",
        "- ",
        ": ",
        "llmpod:services:",
        "name: x",
        "&a ",
        "*a",
        "[",
        "]",
        "{",
        "}",
        ",",
        "1e308",
        ".inf",
        ".nan",
        "9" * 80,
        "0x" + "f" * 40,
        "'",
        '"',
        "? ",
        "!!",
        "!foo ",
        "<<: *a",
        "%YAML 1.2\n",
        "---\n",
        "...\n",
        "\t",
        "\xff",
        "#c",
        "|\n",
        ">\n",
    ]
)


@settings(max_examples=300)
@given(st.lists(YAML_TOKENS, max_size=40).map("".join))
def test_yaml_shaped_text_is_a_spec_or_a_clean_error(text: str) -> None:
    _load_spec(text.encode("utf-8", "surrogateescape"))


@settings(max_examples=150)
@given(st.data())
def test_a_shipped_stack_with_one_value_replaced_is_a_spec_or_a_clean_error(
    data: st.DataObject,
) -> None:
    stack = data.draw(st.sampled_from(["dev", "staging", "production"]))
    doc = _shipped(stack)
    path = data.draw(st.sampled_from(_paths(doc)))
    _load_spec(_dump(_with(doc, path, data.draw(VALUES))))


@settings(max_examples=150)
@given(st.data())
def test_injection_strings_in_every_string_field(data: st.DataObject) -> None:
    stack = data.draw(st.sampled_from(["dev", "staging", "production"]))
    doc = _shipped(stack)
    path = data.draw(st.sampled_from(_string_paths(doc)))
    _load_spec(_dump(_with(doc, path, data.draw(st.sampled_from(INJECTIONS)))))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "config:\n  a: &a [1,1,1,1,1,1,1,1,1,1]\n"
            + "".join(
                f"  b{i}: &b{i} [" + ",".join([f"*{'a' if i == 0 else f'b{i - 1}'}"] * 10) + "]\n"
                for i in range(6)
            ),
            "alias bomb",
        ),
        ("config:\n  x: " + "[" * 500 + "]" * 500 + "\n", "nested more than 64 levels"),
        ("config:\n  x: " + "9" * 5000 + "\n", "an integer with 5,000 digits"),
        ("config:\n  x: 1e308\n", "1e308 is too large"),
        ("config:\n  x: -.inf\n", r"-\.inf is not a finite number"),
        ("config:\n  1: x\n", "mapping key '1' is read as int"),
        ("config:\n  a: 1\n  a: 2\n", "duplicate key"),
        ("config:\n  a: !!python/object:os.system x\n", "explicit YAML tag"),
        ("config:\n  a: &r [*r]\n", "recursive structure"),
    ],
    ids=[
        "alias-bomb",
        "nest-500",
        "int-5000",
        "1e308",
        "inf",
        "int-key",
        "duplicate",
        "tag",
        "recursive",
    ],
)
def test_each_limit_has_its_own_message(text: str, message: str) -> None:
    with pytest.raises(LlmpodError, match=message):
        load_yaml(text.encode(), "Pulumi.x.yaml")
    with pytest.raises(LlmpodError, match=message):  # promote and diff's reader too
        load_yaml(text.encode(), "Pulumi.x.yaml", round_trip=True)


def test_an_oversized_file_is_refused_before_parsing() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"the file is 1,048,\d{3} bytes; stack files are "
        r"limited to 1,048,576",
    ):
        load_yaml(b"config:\n  x: '" + b"a" * (1024 * 1024) + b"'\n", "Pulumi.x.yaml")


def test_an_oversized_file_states_its_real_size(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(b"config:\n  x: '" + b"z" * 6_000_000 + b"'\n")
    with pytest.raises(LlmpodError, match=r"the file is 6,000,016 bytes"):
        read_stack_config(path)


def test_non_utf8_names_the_line() -> None:
    with pytest.raises(
        LlmpodError,
        match=r"Pulumi.x.yaml line 3: byte \d+ \(b'\\xff'\) is not "
        r"UTF-8",
    ):
        load_yaml(b"config:\n  a: 1\n  b: \xff\n", "Pulumi.x.yaml")


def test_a_six_megabyte_value_is_not_echoed(tmp_path: Path) -> None:
    text = (
        (STACKS / "Pulumi.dev.yaml").read_text().replace("name: qwen-7b", "name: " + "z" * 600_000)
    )
    raw = text.encode()
    assert _load_spec(raw) is None
    path = tmp_path / "Pulumi.x.yaml"
    path.write_bytes(raw)
    with pytest.raises(LlmpodError) as info:
        StackSpec.from_config(read_stack_config(path), where=str(path))
    assert len(info.value.render()) < 2000 and "600000 characters" in info.value.render()


# --- render, slower: fewer examples, the real CLI in-process ----------------------------


def _tree(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@cache
def _rendered_before() -> tuple[Path, dict[str, str]]:
    """A previous render's output that every failed fuzz render must leave alone."""
    out = Path(tempfile.mkdtemp(prefix="llmpod-fuzz-")) / "out"
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["render", "dev", "--out", str(out)]) == 0
    return out, _tree(out)


def _render(raw: bytes) -> None:
    out, before = _rendered_before()
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "Pulumi.fuzz.yaml").write_bytes(raw)
        err = io.StringIO()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            rc = main(["render", "fuzz", "--stacks-dir", tmp, "--out", str(out)])
    message = err.getvalue()
    event(f"render exit {rc}")  # --hypothesis-show-statistics: how many rendered
    assert "Traceback" not in message and "internal error" not in message, message[:2000]
    if rc != 0:
        assert rc in (1, 2) and message.startswith("error: ") and len(message) < 4000, message
        assert _tree(out) == before, "a failed render changed the output directory"
        return
    y = YAML(typ="safe", pure=True)
    for path in sorted(out.rglob("*.yaml")):
        if path.name.startswith("user-data"):
            continue  # cloud-init, not a Kubernetes object
        obj = y.load(path.read_text())
        try:
            validate_object(obj)
        except ManifestInvalid as exc:
            pytest.fail(f"accepted spec rendered an invalid object {path.name}: {exc}")
    # restore the reference output for the next example
    with contextlib.redirect_stdout(io.StringIO()):
        assert main(["render", "dev", "--out", str(out)]) == 0
    assert _tree(out) == before


RENDER_SETTINGS = settings(max_examples=20, suppress_health_check=[HealthCheck.too_slow])


def _like(value: Any) -> st.SearchStrategy[Any]:
    """Mostly values of the original's type and shape, so that many mutated specs
    are accepted and rendered (their manifests then validated), not only refused."""
    if isinstance(value, bool):
        typed: st.SearchStrategy[Any] = st.booleans()
    elif isinstance(value, int):
        typed = st.integers(0, 100_000)
    elif isinstance(value, float):
        typed = st.floats(0.01, 1e4)
    else:
        typed = st.from_regex(r"[a-z][a-z0-9-]{0,20}[a-z0-9]", fullmatch=True)
    return st.one_of(typed, typed, typed, SCALARS)


@RENDER_SETTINGS
@given(st.data())
def test_render_of_a_dev_stack_with_one_value_replaced(data: st.DataObject) -> None:
    doc = _shipped("dev")
    leaves = [p for p in _paths(doc) if not isinstance(_get(doc, p), dict | list)]
    path = data.draw(st.sampled_from(leaves))
    original = _get(doc, path)
    _render(_dump(_with(doc, path, data.draw(_like(original)))))


@RENDER_SETTINGS
@given(st.data())
def test_render_with_an_injection_string_in_a_string_field(data: st.DataObject) -> None:
    doc = _shipped("dev")
    path = data.draw(st.sampled_from(_string_paths(doc)))
    _render(_dump(_with(doc, path, data.draw(st.sampled_from(INJECTIONS)))))
