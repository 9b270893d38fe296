"""caffe.Layer: the base class of `type: "Python"` layers."""
from ._net import _layer_blobs, BlobVec


class Layer(object):
    """Subclass it and define setup, reshape, forward and backward, each given lists of blobs
    (bottom, top; backward also propagate_down). Cortado sets `param_str` and `phase` before
    setup; `self.blobs` holds parameter blobs the layer adds with `self.blobs.add_blob(*shape)`."""
    type = "Python"
    param_str = ""
    phase = 0
    _cortado_layer = None

    def __init__(self, *args, **kwargs):
        pass

    @property
    def blobs(self):
        if not self._cortado_layer:
            return BlobVec()
        return _layer_blobs(self._cortado_layer)

    def setup(self, bottom, top):
        pass

    def reshape(self, bottom, top):
        pass

    def forward(self, bottom, top):
        pass

    def backward(self, top, propagate_down, bottom):
        pass
