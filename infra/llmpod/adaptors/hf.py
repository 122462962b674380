"""Fetch a model's ``config.json`` from the Hugging Face Hub (huggingface_hub).

Why our own offline switch: huggingface_hub reads ``HF_HUB_OFFLINE`` and
``HF_ENDPOINT`` once, when it is first imported (``huggingface_hub.constants``,
true for 0.2x through 2.x). llmpod reads both at call time and passes them
explicitly (``local_files_only`` / ``endpoint``), so the behaviour does not
depend on which module happened to import the SDK first.
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path
from urllib.parse import urlsplit

from llmpod.adaptors import import_sdk
from llmpod.errors import LlmpodError, shown

CONFIG_FILENAME = "config.json"
#: Seconds to wait for the Hub's metadata answer before falling back to the cache.
_ETAG_TIMEOUT_S = 10.0
#: Seconds to wait for the Hub's host name to resolve before asking the Hub anyway.
_RESOLVE_TIMEOUT_S = 3.0
_DEFAULT_ENDPOINT = "https://huggingface.co"
_TRUTHY = {"1", "true", "yes", "on"}


def offline_mode() -> bool:
    """True when the user asked for no network (huggingface_hub's own variable)."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUTHY


def download_config(repo_id: str, revision: str, *, cache_dir: Path | None = None) -> Path:
    """Path of ``config.json`` for ``repo_id@revision``, downloaded or from the cache.

    Raises ``LlmpodError`` with code ``model_config_unreachable`` (network,
    offline and not cached), ``unknown_model`` (no such repo, or gated without
    a token) or ``model_config_missing`` (repo or revision without the file).
    """
    hub = import_sdk(
        "huggingface_hub", purpose="Reading hf:// model references", package="huggingface_hub"
    )
    errors = import_sdk(
        "huggingface_hub.errors",
        purpose="Reading hf:// model references",
        package="huggingface_hub",
    )
    ref = f"hf://{repo_id}@{revision}"
    offline = offline_mode()
    endpoint = os.environ.get("HF_ENDPOINT") or None
    # Offline is evident when the Hub's name does not resolve: huggingface_hub would
    # retry its HEAD request five times with back-off (about 25 s) before failing the
    # same way, so only the local cache is asked.
    dark_host = None if offline else _unresolvable_host(endpoint or _DEFAULT_ENDPOINT)
    try:
        path = hub.hf_hub_download(
            repo_id=repo_id,
            filename=CONFIG_FILENAME,
            revision=revision,
            cache_dir=str(cache_dir) if cache_dir else None,
            local_files_only=offline or dark_host is not None,
            endpoint=endpoint,
            etag_timeout=_ETAG_TIMEOUT_S,
        )
    except errors.GatedRepoError as exc:
        raise LlmpodError(
            code="model_config_unreachable",
            message=f"{ref} is a gated repository and the Hub refused access to its config.json.",
            suggestions=[
                "accept the model's licence on huggingface.co and set HF_TOKEN",
                "or download config.json yourself and pass its path",
            ],
        ) from exc
    except errors.RepositoryNotFoundError as exc:
        raise LlmpodError(
            code="unknown_model",
            message=(
                f"{ref}: the Hugging Face Hub has no repository {repo_id!r} "
                "(or it is private and no token was sent)."
            ),
            suggestions=[
                "check the org/name spelling on huggingface.co",
                "set HF_TOKEN for a private repository",
                "or use a catalog name from `llmpod catalog models`",
            ],
        ) from exc
    except errors.RevisionNotFoundError as exc:
        raise LlmpodError(
            code="model_config_missing",
            message=f"{ref}: repository {repo_id!r} has no revision {revision!r}.",
            suggestions=[
                "use a branch, tag or full commit hash that exists",
                f"or drop '@{revision}' to use main",
            ],
        ) from exc
    except errors.EntryNotFoundError as exc:
        # RemoteEntryNotFoundError (2.x) subclasses it; LocalEntryNotFoundError
        # is handled below because it means "not cached", not "not there".
        if isinstance(exc, errors.LocalEntryNotFoundError):
            raise _unreachable(ref, offline, exc, dark_host) from exc
        raise LlmpodError(
            code="model_config_missing",
            message=f"{ref} has no {CONFIG_FILENAME} at its top level.",
            suggestions=[
                "point at the repository that holds the model weights and config.json",
                "or pass a local path to the config.json",
            ],
        ) from exc
    except (errors.LocalEntryNotFoundError, errors.HfHubHTTPError, OSError) as exc:
        raise _unreachable(ref, offline, exc, dark_host) from exc
    except errors.HFValidationError as exc:
        # huggingface_hub validates ids before any request (validate_repo_id).
        raise LlmpodError(
            code="unknown_model",
            message=f"{shown(ref)} is not a valid Hugging Face repo id and revision: "
            f"{str(exc)[:200]}",
            suggestions=[
                "write hf://org/name[@revision] with letters, digits, '-', '_' and "
                "'.', each part starting and ending with a letter or digit"
            ],
        ) from exc
    return Path(path)


def _unresolvable_host(endpoint: str) -> str | None:
    """The endpoint's host name when it evidently does not resolve (no network, no
    DNS), else None. The lookup runs in a daemon thread and is given
    ``_RESOLVE_TIMEOUT_S``: a resolver that hangs proves nothing, so the Hub is
    then asked as usual (with its own timeouts)."""
    host = urlsplit(endpoint).hostname
    if not host:
        return None
    outcome: list[BaseException | None] = []

    def lookup() -> None:
        try:
            socket.getaddrinfo(host, None)
            outcome.append(None)
        except OSError as exc:
            outcome.append(exc)

    thread = threading.Thread(target=lookup, name="llmpod-hf-resolve", daemon=True)
    thread.start()
    thread.join(_RESOLVE_TIMEOUT_S)
    return host if outcome and isinstance(outcome[0], socket.gaierror) else None


def _unreachable(
    ref: str, offline: bool, exc: BaseException, dark_host: str | None = None
) -> LlmpodError:
    why = (
        "HF_HUB_OFFLINE is set and the file is not in the local cache"
        if offline
        else f"the Hub's host name {dark_host!r} does not resolve (no network or no DNS) "
        "and the file is not in the local cache"
        if dark_host
        else f"the Hugging Face Hub could not be reached ({type(exc).__name__})"
    )
    return LlmpodError(
        code="model_config_unreachable",
        message=f"Cannot read config.json for {ref}: {why}.",
        suggestions=[
            "check network access to huggingface.co (or HF_ENDPOINT)",
            "set HF_TOKEN if the repository is gated or private",
            "unset HF_HUB_OFFLINE, or download config.json and pass its path instead",
        ],
    )
