"""Runs Python layers for the Swift library: it calls these ctypes callbacks on the thread
that runs the net (never on Cortado's worker threads), taking the GIL as it enters."""
import importlib
import sys
import traceback

from . import _lib
from ._lib import lib
from ._net import Blob

instances = {}
_next = [0]
_STEPS = ("setup", "reshape", "forward", "backward")


def _fail(exc):
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    lib.cortado_python_fail(text.encode("utf-8", "replace"))
    if not getattr(sys, "cortado_embedded", False):
        _lib.pending[0] = exc


def _create(layer, module, cls, param_str, phase, name):
    try:
        from .proto import caffe_pb2
        p = caffe_pb2.LayerParameter(name=name.decode(), type="Python")
        p.python_param.module, p.python_param.layer = module.decode(), cls.decode()
        p.python_param.param_str = param_str.decode()
        instance = getattr(importlib.import_module(module.decode()), cls.decode())(p)
        instance.param_str = param_str.decode()
        instance.phase = phase
        instance._cortado_layer = layer
        _next[0] += 1
        instances[_next[0]] = instance
        return _next[0]
    except BaseException as exc:
        _fail(exc)
        return -1


def _call(instance_id, step, layer, bottoms, nb, tops, nt, propagate):
    try:
        instance = instances[instance_id]
        instance._cortado_layer = layer
        bottom = [Blob(bottoms[i]) for i in range(nb)]
        top = [Blob(tops[i]) for i in range(nt)]
        if step == 3:
            instance.backward(top, [bool(propagate[i]) for i in range(nb)], bottom)
        else:
            getattr(instance, _STEPS[step])(bottom, top)
        return 0
    except BaseException as exc:
        _fail(exc)
        return 1


def _release(instance_id):
    try:
        instance = instances.pop(instance_id, None)
        if instance is not None:
            instance._cortado_layer = None
    except BaseException:
        pass


# Kept here for as long as the library may call them.
_callbacks = (_lib.PY_CREATE(_create), _lib.PY_CALL(_call), _lib.PY_RELEASE(_release))
lib.cortado_python_register(*_callbacks)
