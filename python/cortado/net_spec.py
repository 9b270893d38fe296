"""Writing nets in Python, as pycaffe's net_spec: `n = NetSpec(); n.conv1 = L.Convolution(n.data,
kernel_size=5, num_output=20)`; `n.to_proto()` is a caffe_pb2.NetParameter.

A layer's keyword arguments go into its own `*_param` message when that message has the
field, else into the LayerParameter (`loss_weight`, `include`, `param`, any `*_param`).
`ntop` sets the number of tops (0 returns the layer itself), `in_place=True` writes the top
over the bottom. Unnamed tops are named after their type (`Convolution1`).
"""
from collections import Counter, OrderedDict

import numpy as np

from .proto import caffe_pb2


def _is_repeated(field):
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return repeated
    return field.label == field.LABEL_REPEATED


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def assign_proto(proto, name, value):
    """Sets field `name` of `proto` from Python values: dicts become messages, lists repeated
    fields (of messages, when they hold dicts)."""
    field = proto.DESCRIPTOR.fields_by_name[name]
    if _is_repeated(field):
        items = list(value) if isinstance(value, (list, tuple, np.ndarray)) else [value]
        target = getattr(proto, name)
        for item in items:
            if isinstance(item, dict):
                message = target.add()
                for k, v in item.items():
                    assign_proto(message, k, v)
            else:
                target.append(_plain(item))
    elif isinstance(value, dict):
        message = getattr(proto, name)
        for k, v in value.items():
            assign_proto(message, k, v)
    else:
        setattr(proto, name, _plain(value))


def _param_fields():
    """Layer type → its `*_param` field: ConvolutionParameter → convolution_param, and so on."""
    out = {}
    for field in caffe_pb2.LayerParameter.DESCRIPTOR.fields:
        if field.name.endswith("_param") and field.message_type is not None:
            out[field.message_type.name[:-len("Parameter")]] = field.name
    out["Deconvolution"] = "convolution_param"
    return out


_PARAM_FIELDS = _param_fields()


class Top(object):
    """One output of a layer (`fn`), the `n`th."""

    def __init__(self, fn, n):
        self.fn = fn
        self.n = n

    def to_proto(self):
        """A NetParameter of the layers this top needs."""
        return to_proto(self)

    def _to_proto(self, layers, names, autonames):
        return self.fn._to_proto(layers, names, autonames)


class Function(object):
    """A layer not yet written: its type, its input tops and its settings."""

    def __init__(self, type_name, inputs, params):
        self.type_name = type_name
        for i, top in enumerate(inputs):
            if not isinstance(top, Top):
                raise TypeError("%s input %d is not a Top (type is %s)" % (type_name, i, type(top)))
        self.inputs = inputs
        self.params = params
        self.ntop = self.params.pop("ntop", 1)
        self.in_place = self.params.pop("in_place", False)
        if self.in_place and len(inputs) == 0:
            raise ValueError("%s: in_place needs a bottom" % type_name)
        self.tops = tuple(Top(self, n) for n in range(self.ntop))

    def _top_name(self, top, names, autonames):
        if top not in names:
            autonames[top.fn.type_name] += 1
            names[top] = top.fn.type_name + str(autonames[top.fn.type_name])
        return names[top]

    def _layer_name(self, names, autonames):
        if self not in names:
            if self.ntop > 0:
                names[self] = self._top_name(self.tops[0], names, autonames)
            else:
                autonames[self.type_name] += 1
                names[self] = self.type_name + str(autonames[self.type_name])
        return names[self]

    def _to_proto(self, layers, names, autonames):
        if self in layers:
            return
        bottoms = []
        for top in self.inputs:
            top._to_proto(layers, names, autonames)
            bottoms.append(layers[top.fn].top[top.n])
        layer = caffe_pb2.LayerParameter()
        layer.type = self.type_name
        layer.bottom.extend(bottoms)
        if self.in_place:
            layer.top.extend(layer.bottom)
        else:
            layer.top.extend(self._top_name(t, names, autonames) for t in self.tops)
        layer.name = self._layer_name(names, autonames)
        own = _PARAM_FIELDS.get(self.type_name)
        for key, value in self.params.items():
            if key.endswith("param") or own is None or key not in getattr(layer, own).DESCRIPTOR.fields_by_name:
                assign_proto(layer, key, value)
            else:
                assign_proto(getattr(layer, own), key, value)
        layers[self] = layer


def to_proto(*tops):
    """A NetParameter with every layer the tops need, in dependency order."""
    layers = OrderedDict()
    autonames = Counter()
    names = {}
    for top in tops:
        top._to_proto(layers, names, autonames)
    net = caffe_pb2.NetParameter()
    net.layer.extend(layers.values())
    return net


class NetSpec(object):
    """Named tops: assigning `n.name = top` names the top (and its layer) `name`."""

    def __init__(self):
        super(NetSpec, self).__setattr__("tops", OrderedDict())

    def __setattr__(self, name, value):
        self.tops[name] = value

    def __getattr__(self, name):
        try:
            return self.tops[name]
        except KeyError:
            raise AttributeError(name)

    def __setitem__(self, key, value):
        self.__setattr__(key, value)

    def __getitem__(self, item):
        return self.__getattr__(item)

    def __delitem__(self, name):
        del self.tops[name]

    def keys(self):
        return list(self.tops.keys())

    def vals(self):
        return list(self.tops.values())

    def to_proto(self):
        names = {v: k for k, v in self.tops.items()}
        autonames = Counter()
        layers = OrderedDict()
        for top in self.tops.values():
            top._to_proto(layers, names, autonames)
        net = caffe_pb2.NetParameter()
        net.layer.extend(layers.values())
        return net


class Layers(object):
    """`L.Convolution(bottom, ...)`: a layer of any type, returning its top(s)."""

    def __getattr__(self, name):
        def layer(*args, **kwargs):
            fn = Function(name, args, kwargs)
            if fn.ntop == 0:
                return fn
            if fn.ntop == 1:
                return fn.tops[0]
            return fn.tops
        return layer


class Parameters(object):
    """`P.Pooling.MAX`: the enum values of each layer's parameter message."""

    def __getattr__(self, name):
        message = getattr(caffe_pb2, name + "Parameter")

        class Param(object):
            def __getattr__(self, value):
                return getattr(message, value)
        return Param()


layers = Layers()
params = Parameters()
