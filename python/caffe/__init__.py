"""pycaffe's name for Cortado's Python package: `import caffe` is `import cortado`, so scripts
written for Caffe run unchanged (`from caffe import layers as L`, `from caffe.proto import
caffe_pb2`, `from caffe.coord_map import crop` included)."""
import sys as _sys

import cortado as _cortado
from cortado import *  # noqa: F401,F403
from cortado import __version__, io, proto, coord_map, net_spec, layers, params, classifier  # noqa: F401

for _name in ("io", "proto", "proto.caffe_pb2", "coord_map", "net_spec", "classifier", "layer"):
    _sys.modules["caffe." + _name] = _sys.modules["cortado." + _name]
del _name
