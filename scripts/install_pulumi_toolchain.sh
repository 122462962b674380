#!/usr/bin/env bash
# Build the real Pulumi engine and a real Kubernetes control plane from pinned Go
# modules, once, and print the directory that holds the binaries (last line of stdout).
#
# Usage: scripts/install_pulumi_toolchain.sh            # everything
#        scripts/install_pulumi_toolchain.sh pulumi pulumi-resource-kubernetes
#        LLMPOD_TOOLCHAIN_DIR=/some/dir scripts/install_pulumi_toolchain.sh
#
# What it builds (each from a small tools module under scripts/toolchain/, whose
# go.mod/go.sum pin every dependency; nothing is vendored, no release binary is
# downloaded — sources come from the Go module proxy):
#   pulumi                      github.com/pulumi/pulumi/pkg/v3/cmd/pulumi        v3.276.0
#   pulumi-resource-kubernetes  github.com/pulumi/pulumi-kubernetes/provider/v4   release 4.25.0
#   kine                        github.com/k3s-io/kine                            v0.17.5
#   kube-apiserver              k8s.io/kubernetes/cmd/kube-apiserver              v1.37.2
#   kube-controller-manager     k8s.io/kubernetes/cmd/kube-controller-manager     v1.37.2
#     (scripts/local_cluster.sh runs only its namespace, PVC-protection and garbage-
#     collector controllers, so a destroy can finish: each removes finalizers nothing
#     else removes)
#
# Not built: the Python language host (github.com/pulumi/pulumi/sdk/python/cmd/
# pulumi-language-python/v3). It is its own module with pseudo-versions only, and the
# module proxy this project can reach answers 403 "This module version is not
# available" to its version list, to @latest and to every commit query tried. Tests
# drive the real CLI through the Automation API's inline programs instead, which
# need no language host (the Python SDK serves the program and passes --client).
# A Python policy pack does need it: CLI v3.276.0 starts every policy pack through its
# runtime's language host (NewPolicyAnalyzer in pkg/resource/plugin/analyzer_plugin.go;
# the old pulumi-analyzer-policy-python fallback is gone), so `--policy-pack` cannot run
# here; llmpod render runs the same rules (llmpod/policy/rules.py).
#
# Idempotent and cached: each binary has a stamp keyed on its tool's pinned module
# files and the Go version; a stamp is written only after the binary built and ran,
# so an interrupted build starts that tool again. Go's own module and build caches
# (GOMODCACHE, GOCACHE) make a rebuild after a pin change take minutes, not the cold
# half hour.
set -euo pipefail

PULUMI_VERSION="v3.276.0"
# The provider module has no semver tags on the proxy; this pseudo-version is the
# commit of pulumi-kubernetes v4.25.0 (keep the Python SDK pin in pyproject.toml equal).
K8S_PROVIDER_RELEASE="4.25.0"
K8S_PROVIDER_MODULE="github.com/pulumi/pulumi-kubernetes/provider/v4"
KINE_VERSION="v0.17.5"
KUBERNETES_VERSION="v1.37.2"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
modules="$repo_root/scripts/toolchain"
cache="${LLMPOD_TOOLCHAIN_DIR:-$repo_root/.cache/toolchain}"
bin="$cache/bin"
log() { echo "[install_pulumi_toolchain] $*" >&2; }

command -v go >/dev/null || { log "Go is not on PATH; install Go ≥ 1.26 first"; exit 1; }
mkdir -p "$bin" "$cache/stamps" "$cache/src"

# One build at a time per cache directory (two test sessions may start at once).
exec 9>"$cache/.lock"
flock 9

# The machine's Go builds everything (no toolchain download); pinned modules only.
export GOTOOLCHAIN=local GOFLAGS="-mod=readonly" CGO_ENABLED=0
go_version="$(go env GOVERSION)"

module_of() { # tool → its tools module under scripts/toolchain/
  case "$1" in
    kube-apiserver | kube-controller-manager) echo kubernetes ;;
    *) echo "$1" ;;
  esac
}

stamp_for() { # tool → stamp path keyed on its module files, this script and the Go version
  local tool="$1" module key
  module="$modules/$(module_of "$tool")"
  key="$(cat "$module"/go.mod "$module"/go.sum "$module"/*.go "${BASH_SOURCE[0]}" 2>/dev/null |
    sha256sum | cut -c1-16)"
  echo "$cache/stamps/$tool-$go_version-$key.ok"
}

timed_build() { # tool, then the command; logs wall time
  local tool="$1" t0
  shift
  t0=$(date +%s)
  log "building $tool (cold: many minutes on 2 cores; warm: seconds to minutes)"
  "$@" >&2
  log "built $tool in $(($(date +%s) - t0)) s ($(du -h "$bin/$tool.new" | cut -f1))"
}

