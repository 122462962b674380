"""How a project's CI installs llmpod: the same llmpod that ran `llmpod init`.

No llmpod release is published on PyPI, so ``llmpod==VERSION`` cannot be installed
anywhere. The two ways README documents are what CI repeats, read from how this
llmpod was installed (PEP 610's ``direct_url.json``, which pip writes):

* from git (``pip install 'llmpod @ git+https://…@COMMIT'``): the same URL pinned to
  the commit pip resolved;
* from a wheel file (``python -m pip wheel --no-deps -w dist .`` then ``pip install
  dist/llmpod-*.whl``): that wheel, copied into the project as ``.llmpod/<wheel>``
  (committed with it) and installed from there.

Anything else (an editable checkout, an unknown installer) gets the wheel path with a
note saying where to put the wheel. ``llmpod init --install SPEC`` overrides all of
this. The result is the single line of ``.llmpod/requirements.txt``, which both
workflows install with ``pip install -r``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from llmpod.errors import LlmpodError, shorten

#: Where the project keeps the install line (and a copied wheel).
INSTALL_DIR = ".llmpod"
REQUIREMENTS = f"{INSTALL_DIR}/requirements.txt"
#: One requirement: printable, no leading '-' (pip options such as --index-url).
_SPEC = re.compile(r"^[^\s\-#][^\x00-\x1f\x7f]{0,499}$")
_COMMIT = re.compile(r"^[0-9a-f]{7,64}$")


@dataclass(frozen=True)
class InstallSource:
    requirement: str
    """The line of .llmpod/requirements.txt."""
    wheel: Path | None = None
    """A wheel to copy into the project as ``.llmpod/<name>``."""
    note: str | None = None
    """What the user still has to do, when llmpod could not tell."""


def wheel_name(version: str) -> str:
    return f"llmpod-{version}-py3-none-any.whl"


def _direct_url() -> dict[str, object] | None:
    try:
        text = distribution("llmpod").read_text("direct_url.json")
    except PackageNotFoundError:
        return None
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _without_credentials(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def detect_source(version: str) -> InstallSource:
    """How CI should install the llmpod that is running now."""
    fallback = InstallSource(
        requirement=f"./{INSTALL_DIR}/{wheel_name(version)}",
        note=f"this llmpod was not installed from a wheel file or a git URL, so CI cannot "
        f"repeat its install: put the wheel (`python -m pip wheel --no-deps -w dist .` in "
        f"llmpod's checkout) at {INSTALL_DIR}/{wheel_name(version)} and commit it, or write "
        f"`llmpod @ git+https://<host>/<you>/llmpod@<commit>` into {REQUIREMENTS}",
    )
    data = _direct_url()
    url = data.get("url") if data else None
    if not data or not isinstance(url, str):
        return fallback
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict) and vcs.get("vcs") == "git":
        commit = vcs.get("commit_id")
        if isinstance(commit, str) and _COMMIT.fullmatch(commit):
            sub = data.get("subdirectory")
            tail = f"#subdirectory={sub}" if isinstance(sub, str) and sub else ""
            return InstallSource(f"llmpod @ git+{_without_credentials(url)}@{commit}{tail}")
        return fallback
    if isinstance(data.get("archive_info"), dict) and url.startswith("file://"):
        wheel = Path(unquote(urlsplit(url).path))
        if wheel.suffix == ".whl" and wheel.is_file():
            return InstallSource(f"./{INSTALL_DIR}/{wheel.name}", wheel=wheel)
        return InstallSource(
            f"./{INSTALL_DIR}/{wheel.name}",
            note=f"the wheel this llmpod was installed from, {shorten(str(wheel), 200)}, is "
            f"gone: build it again and copy it to {INSTALL_DIR}/{wheel.name}",
        )
    return fallback


def explicit_source(spec: str) -> InstallSource:
    """``llmpod init --install SPEC``: one pip requirement, checked before use."""
    if not _SPEC.fullmatch(spec):
        raise LlmpodError(
            code="bad_argument",
            message=f"--install {shorten(spec, 100)} is not one pip requirement (one printable "
            f"line, not starting with '-').",
            suggestions=[
                "e.g. --install 'llmpod @ git+https://github.com/<you>/llmpod@<commit>'",
                f"or --install ./{INSTALL_DIR}/llmpod-<version>-py3-none-any.whl",
            ],
        )
    return InstallSource(spec)


def requirements_text(source: InstallSource) -> str:
    return (
        "# How CI installs llmpod (written by `llmpod init`; both workflows run\n"
        f"# `python -m pip install -r {REQUIREMENTS}` from the repository root).\n"
        f"{source.requirement}\n"
    )
