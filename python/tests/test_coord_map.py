"""caffe.coord_map (pycaffe's test_coord_map.py)."""
import numpy as np
import pytest

import caffe
from caffe import layers as L, params as P
from caffe.coord_map import coord_map_from_to, crop


def spec(ks=3, stride=1, pad=0, pool=2, dstride=2, dpad=0):
    n = caffe.NetSpec()
    n.data = L.Input(shape=dict(dim=[2, 1, 100, 100]))
    n.aux = L.Input(shape=dict(dim=[2, 1, 20, 20]))
    n.conv = L.Convolution(n.data, num_output=10, kernel_size=ks, stride=stride, pad=pad)
    n.pool = L.Pooling(n.conv, pool=P.Pooling.MAX, kernel_size=pool, stride=pool, pad=0)
    n.deconv = L.Deconvolution(n.pool, num_output=10, kernel_size=2 * np.array(dstride), stride=dstride, pad=dpad)
    return n


def test_conv_pool_deconv():
    n = spec()
    assert coord_map_from_to(n.deconv, n.data) == (1, 1, 0)
    n = spec(pool=4, dstride=4)
    ax, a, b = coord_map_from_to(n.deconv, n.data)
    assert (ax, a, b) == (1, 1, -1)


def test_pass_through_and_padding():
    n = spec()
    base = coord_map_from_to(n.deconv, n.data)
    n.relu = L.ReLU(n.deconv)
    n.conv1x1 = L.Convolution(n.relu, num_output=10, kernel_size=1)
    for top in (n.relu, n.conv1x1):
        assert coord_map_from_to(top, n.data) == base
    n = spec(pad=3)
    assert coord_map_from_to(n.deconv, n.data)[2] == base[2] - 3
    n = spec(dpad=3)
    assert coord_map_from_to(n.deconv, n.data)[2] == base[2] + 3


def test_crop():
    n = spec()
    ax, a, b = coord_map_from_to(n.deconv, n.data)
    n.crop = L.Crop(n.deconv, n.data, axis=2, offset=4)
    assert coord_map_from_to(n.crop, n.data) == (ax, a, b + 4)
    layer = crop(n.deconv, n.data).to_proto().layer[-1]
    assert layer.type == "Crop" and layer.crop_param.axis == 2


def test_errors():
    n = spec()
    n.ip = L.InnerProduct(n.deconv, num_output=10)
    with pytest.raises(RuntimeError):
        coord_map_from_to(n.ip, n.data)
    with pytest.raises(AssertionError):
        n = spec(pool=3, dstride=2)
        crop(n.deconv, n.data)
    with pytest.raises(AssertionError):
        n = spec(dpad=10)
        crop(n.deconv, n.data)


def test_rect_and_nd():
    n3, n5 = spec(3, 1, 0), spec(5, 2, 10)
    n35 = spec([3, 5], [1, 2], [0, 10])
    a3, a5, a35 = (coord_map_from_to(n.deconv, n.data) for n in (n3, n5, n35))
    assert a3[1] == a35[1][0] and a3[2] == a35[2][0] and a5[1] == a35[1][1] and a5[2] == a35[2][1]
