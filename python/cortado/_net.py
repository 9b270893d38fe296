"""pycaffe's Net and Blob over the Swift library: arrays view Cortado's memory, never copies."""
from collections import OrderedDict
import ctypes
import json

import numpy as np

from . import _lib
from ._lib import lib, check, Handle, encode, dims, take_json

TRAIN, TEST = 0, 1


class _Memory(object):
    """Keeps a blob's storage alive for as long as a numpy array made from it lives."""
    __slots__ = ("owner", "__array_interface__")

    def __init__(self, ptr, owner, shape):
        self.owner = Handle(owner)
        self.__array_interface__ = {"shape": shape, "typestr": "<f4", "data": (ptr, False), "version": 3}


class Blob(object):
    """Caffe's Blob: `data` and `diff` are float32 arrays over the blob's own memory; a reshape
    makes new ones (arrays taken before keep the old memory valid)."""
    __slots__ = ("_h", "__weakref__")

    def __init__(self, ptr):
        self._h = Handle(check(ptr, handle=True))

    @property
    def shape(self):
        out = (ctypes.c_int64 * 32)()
        n = lib.cortado_blob_shape(self._h.ptr, out, 32)
        return tuple(int(out[i]) for i in range(n))

    def _view(self, which):
        owner = ctypes.c_void_p()
        ptr = lib.cortado_blob_memory(self._h.ptr, which, ctypes.byref(owner))
        return np.asarray(_Memory(ptr, owner.value, self.shape))

    @property
    def data(self):
        return self._view(0)

    @property
    def diff(self):
        return self._view(1)

    def reshape(self, *shape):
        d, n = dims(shape)
        check(lib.cortado_blob_reshape(self._h.ptr, d, n))

    @property
    def count(self):
        return int(np.prod(self.shape, dtype=np.int64))

    def _legacy(self, i):
        s = self.shape
        return s[i] if i < len(s) else 1

    num = property(lambda self: self._legacy(0))
    channels = property(lambda self: self._legacy(1))
    height = property(lambda self: self._legacy(2))
    width = property(lambda self: self._legacy(3))

    def __eq__(self, other):
        # A handle is the Swift object's address: equal handles, the same blob.
        return isinstance(other, Blob) and self._h.ptr == other._h.ptr

    def __hash__(self):
        return hash(self._h.ptr)

    def __repr__(self):
        return "<Blob %s>" % (self.shape,)


class BlobVec(list):
    """A layer's parameter blobs (pycaffe's BlobVec); a Python layer adds its own in setup."""

    def __init__(self, layer_ptr=None, blobs=()):
        list.__init__(self, blobs)
        self._layer = layer_ptr

    def add_blob(self, *shape):
        if not self._layer:
            raise RuntimeError("add_blob is only for a Python layer's own blobs, in its setup")
        d, n = dims(shape)
        self.append(Blob(lib.cortado_layer_add_blob(self._layer, d, n)))


def _layer_blobs(ptr):
    return BlobVec(ptr, [Blob(lib.cortado_layer_blob(ptr, j)) for j in range(lib.cortado_layer_blob_count(ptr))])


class LayerView(object):
    """A built-in layer as pycaffe shows it: its type and its parameter blobs."""

    def __init__(self, ptr, type_name):
        self._h = Handle(ptr)
        self.type = type_name

    @property
    def blobs(self):
        return _layer_blobs(self._h.ptr)

    def setup(self, bottom, top):
        """Caffe's LayerSetUp on these blobs; parameter blobs the layer has are kept."""
        check(lib.cortado_layer_setup(self._h.ptr, *_handles(bottom), *_handles(top)))

    def reshape(self, bottom, top):
        """Gives `top` the shapes this layer makes from `bottom`."""
        check(lib.cortado_layer_reshape(self._h.ptr, *_handles(bottom), *_handles(top)))


def _handles(blobs):
    """A list of Blobs as a C array of their handles and its length."""
    blobs = list(blobs)
    for b in blobs:
        if not isinstance(b, Blob):
            raise TypeError("expected Blobs, got %r" % (b,))
    return (ctypes.c_void_p * len(blobs))(*[b._h.ptr for b in blobs]), len(blobs)


