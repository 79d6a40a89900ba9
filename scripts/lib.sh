# Shared by the scripts: where builds go, and idempotent installs of what they need.
# Each install checks first, so a second run does no work.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The script that sourced this one, by a path that holds after a `cd`.
SCRIPT="$(cd "$(dirname "$0")" && pwd)/$(basename "$0")"
# Builds outside the checkout, so fresh clones (CI) reuse compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/podterm-target}"
PYTHON_KUBERNETES_VERSION="37.0.2"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Runs the calling script again with a temporary directory of its own (TMPDIR), removed
# when it ends: servers stopped by a signal, and clusters held until their process exits,
# leave their folders in it. Open to all like /tmp, since containers run as other users.
run_with_own_tmpdir() {
    [ -n "${PODTERM_OWN_TMPDIR:-}" ] && return 0
    local scratch status=0
    scratch=$(mktemp -d "${TMPDIR:-/tmp}/podterm-$(basename "$SCRIPT").XXXXXX")
    chmod 1777 "$scratch"
    PODTERM_OWN_TMPDIR="$scratch" TMPDIR="$scratch" "$SCRIPT" "$@" || status=$?
    rm -rf "$scratch"
    exit "$status"
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=""
ensure_debian_package() {
    local package="$1"
    if dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        return
    fi
    say "installing Debian package $package"
    if [ -z "$apt_updated" ]; then
        as_root apt-get update -qq
        apt_updated=1
    fi
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$package" >/dev/null
}

ensure_kubectl() {
    if ! command -v kubectl >/dev/null; then
        echo "kubectl is not installed; the conformance tests drive the real kubectl (v1.30 or newer)." >&2
        exit 1
    fi
}

ensure_python_kubernetes() {
    local python="${PYTHON:-python3}"
    if "$python" -c "import kubernetes, sys; sys.exit(kubernetes.__version__ != '$PYTHON_KUBERNETES_VERSION')" 2>/dev/null; then
        return
    fi
    say "installing the official Kubernetes Python client $PYTHON_KUBERNETES_VERSION"
    "$python" -m pip install --quiet --disable-pip-version-check "kubernetes==$PYTHON_KUBERNETES_VERSION"
}

# What the testcluster needs to give containers real shells.
ensure_testcluster_prerequisites() {
    ensure_debian_package busybox-static
    ensure_debian_package util-linux
    # The distroless demo image's program is a static C program built with the crate.
    ensure_debian_package gcc
    ensure_debian_package libc6-dev
    ensure_kubectl
}

# The versions the build needs; wasm-bindgen-cli must match the wasm-bindgen crate exactly.
CARGO_LEPTOS_VERSION="0.3.10"

ensure_wasm_target() {
    if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
        say "adding the wasm32-unknown-unknown target"
        rustup target add wasm32-unknown-unknown
    fi
}

ensure_cargo_leptos() {
    if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then
        return
    fi
    say "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once)"
    cargo install cargo-leptos --locked --version "$CARGO_LEPTOS_VERSION" --features no_downloads
}

ensure_wasm_bindgen_cli() {
    local wanted
    wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, "", $0); print; exit }' "$ROOT/Cargo.lock")
    if wasm-bindgen --version 2>/dev/null | grep -q "$wanted"; then
        return
    fi
    say "installing wasm-bindgen-cli $wanted (matches Cargo.lock; a few minutes, once)"
    # Not --locked: that lockfile names a crate version the registry no longer serves.
    cargo install wasm-bindgen-cli --version "$wanted" --force
}

ensure_npm_packages() {
    # node_modules is current when its lock copy matches package-lock.json.
    if [ -f "$ROOT/node_modules/.package-lock.json" ] && [ -f "$ROOT/public/vendor/xterm/xterm-bundle.mjs" ] \
        && [ "$ROOT/node_modules/.package-lock.json" -nt "$ROOT/package-lock.json" ]; then
        return
    fi
    say "installing the pinned npm packages (xterm.js, Playwright)"
    (cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
}

# Everything `cargo leptos build` needs, and the compressor for its output.
ensure_site_toolchain() {
    ensure_wasm_target
    ensure_cargo_leptos
    ensure_wasm_bindgen_cli
    ensure_npm_packages
    ensure_debian_package zopfli
}

# A free port on loopback.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until URL answers, or fails after SECONDS.
wait_for_url() {
    local url="$1" seconds="${2:-60}"
    for _ in $(seq "$((seconds * 10))"); do
        if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "nothing answered at $url after ${seconds}s" >&2
    return 1
}

# The real control plane (kube-apiserver, etcd, kubectl), built from the versions pinned in
# controlplane/go.mod into a directory named after them, so a new pin rebuilds.
go_mod_version() {
    awk -v module="$1" '$1 == module { print $2; exit }' "$ROOT/controlplane/go.mod"
}

ensure_go() {
    if ! command -v go >/dev/null && [ -x /usr/local/go/bin/go ]; then
        export PATH="/usr/local/go/bin:$PATH"
    fi
    if ! command -v go >/dev/null; then
        echo "Go (1.26 or newer) is needed to build the real control plane; see the README." >&2
        exit 1
    fi
}

# The -X flags Kubernetes' release builds set (hack/lib/version.sh), so /version and
# `kubectl version` report the pinned release.
control_plane_ldflags() {
    local version="$1" date="$2" minor flags="-s -w" package
    minor="${version#v1.}"
    minor="${minor%%.*}"
    for package in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        flags+=" -X $package.gitVersion=$version -X $package.gitMajor=1 -X $package.gitMinor=$minor"
        flags+=" -X $package.gitTreeState=clean -X $package.gitCommit= -X $package.buildDate=$date"
    done
    echo "$flags"
}

ensure_control_plane() {
    local kubernetes etcd bin
    kubernetes=$(go_mod_version k8s.io/kubernetes)
    etcd=$(go_mod_version go.etcd.io/etcd/server/v3)
    bin="$HOME/.cache/podterm-controlplane/$kubernetes-etcd${etcd#v}/bin"
    export PODTERM_CONTROL_PLANE_BIN="$bin"
    if [ -x "$bin/kube-apiserver" ] && [ -x "$bin/etcd" ] && [ -x "$bin/kubectl" ]; then
        return
    fi
    ensure_go
    say "building kube-apiserver, kubectl $kubernetes and etcd $etcd from Go modules (about 12 minutes, once)"
    local partial="$bin.partial" date ldflags
    rm -rf "$partial"
    mkdir -p "$partial"
    (
        cd "$ROOT/controlplane"
        date=$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' k8s.io/kubernetes)
        ldflags=$(control_plane_ldflags "$kubernetes" "$date")
        go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$partial/" \
            k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl
        go build -trimpath -buildvcs=false -ldflags "-s -w" -o "$partial/etcd" go.etcd.io/etcd/server/v3
    )
    # Renamed only when complete, so an interrupted build is redone.
    rm -rf "$bin"
    mv "$partial" "$bin"
}
