"""Hostile inputs through `llmpod verify`, `diagnose` and `init`, as a user runs them:
each case is one CLI process; it is scored as a clear error (exit 1-3, no traceback,
no "internal error"), an internal error, a traceback, or a hang (past 30 s), with its
wall time and peak memory (GNU time's max RSS).

    python benchmarks/reader_sweep.py [--module llmpod] [--python PY] [--json OUT]

``--module infra`` with ``--python`` and PYTHONPATH pointing at an older checkout runs
the same cases against it (the package was called ``infra`` before the rename), which
is how the before/after figures in the closing note were taken.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

HANG_S = 30.0

#: Raw answers a broken or hostile server gives (each served on its own port).
SERVERS: dict[str, bytes | str] = {
    "short body": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
    "bad status line": b"HTTP/1.1 OK-ish\r\n\r\n",
    "101 headers": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-%d: y\r\n" % i for i in range(101))
    + b"\r\n",
    "70 KB header line": b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n",
    "bad chunking": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhi\r\n0\r\n\r\n",
    "redirect to ftp": (
        b"HTTP/1.1 302 Found\r\nLocation: ftp://evil.example/x\r\nContent-Length: 0\r\n\r\n"
    ),
    "404 with a password in the URL": b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
    "drip a byte every 2 s": "drip",
    "deep JSON everywhere": "deep",
}


def _serve(raw: bytes | str) -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                request = conn.recv(65536)
                if raw == "drip":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
                    for _ in range(60):
                        time.sleep(2)
                        conn.sendall(b"#")
                elif raw == "deep":
                    body = b"[" * 100_000 + b"]" * 100_000
                    if b"/metrics" in request.split(b"\r\n", 1)[0]:
                        body = b"vllm:num_requests_running 0\n"
                    conn.sendall(
                        b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(body) + body
                    )
                else:
                    assert isinstance(raw, bytes)
                    conn.sendall(raw)
            except OSError:
                pass

    def loop() -> None:
        while True:
            try:
                conn, _ = sock.accept()
            except OSError:
                return
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return int(sock.getsockname()[1])


def _cases(work: Path) -> list[tuple[str, list[str]]]:
    plan = work / "plan.json"
    plan.write_text(json.dumps({"vllm_args": ["/models/x", "--max-model-len", "512"]}))
    fifo = work / "fifo.json"
    os.mkfifo(fifo)
    sparse = work / "sparse.json"
    with sparse.open("wb") as out:
        out.truncate(1 << 30)
    deep = work / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    bigint = work / "bigint.json"
    bigint.write_text('{"kv_cache_tokens": ' + "9" * 5000 + "}")
    bomb = work / "bomb.jsonl.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as out:
        chunk = b" " * (1 << 20)
        out.write(b"{")
        for _ in range(1024):  # 1 GiB inflated, ~1 MiB on disk
            out.write(chunk)
    nan = work / "nan.jsonl"
    nan.write_text('{"timestamp": NaN, "text": ""}\n{"timestamp": Infinity, "text": ""}\n')
    deep_rec = work / "deep.jsonl"
    deep_rec.write_text("[" * 200_000 + "]" * 200_000 + "\n")
    fifo_rec = work / "fifo.jsonl"
    os.mkfifo(fifo_rec)

    cases: list[tuple[str, list[str]]] = [
        ("verify --plan FIFO", ["verify", "--plan", str(fifo), "http://127.0.0.1:9"]),
        ("verify --plan /dev/zero", ["verify", "--plan", "/dev/zero", "http://127.0.0.1:9"]),
        (
            "verify --plan 1 GiB sparse file",
            ["verify", "--plan", str(sparse), "http://127.0.0.1:9"],
        ),
        (
            "verify --plan JSON nested 200,000 deep",
            ["verify", "--plan", str(deep), "http://127.0.0.1:9"],
        ),
        (
            "verify --plan 5,000-digit integer",
            ["verify", "--plan", str(bigint), "http://127.0.0.1:9"],
        ),
    ]
    for url, label in [
        ("http://127.0.0.1:99999", "port 99999"),
        ("http://127.0.0.1:8x0", "non-numeric port"),
        ("http://[::1", "broken IPv6 literal"),
        ("http://127.0.0.1:9/met rics", "space in the URL"),
        ("http://127.0.0.1:9/m\r\nX: y", "CR/LF in the URL"),
    ]:
        cases.append(
            (f"verify URL: {label}", ["verify", "--plan", str(plan), url, "--timeout", "5"])
        )
        cases.append(
            (f"diagnose URL: {label}", ["diagnose", url, "--window", "2s", "--interval", "1s"])
        )
    for label, raw in SERVERS.items():
        port = _serve(raw)
        base = f"http://127.0.0.1:{port}"
        if "password" in label:
            base = f"http://admin:hunter2@127.0.0.1:{port}"
        cases.append(
            (f"verify server: {label}", ["verify", "--plan", str(plan), base, "--timeout", "5"])
        )
        cases.append(
            (f"diagnose server: {label}", ["diagnose", base, "--window", "2s", "--interval", "1s"])
        )
    cases += [
        (
            "diagnose --interval 0.000001ms",
            ["diagnose", "http://127.0.0.1:9", "--interval", "0.000001ms"],
        ),
        ("diagnose --from-file gzip bomb (1 GiB inflated)", ["diagnose", "--from-file", str(bomb)]),
        ("diagnose --from-file NaN/Infinity timestamps", ["diagnose", "--from-file", str(nan)]),
        (
            "diagnose --from-file JSON nested 200,000 deep",
            ["diagnose", "--from-file", str(deep_rec)],
        ),
        ("diagnose --from-file FIFO", ["diagnose", "--from-file", str(fifo_rec)]),
    ]
    for label, setup in [
        ("dangling symlink at stacks/Pulumi.staging.yaml", "dangling"),
        ("a file named stacks", "stacks-file"),
        ("a file named .github", "github-file"),
        ("a symlink loop at stacks", "loop"),
    ]:
        target = work / f"init-{setup}"
        target.mkdir()
        if setup == "dangling":
            (target / "stacks").mkdir()
            (target / "stacks" / "Pulumi.staging.yaml").symlink_to(work / "gone")
        elif setup == "stacks-file":
            (target / "stacks").write_text("x\n")
        elif setup == "github-file":
            (target / ".github").write_text("x\n")
        else:
            (target / "stacks").symlink_to(target / "stacks")
        cases.append((f"init: {label}", ["init", str(target)]))
    return cases


def _run(python: str, module: str, argv: list[str]) -> dict[str, object]:
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["/usr/bin/time", "-f", "MAXRSS_KB=%M", python, "-m", f"{module}.cli.main", *argv],
            capture_output=True,
            text=True,
            timeout=HANG_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return {"outcome": "hang", "seconds": HANG_S, "rss_mb": None, "exit": None}
    seconds = time.monotonic() - started
    err = proc.stderr
    rss = next(
        (int(line.split("=")[1]) for line in err.splitlines() if line.startswith("MAXRSS_KB=")), 0
    )
    if "Traceback" in err:
        outcome = "traceback"
    elif "internal error" in err:
        outcome = "internal error"
    elif proc.returncode in (1, 2, 3):
        outcome = "clear error"
    else:
        outcome = f"exit {proc.returncode}"
    if "hunter2" in err + proc.stdout:
        outcome += " (password printed)"
    return {
        "outcome": outcome,
        "seconds": round(seconds, 2),
        "rss_mb": round(rss / 1024),
        "exit": proc.returncode,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--module", default="llmpod")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--json", type=Path)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="llmpod-sweep-") as tmp:
        cases = _cases(Path(tmp))
        results = {}
        for label, argv in cases:
            results[label] = _run(ns.python, ns.module, argv)
            r = results[label]
            print(
                f"{r['outcome']:<16} {r['seconds']:>6} s {r['rss_mb'] or 0:>5} MB  {label}",
                flush=True,
            )
    counts = Counter(str(r["outcome"]) for r in results.values())
    worst_s = max(float(r["seconds"]) for r in results.values())  # type: ignore[arg-type]
    worst_mb = max(int(r["rss_mb"] or 0) for r in results.values())  # type: ignore[call-overload]
    print(
        f"\n{len(results)} inputs: {dict(sorted(counts.items()))}; "
        f"slowest {worst_s} s, peak {worst_mb} MB"
    )
    if ns.json:
        ns.json.write_text(
            json.dumps({"counts": counts, "results": results}, indent=1, default=str) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