class Net(object):
    """Caffe's Net: `Net(model, phase)`, `Net(model, weights, phase)`, or
    `Net(model, phase, weights=..., level=0, stages=[])`."""

    def __init__(self, model, *args, **kwargs):
        weights, phase = None, None
        if len(args) == 1:
            phase = args[0]
        elif len(args) == 2:
            weights, phase = args
        elif len(args) > 2:
            raise TypeError("Net(model, phase) or Net(model, weights, phase)")
        phase = kwargs.pop("phase", phase)
        weights = kwargs.pop("weights", weights)
        level = int(kwargs.pop("level", 0))
        stages = list(kwargs.pop("stages", []))
        if kwargs:
            raise TypeError("unexpected arguments %s" % ", ".join(sorted(kwargs)))
        if phase not in (TRAIN, TEST):
            raise ValueError("phase must be caffe.TRAIN or caffe.TEST")
        ptr = lib.cortado_net_new(encode(model), phase, level, json.dumps(stages).encode(), encode(weights))
        self._adopt(check(ptr, handle=True))

    @classmethod
    def _wrap(cls, ptr):
        net = cls.__new__(cls)
        net._adopt(ptr)
        return net

    def _adopt(self, ptr):
        from . import _host
        self._h = Handle(ptr)
        d = take_json(lib.cortado_net_describe(ptr))
        self.name = d["name"]
        self._blob_names = list(d["blobs"])
        self._blob_list = [Blob(lib.cortado_net_blob(ptr, i)) for i in range(len(self._blob_names))]
        self._layer_names = [l["name"] for l in d["layers"]]
        self.layers = []
        for i, l in enumerate(d["layers"]):
            instance = _host.instances.get(l["python"]) if l["python"] >= 0 else None
            self.layers.append(instance if instance is not None else LayerView(lib.cortado_net_layer(ptr, i), l["type"]))
        self._blob_loss_weights = list(d["loss_weights"])
        self._inputs = [self._blob_names[i] for i in d["inputs"]]
        self._outputs = [self._blob_names[i] for i in d["outputs"]]
        self._blobs = OrderedDict(zip(self._blob_names, self._blob_list))
        self._top_names = OrderedDict((l["name"], [self._blob_names[i] for i in l["tops"]]) for l in d["layers"])
        self._bottom_names = OrderedDict((l["name"], [self._blob_names[i] for i in l["bottoms"]]) for l in d["layers"])
        self._params = None

    # What pycaffe's Net shows.
    @property
    def blobs(self):
        return self._blobs

    @property
    def blob_loss_weights(self):
        return OrderedDict(zip(self._blob_names, self._blob_loss_weights))

    @property
    def params(self):
        if self._params is None:
            ptr = self._h.ptr
            self._params = OrderedDict()
            for i, name in enumerate(self._layer_names):
                layer = Handle(lib.cortado_net_layer(ptr, i))
                blobs = BlobVec(None, _layer_blobs(layer.ptr))
                if len(blobs):
                    self._params[name] = blobs
        return self._params

    @property
    def layer_dict(self):
        return OrderedDict(zip(self._layer_names, self.layers))

    @property
    def inputs(self):
        return list(self._inputs)

    @property
    def outputs(self):
        return list(self._outputs)

    @property
    def top_names(self):
        return self._top_names

    @property
    def bottom_names(self):
        return self._bottom_names

    def _index(self, layer, default):
        if layer is None:
            return default
        return self._layer_names.index(layer)

    def forward(self, blobs=None, start=None, end=None, **kwargs):
        """Runs layers start..end (names; all by default) after copying `kwargs` into the
        input blobs; returns {blob: data} for the outputs (or end's tops) and `blobs`."""
        blobs = list(blobs or [])
        outputs = set((self.top_names[end] if end is not None else self.outputs) + blobs)
        for name, value in kwargs.items():
            if name not in self._inputs:
                raise Exception("Input blob arguments do not match net inputs.")
            target = self.blobs[name]
            if np.shape(value)[0] != target.shape[0]:
                raise Exception("Input is not batch sized")
            target.data[...] = value
        loss = ctypes.c_float()
        check(lib.cortado_net_forward(self._h.ptr, self._index(start, 0), self._index(end, len(self.layers) - 1), ctypes.byref(loss)))
        return {out: self.blobs[out].data for out in outputs}

    def backward(self, diffs=None, start=None, end=None, **kwargs):
        """Runs layers start..end (names; from the last down to the first by default) backward
        after copying `kwargs` into the output blobs' diffs; returns {blob: diff} for the inputs
        (or end's bottoms) and `diffs`."""
        diffs = list(diffs or [])
        outputs = set((self.bottom_names[end] if end is not None else self.inputs) + diffs)
        for name, value in kwargs.items():
            if name not in self._outputs:
                raise Exception("Top diff arguments do not match net outputs.")
            target = self.blobs[name]
            if np.shape(value)[0] != target.shape[0]:
                raise Exception("Diff is not batch sized")
            target.diff[...] = value
        check(lib.cortado_net_backward(self._h.ptr, self._index(start, len(self.layers) - 1), self._index(end, 0)))
        return {out: self.blobs[out].diff for out in outputs}

    def _batches(self, arrays):
        n = next(iter(arrays.values())).shape[0] if arrays else 0
        size = next(iter(self.blobs.values())).shape[0]
        for i in range(0, n, size):
            chunk = {}
            for name, a in arrays.items():
                part = a[i:i + size]
                if part.shape[0] < size:
                    pad = np.zeros((size - part.shape[0],) + part.shape[1:], dtype=part.dtype)
                    part = np.concatenate([part, pad])
                chunk[name] = part
            yield chunk, min(size, n - i)

    def forward_all(self, blobs=None, **kwargs):
        """forward over a whole dataset in batches of the net's size; outputs concatenated."""
        collected = {out: [] for out in set(self.outputs + list(blobs or []))}
        for chunk, valid in self._batches(kwargs):
            for out, value in self.forward(blobs=blobs, **chunk).items():
                collected[out].append(value[:valid].copy())
        return {out: np.concatenate(v) if v else np.zeros((0,)) for out, v in collected.items()}

    def forward_backward_all(self, blobs=None, diffs=None, **kwargs):
        """forward and backward over a dataset in batches; returns (outputs, input diffs)."""
        forward_in = {k: v for k, v in kwargs.items() if k in self._inputs}
        backward_in = {k: v for k, v in kwargs.items() if k not in self._inputs}
        outs = {out: [] for out in set(self.outputs + list(blobs or []))}
        grads = {d: [] for d in set(self.inputs + list(diffs or []))}
        chunks = list(self._batches(forward_in))
        top_chunks = [c for c, _ in self._batches(backward_in)] if backward_in else [{}] * len(chunks)
        for (chunk, valid), tops in zip(chunks, top_chunks):
            for out, value in self.forward(blobs=blobs, **chunk).items():
                outs[out].append(value[:valid].copy())
            for d, value in self.backward(diffs=diffs, **tops).items():
                grads[d].append(value[:valid].copy())
        cat = lambda m: {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in m.items()}
        return cat(outs), cat(grads)

    def reshape(self):
        check(lib.cortado_net_reshape(self._h.ptr))

    def clear_param_diffs(self):
        lib.cortado_net_clear_param_diffs(self._h.ptr)

    def copy_from(self, path):
        check(lib.cortado_net_copy_from(self._h.ptr, encode(path)))

    def share_with(self, other):
        check(lib.cortado_net_share_with(self._h.ptr, other._h.ptr))
        self._params = None

    def save(self, path):
        """Weights as a binary `.caffemodel` (NetParameter), as Caffe's Net.save."""
        check(lib.cortado_net_save(self._h.ptr, encode(path), 0))

    def save_hdf5(self, path):
        check(lib.cortado_net_save(self._h.ptr, encode(path), 1))

    def load_hdf5(self, path):
        self.copy_from(path)
