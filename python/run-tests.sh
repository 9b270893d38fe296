#!/usr/bin/env bash
# The Python package's tests: builds Cortado in release, installs the package into a venv
# (numpy, protobuf and pytest from PyPI) as a user would (`pip install ./python`), and runs
# python/tests against the installed `caffe` and `cortado` modules and the built tool.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.build/python-venv
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q --disable-pip-version-check numpy protobuf pytest
swift build -c release
"$VENV/bin/pip" install -q --disable-pip-version-check ./python
"$VENV/bin/python" -m pytest -q -p no:cacheprovider python/tests
