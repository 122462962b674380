#!/usr/bin/env bash
# A real Kubernetes control plane on 127.0.0.1, without Docker: kine (etcd API over
# SQLite), kube-apiserver v1.37.2 and three controllers of kube-controller-manager
# v1.37.2, all built from pinned Go modules by scripts/install_pulumi_toolchain.sh.
#
# Usage: scripts/local_cluster.sh up DIR     # prints DIR/kubeconfig as its last line
#        scripts/local_cluster.sh down DIR   # stops what `up` started, removes DIR's state
#
# What `up` does, in order: a fresh SQLite database (a namespace deleted without a
# namespace controller stays Terminating forever, so state never outlives a run);
# a CA, a serving certificate for 127.0.0.1 and a service-account key pair made
# with openssl; a random bearer token in group system:masters; kine and then
# kube-apiserver listening on free loopback ports only; then the custom resource
# definitions llmpod renders against, from their upstream sources at pinned
# versions (the Go module zips of each project, checksummed by the Go sum
# database); and finally DIR/kubeconfig.
#
# What it is not: there is no kubelet or scheduler, and kube-controller-manager runs
# only the three controllers that finish a delete: the namespace controller (a
# deleted Namespace is emptied and removed instead of staying Terminating), the
# PVC-protection controller (it removes the kubernetes.io/pvc-protection finalizer
# admission puts on every claim) and the garbage collector (it removes the
# foregroundDeletion finalizer the Kubernetes provider's deletes ask for). Objects
# are stored, validated, defaulted and admitted exactly as a cluster would, but no
# pod is ever created (no Deployment, Job or LeaderWorkerSet controller), so nothing
# becomes ready: use LLMPOD_SKIP_AWAIT=1.
set -euo pipefail

KUBERNETES_VERSION="v1.37.2"
# The kube-controller-manager controllers that finish a delete (see above).
CONTROLLERS="namespace-controller,persistentvolumeclaim-protection-controller"
CONTROLLERS+=",garbage-collector-controller"
# Custom resources llmpod can render, and where each definition comes from.
#   module@version  path-in-module-zip
# (KEDA v2.21 needs Go 1.27; v2.20.2 is the newest this machine's Go 1.26 can fetch.)
CRD_SOURCES=(
  "sigs.k8s.io/lws@v0.8.0 config/crd/bases/leaderworkerset.x-k8s.io_leaderworkersets.yaml"
  "github.com/kedacore/keda/v2@v2.20.2 config/crd/bases/keda.sh_scaledobjects.yaml"
  "github.com/kedacore/keda/v2@v2.20.2 config/crd/bases/keda.sh_triggerauthentications.yaml"
  "github.com/prometheus-operator/prometheus-operator@v0.85.0 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml"
)

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
log() { echo "[local_cluster] $*" >&2; }
die() { log "$*"; exit 1; }
python_bin="${LLMPOD_PYTHON:-python3}"

