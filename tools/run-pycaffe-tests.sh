#!/usr/bin/env bash
# Runs Caffe's own pycaffe tests (BVLC/caffe python/caffe/test/*.py, unmodified, in a folder
# of your own: they are not part of this tree) against the installed `caffe` module.
#   bash tools/run-pycaffe-tests.sh path/to/caffe/python/caffe/test [python]
# The python defaults to the venv the README's test command makes. Caffe's tests import six,
# and test_python_layer*.py name themselves as their layers' module, so the folder goes on
# PYTHONPATH, as Caffe's own runner does.
set -euo pipefail
DIR="$(cd "${1:?usage: run-pycaffe-tests.sh DIR [python]}" && pwd)"
PY="${2:-.build/python-venv/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"  # absolute, but not through the venv's link
"$PY" -m pip install -q six pytest
TESTS=(test_net.py test_solver.py test_net_spec.py test_python_layer.py test_python_layer_with_param_str.py
       test_io.py test_layer_type_list.py test_coord_map.py)
# test_solver writes its snapshots into the working folder: run in a scratch one.
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
PYTHONPATH="$DIR${PYTHONPATH:+:$PYTHONPATH}" "$PY" -m pytest -q -p no:cacheprovider -W ignore::DeprecationWarning "${TESTS[@]/#/$DIR/}"
