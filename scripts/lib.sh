# Shared by the scripts: where builds go, and idempotent installs of what they need.
# Each install checks first, so a second run does no work.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Builds outside the checkout, so fresh clones (CI) reuse compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/podterm-target}"
PYTHON_KUBERNETES_VERSION="37.0.2"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

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
    ensure_kubectl
}
