"""Cortado from Python, with pycaffe's API: `import cortado as caffe`, or `import caffe`.

Nets, blobs and solvers live in Cortado's Swift library; `blob.data` and `blob.diff` are numpy
arrays over its memory, so writing into them feeds the net and results appear in arrays
already held. docs/PYTHON.md lists the API and every difference from pycaffe.
"""
import os as _os
import sys as _sys

from ._lib import CortadoError, lib as _library, take_string as _take_string, take_json as _take_json
from ._net import Net, Blob, BlobVec, TRAIN, TEST
from ._solver import (Solver, SGDSolver, NesterovSolver, AdaGradSolver, RMSPropSolver, AdaDeltaSolver,
                      AdamSolver, get_solver, get_solver_from_file)
from .layer import Layer
from . import _host
from .proto import caffe_pb2
from . import io
from .net_spec import layers, params, NetSpec, to_proto
from .classifier import Classifier
from . import coord_map

# The Caffe release whose Python API this follows; `cortado_version` is Cortado's own.
__version__ = "1.0.0"
cortado_version = _take_string(_library.cortado_version())


def set_threads(n):
    """Threads Cortado splits each layer's work across, for nets made from now on (as the
    tool's --threads; results are deterministic for a given count)."""
    _library.cortado_set_threads(int(n))


# Every core, as the tool uses by default (inside the tool, its own setting stands).
if not getattr(_sys, "cortado_embedded", False):
    set_threads(int(_os.environ.get("CORTADO_THREADS") or _os.cpu_count() or 1))


def set_mode_cpu():
    """Cortado always runs on the CPU."""


def set_mode_gpu():
    raise RuntimeError("Cortado runs on the CPU only: there is no GPU mode (use caffe.set_mode_cpu())")


def set_device(device_id):
    raise RuntimeError("Cortado runs on the CPU only: there is no GPU device %r to choose" % (device_id,))


def set_random_seed(seed):
    """Seeds the fillers of nets made from now on (and solvers whose file sets no random_seed)."""
    _library.cortado_set_random_seed(int(seed))


def layer_type_list():
    """Every layer type a net may name."""
    return _take_json(_library.cortado_layer_types())