install_built() { # tool, check-args...: run the new binary once, then move it in place
  local tool="$1"
  shift
  "$bin/$tool.new" "$@" >/dev/null 2>&1 || {
    log "$tool was built but '$tool $*' failed"
    exit 1
  }
  mv -f "$bin/$tool.new" "$bin/$tool"
}

build_pulumi() {
  # Release builds use these tags and set the version by ldflags; the Automation API
  # parses `pulumi version` and refuses a binary that reports none.
  timed_build pulumi go build -C "$modules/pulumi" -trimpath -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$bin/pulumi.new" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  install_built pulumi version
}

build_provider() {
  # The provider's upstream main embeds a schema its release build generates (not in
  # the module zip). Our main (scripts/toolchain/pulumi-resource-kubernetes/main.go)
  # embeds the same thing, produced here from the schema.json and
  # terraform-mapping.json the module ships, with the release version set.
  local src="$cache/src/pulumi-resource-kubernetes" module_dir
  rm -rf "$src" && mkdir -p "$src"
  cp "$modules/pulumi-resource-kubernetes"/{go.mod,go.sum,main.go} "$src/"
  module_dir="$(go list -C "$src" -m -f '{{.Dir}}' "$K8S_PROVIDER_MODULE" 2>/dev/null || true)"
  if [[ -z "$module_dir" ]]; then
    go mod download -C "$src" "$K8S_PROVIDER_MODULE" >&2
    module_dir="$(go list -C "$src" -m -f '{{.Dir}}' "$K8S_PROVIDER_MODULE")"
  fi
  python3 - "$module_dir/cmd/pulumi-resource-kubernetes" "$src" "$K8S_PROVIDER_RELEASE" <<'PY'
import json, sys
from pathlib import Path

shipped, out, release = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
schema = json.loads((shipped / "schema.json").read_text())
schema["version"] = release
(out / "schema-embed.json").write_text(json.dumps(schema, separators=(",", ":")))
mapping = json.loads((shipped / "terraform-mapping.json").read_text())
(out / "terraform-mapping-embed.json").write_text(json.dumps(mapping, separators=(",", ":")))
PY
  timed_build pulumi-resource-kubernetes go build -C "$src" -trimpath \
    -ldflags "-s -w -X $K8S_PROVIDER_MODULE/pkg/version.Version=$K8S_PROVIDER_RELEASE" \
    -o "$bin/pulumi-resource-kubernetes.new" .
  # A provider answers no flags; check it starts and prints its gRPC port, then stop it.
  local port
  port="$(timeout 20 "$bin/pulumi-resource-kubernetes.new" 2>/dev/null | head -1 || true)"
  [[ "$port" =~ ^[0-9]+$ ]] || { log "pulumi-resource-kubernetes did not start (got '$port')"; exit 1; }
  mv -f "$bin/pulumi-resource-kubernetes.new" "$bin/pulumi-resource-kubernetes"
}

build_kine() {
  timed_build kine go build -C "$modules/kine" -trimpath -ldflags "-s -w" \
    -o "$bin/kine.new" github.com/k3s-io/kine
  install_built kine --help
}

build_kubernetes() { # tool: kube-apiserver | kube-controller-manager
  # Clients (and the Kubernetes provider) refuse a server that reports v0.0.0: set the
  # version the way Kubernetes' own build does (hack/lib/version.sh).
  local tool="$1" pkg=k8s.io/component-base/version minor="${KUBERNETES_VERSION#v1.}"
  minor="${minor%%.*}"
  timed_build "$tool" go build -C "$modules/kubernetes" -trimpath -ldflags "-s -w \
    -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor \
    -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z" \
    -o "$bin/$tool.new" "k8s.io/kubernetes/cmd/$tool"
  install_built "$tool" --version
}

tools=("$@")
[[ ${#tools[@]} -gt 0 ]] ||
  tools=(pulumi pulumi-resource-kubernetes kine kube-apiserver kube-controller-manager)
for tool in "${tools[@]}"; do
  stamp="$(stamp_for "$tool")"
  if [[ -f "$stamp" && -x "$bin/$tool" ]]; then
    continue
  fi
  case "$tool" in
    pulumi) build_pulumi ;;
    pulumi-resource-kubernetes) build_provider ;;
    kine) build_kine ;;
    kube-apiserver | kube-controller-manager) build_kubernetes "$tool" ;;
    *)
      log "unknown tool '$tool' (pulumi, pulumi-resource-kubernetes, kine, kube-apiserver,"
      log "kube-controller-manager)"
      exit 1
      ;;
  esac
  rm -f "$cache/stamps/$tool-"*.ok
  touch "$stamp"
done
echo "$bin"