usage() { die "usage: $0 up DIR | down DIR"; }
[[ $# -eq 2 ]] || usage
action="$1"
dir="$2"

stop_pid() { # pidfile: TERM, wait up to 15 s, then KILL; only a process we started
  local file="$1" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$file"
}

down() {
  stop_pid "$dir/kube-controller-manager.pid"
  stop_pid "$dir/kube-apiserver.pid"
  stop_pid "$dir/kine.pid"
  rm -rf "$dir/state" "$dir/pki" "$dir/kubeconfig" "$dir/tokens.csv"
  log "stopped; state removed from $dir"
}

free_port() {
  "$python_bin" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

make_pki() {
  local pki="$dir/pki"
  mkdir -p "$pki" && chmod 700 "$pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=llmpod-local-ca" \
    -keyout "$pki/ca.key" -out "$pki/ca.crt" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj "/CN=kube-apiserver" \
    -keyout "$pki/apiserver.key" -out "$pki/apiserver.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\n' >"$pki/san.ext"
  openssl x509 -req -in "$pki/apiserver.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" \
    -CAcreateserial -days 2 -extfile "$pki/san.ext" -out "$pki/apiserver.crt" 2>/dev/null
  openssl genrsa -out "$pki/sa.key" 2048 2>/dev/null
  openssl rsa -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
}

wait_ready() { # url token cacert seconds
  local deadline=$((SECONDS + $4))
  until curl -sf --max-time 5 --cacert "$3" -H "Authorization: Bearer $2" "$1/readyz" >/dev/null; do
    if ((SECONDS > deadline)); then
      log "kube-apiserver not ready after $4 s; last log lines:"
      tail -n 30 "$dir/kube-apiserver.log" >&2 || true
      return 1
    fi
    if ! kill -0 "$(cat "$dir/kube-apiserver.pid")" 2>/dev/null; then
      log "kube-apiserver exited; last log lines:"
      tail -n 30 "$dir/kube-apiserver.log" >&2 || true
      return 1
    fi
    sleep 1
  done
}

crd_files() { # prints one CRD file path per line, downloading the pinned module zips
  local tmp entry module path json mdir
  tmp="$(mktemp -d)"
  for entry in "${CRD_SOURCES[@]}"; do
    module="${entry%% *}"
    path="${entry#* }"
    # Outside any module: only the zip (no dependencies), verified against the sum database.
    json="$(cd "$tmp" && GOFLAGS=-mod=mod go mod download -json "$module")" ||
      die "go mod download $module failed: $json"
    mdir="$("$python_bin" -c 'import json,sys; print(json.load(sys.stdin)["Dir"])' <<<"$json")"
    [[ -f "$mdir/$path" ]] || die "$module has no $path"
    echo "$mdir/$path"
  done
  rm -rf "$tmp"
}

up() {
  command -v openssl >/dev/null || die "openssl is needed to make the cluster's certificates"
  local bin
  bin="$(bash "$repo_root/scripts/install_pulumi_toolchain.sh" kine kube-apiserver \
    kube-controller-manager | tail -n 1)"
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  down 2>/dev/null # a previous run's processes and state never leak into this one
  mkdir -p "$dir/state"
  make_pki
  local token kine_port kine_metrics api_port kcm_port url
  token="$(openssl rand -hex 24)"
  printf '%s,llmpod-admin,llmpod-admin,"system:masters"\n' "$token" >"$dir/tokens.csv"
  chmod 600 "$dir/tokens.csv"
  kine_port="$(free_port)"
  kine_metrics="$(free_port)"
  api_port="$(free_port)"
  kcm_port="$(free_port)"

  setsid "$bin/kine" \
    --endpoint "sqlite://$dir/state/kine.db?_journal=WAL&cache=shared&_busy_timeout=30000" \
    --listen-address "127.0.0.1:$kine_port" \
    --metrics-bind-address "127.0.0.1:$kine_metrics" \
    >"$dir/kine.log" 2>&1 </dev/null &
  echo $! >"$dir/kine.pid"

  setsid "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$kine_port" \
    --storage-backend etcd3 \
    --bind-address 127.0.0.1 \
    --advertise-address 127.0.0.1 \
    --endpoint-reconciler-type none \
    --secure-port "$api_port" \
    --tls-cert-file "$dir/pki/apiserver.crt" \
    --tls-private-key-file "$dir/pki/apiserver.key" \
    --client-ca-file "$dir/pki/ca.crt" \
    --token-auth-file "$dir/tokens.csv" \
    --authorization-mode RBAC \
    --anonymous-auth=false \
    --service-account-issuer https://kubernetes.default.svc \
    --service-account-key-file "$dir/pki/sa.pub" \
    --service-account-signing-key-file "$dir/pki/sa.key" \
    --service-cluster-ip-range 10.96.0.0/16 \
    --profiling=false \
    --cert-dir "$dir/pki" \
    >"$dir/kube-apiserver.log" 2>&1 </dev/null &
  echo $! >"$dir/kube-apiserver.pid"

  url="https://127.0.0.1:$api_port"
  log "waiting for kube-apiserver $KUBERNETES_VERSION at $url"
  wait_ready "$url" "$token" "$dir/pki/ca.crt" 180 || { down; exit 1; }

  # Written as JSON (which YAML reads): DIR is the caller's path and may hold any
  # character; serialised, it cannot break the file or add keys to it.
  "$python_bin" - "$dir" "$url" "$token" >"$dir/kubeconfig" <<'PY'
import json, sys

state, url, token = sys.argv[1:4]
print(json.dumps({
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "llmpod-local",
                  "cluster": {"server": url, "certificate-authority": f"{state}/pki/ca.crt"}}],
    "users": [{"name": "llmpod-admin", "user": {"token": token}}],
    "contexts": [{"name": "llmpod-local",
                  "context": {"cluster": "llmpod-local", "user": "llmpod-admin"}}],
    "current-context": "llmpod-local",
}, indent=2))
PY
  chmod 600 "$dir/kubeconfig"

  setsid "$bin/kube-controller-manager" \
    --kubeconfig "$dir/kubeconfig" \
    --authentication-kubeconfig "$dir/kubeconfig" \
    --authorization-kubeconfig "$dir/kubeconfig" \
    --controllers "$CONTROLLERS" \
    --bind-address 127.0.0.1 \
    --secure-port "$kcm_port" \
    --cert-dir "$dir/pki/kcm" \
    --leader-elect=false \
    --profiling=false \
    >"$dir/kube-controller-manager.log" 2>&1 </dev/null &
  echo $! >"$dir/kube-controller-manager.pid"

  log "installing custom resource definitions"
  local crds
  crds="$(crd_files)" || { down; exit 1; }
  "$python_bin" "$repo_root/scripts/apply_crds.py" --kubeconfig "$dir/kubeconfig" <<<"$crds" ||
    { down; exit 1; }
  log "ready: KUBECONFIG=$dir/kubeconfig"
  echo "$dir/kubeconfig"
}

case "$action" in
  up) up ;;
  down) down ;;
  *) usage ;;
esac
