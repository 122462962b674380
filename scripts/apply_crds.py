"""Create CustomResourceDefinitions on an API server and wait until each is Established.

Used by scripts/local_cluster.sh (no kubectl is built): reads CRD manifest paths,
one per line, on stdin; talks to the server in a kubeconfig that local_cluster.sh
wrote (server URL, CA file, bearer token). Every request has a timeout, and the
whole wait is bounded.

usage: ... | python scripts/apply_crds.py --kubeconfig DIR/kubeconfig
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

CRD_PATH = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
ESTABLISH_TIMEOUT_S = 90


class Api:
    def __init__(self, kubeconfig: Path) -> None:
        config = YAML(typ="safe").load(kubeconfig.read_text(encoding="utf-8"))
        cluster = config["clusters"][0]["cluster"]
        self.server = cluster["server"].rstrip("/")
        self.token = config["users"][0]["user"]["token"]
        self.tls = ssl.create_default_context(cafile=cluster["certificate-authority"])

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=30, context=self.tls) as response:
                return response.status, json.loads(response.read(16 << 20) or b"null")
        except urllib.error.HTTPError as err:
            return err.code, err.read(1 << 20).decode("utf-8", "replace")


def _established(crd: Any) -> bool:
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kubeconfig", type=Path, required=True)
    args = parser.parse_args(argv)
    api = Api(args.kubeconfig)
    names: list[str] = []
    for line in sys.stdin:
        path = Path(line.strip())
        if not line.strip():
            continue
        for doc in YAML(typ="safe").load_all(path.read_text(encoding="utf-8")):
            if not doc or doc.get("kind") != "CustomResourceDefinition":
                continue
            name = doc["metadata"]["name"]
            status, answer = api.call("POST", CRD_PATH, doc)
            if status == 409:  # already there (a re-run against the same state)
                print(f"exists: {name}", file=sys.stderr)
            elif status >= 300:
                print(f"creating {name} from {path} failed ({status}): {answer}", file=sys.stderr)
                return 1
            else:
                print(f"created: {name} ({path.name})", file=sys.stderr)
            names.append(name)
    deadline = time.monotonic() + ESTABLISH_TIMEOUT_S
    for name in names:
        while True:
            status, crd = api.call("GET", f"{CRD_PATH}/{name}")
            if status == 200 and _established(crd):
                break
            if time.monotonic() > deadline:
                print(f"{name} not Established after {ESTABLISH_TIMEOUT_S} s", file=sys.stderr)
                return 1
            time.sleep(0.5)
    print(f"{len(names)} custom resource definitions established", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
