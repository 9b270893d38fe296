# Sourced by the tools/ and bench/ scripts: strict mode, the repository root, and helpers for
# what each of them needs first. Usage: source "$(dirname "$0")/../tools/preamble.sh"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# A release build of cortado, quietly.
build_release() { swift build -c release "$@" >/dev/null; }

# Fashion-MNIST as HDF5 in data/fashion-mnist (from Debian's dataset package).
need_fashion_mnist() {
    [ -f data/fashion-mnist/train.h5 ] || bash data/fashion-mnist/get_fashion_mnist.sh
}

# A Python venv at $1 with the PyPI packages that follow, made once.
need_venv() {
    local venv=$1; shift
    if [ ! -x "$venv/bin/python" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q "$@"
    fi
}
