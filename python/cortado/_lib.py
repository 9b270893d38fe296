"""The Swift library behind the package, loaded with ctypes.

Under `cortado train` (an embedded interpreter for Python layers) the functions are those of
the running tool; otherwise the library bundled by `pip install ./python`, or the one a source
checkout built (`swift build -c release`), or `$CORTADO_LIBRARY`.
"""
import ctypes
import json
import os
import sys

_NAME = "libCortadoPython.so"


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    if os.environ.get("CORTADO_LIBRARY"):
        yield os.environ["CORTADO_LIBRARY"]
    yield os.path.join(here, _NAME)
    yield os.path.join(here, "..", "..", ".build", "release", _NAME)


def _load():
    if getattr(sys, "cortado_embedded", False):
        return ctypes.CDLL(None)
    tried = []
    for path in _candidates():
        if os.path.exists(path):
            return ctypes.CDLL(os.path.abspath(path))
        tried.append(os.path.abspath(path))
    raise ImportError("cortado: the Swift library %s was not found (looked in %s); install the package with "
                      "`pip install ./python`, or build it with `swift build -c release`" % (_NAME, ", ".join(tried)))


lib = _load()
P = ctypes.c_void_p
S = ctypes.c_char_p
I32, I64, F = ctypes.c_int32, ctypes.c_int64, ctypes.c_float
DIMS = ctypes.POINTER(ctypes.c_int64)

PY_CREATE = ctypes.CFUNCTYPE(I64, P, S, S, S, I32, S)
PY_CALL = ctypes.CFUNCTYPE(I32, I64, I32, P, ctypes.POINTER(P), I32, ctypes.POINTER(P), I32, ctypes.POINTER(ctypes.c_uint8))
PY_RELEASE = ctypes.CFUNCTYPE(None, I64)

_SIGNATURES = {
    "cortado_release": (None, [P]),
    "cortado_last_error": (P, []),
    "cortado_free": (None, [P]),
    "cortado_version": (P, []),
    "cortado_layer_types": (P, []),
    "cortado_schema": (P, []),
    "cortado_set_random_seed": (None, [I64]),
    "cortado_set_threads": (None, [I32]),
    "cortado_load_image": (P, [S, I32]),
    "cortado_blob_new": (P, [DIMS, I32]),
    "cortado_blob_shape": (I32, [P, DIMS, I32]),
    "cortado_blob_memory": (P, [P, I32, ctypes.POINTER(P)]),
    "cortado_blob_reshape": (I32, [P, DIMS, I32]),
    "cortado_net_new": (P, [S, I32, I32, S, S]),
    "cortado_net_describe": (P, [P]),
    "cortado_net_blob": (P, [P, I32]),
    "cortado_net_layer": (P, [P, I32]),
    "cortado_layer_blob_count": (I32, [P]),
    "cortado_layer_blob": (P, [P, I32]),
    "cortado_layer_add_blob": (P, [P, DIMS, I32]),
    "cortado_layer_setup": (I32, [P, ctypes.POINTER(P), I32, ctypes.POINTER(P), I32]),
    "cortado_layer_reshape": (I32, [P, ctypes.POINTER(P), I32, ctypes.POINTER(P), I32]),
    "cortado_net_forward": (I32, [P, I32, I32, ctypes.POINTER(F)]),
    "cortado_net_backward": (I32, [P, I32, I32]),
    "cortado_net_reshape": (I32, [P]),
    "cortado_net_clear_param_diffs": (None, [P]),
    "cortado_net_copy_from": (I32, [P, S]),
    "cortado_net_share_with": (I32, [P, P]),
    "cortado_net_save": (I32, [P, S, I32]),
    "cortado_solver_new": (P, [S, S]),
    "cortado_solver_net": (P, [P]),
    "cortado_solver_test_net_count": (I32, [P]),
    "cortado_solver_test_net": (P, [P, I32]),
    "cortado_solver_iter": (I64, [P]),
    "cortado_solver_type": (P, [P]),
    "cortado_solver_step": (I32, [P, I64]),
    "cortado_solver_solve": (I32, [P, S]),
    "cortado_solver_snapshot": (I32, [P]),
    "cortado_solver_restore": (I32, [P, S]),
    "cortado_solver_apply_update": (None, [P]),
    "cortado_python_fail": (None, [S]),
    "cortado_python_register": (None, [PY_CREATE, PY_CALL, PY_RELEASE]),
}

for _name, (_res, _args) in _SIGNATURES.items():
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


def take_string(p):
    """A C string the library made, as str, freed."""
    try:
        return ctypes.string_at(p).decode("utf-8")
    finally:
        lib.cortado_free(p)


def take_json(p):
    return json.loads(take_string(p))


def encode(s):
    return None if s is None else os.fsencode(s) if not isinstance(s, bytes) else s


def dims(shape):
    shape = [int(d) for d in shape]
    return (ctypes.c_int64 * max(len(shape), 1))(*shape), len(shape)


class CortadoError(RuntimeError):
    """A failure the library reported: a net that does not build, a file that cannot be read."""


# The exception a Python layer raised during the current call into the library, re-raised
# as itself when that call returns (pycaffe lets a layer's RuntimeError reach the caller).
pending = [None]


def check(status_or_handle, handle=False):
    failed = (status_or_handle is None) if handle else (status_or_handle != 0)
    if failed:
        message = take_string(lib.cortado_last_error())
        original, pending[0] = pending[0], None
        if original is not None:
            raise original
        raise CortadoError(message)
    pending[0] = None
    return status_or_handle


class Handle(object):
    """Owns one reference to a Swift object; gives it back when collected."""
    __slots__ = ("ptr", "__weakref__")

    def __init__(self, ptr):
        self.ptr = ptr

    def __del__(self, release=lib.cortado_release):
        if self.ptr:
            release(self.ptr)
            self.ptr = None
