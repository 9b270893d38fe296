"""caffe.NetSpec, caffe.layers and caffe.params (pycaffe's test_net_spec.py)."""
import re

import pytest

import caffe
from caffe import layers as L, params as P
from caffe.proto import caffe_pb2
from nets import write


def lenet(n=None):
    n = caffe.NetSpec()
    n.data, n.label = L.DummyData(shape=[dict(dim=[8, 1, 28, 28]), dict(dim=[8, 1, 1, 1])],
                                  transform_param=dict(scale=1. / 255), ntop=2)
    n.conv1 = L.Convolution(n.data, kernel_size=5, num_output=20, weight_filler=dict(type="xavier"))
    n.pool1 = L.Pooling(n.conv1, kernel_size=2, stride=2, pool=P.Pooling.MAX)
    n.ip1 = L.InnerProduct(n.pool1, num_output=50, weight_filler=dict(type="xavier"))
    n.relu1 = L.ReLU(n.ip1, in_place=True)
    n.ip2 = L.InnerProduct(n.relu1, num_output=10, weight_filler=dict(type="xavier"))
    n.loss = L.SoftmaxWithLoss(n.ip2, n.label)
    return n.to_proto()


def test_named_net_builds():
    proto = lenet()
    assert isinstance(proto, caffe_pb2.NetParameter)
    assert [l.name for l in proto.layer] == ["data", "conv1", "pool1", "ip1", "relu1", "ip2", "loss"]
    relu = proto.layer[4]
    assert list(relu.bottom) == list(relu.top) == ["ip1"]
    assert proto.layer[1].convolution_param.kernel_size == [5]
    assert proto.layer[2].pooling_param.pool == caffe_pb2.PoolingParameter.MAX
    net = caffe.Net(write(str(proto)), caffe.TEST)
    assert len(net.layers) == 7
    assert net.forward()["loss"] > 0


def test_anonymous_tops_are_named_after_their_type():
    data, label = L.DummyData(shape=[dict(dim=[2, 3]), dict(dim=[2])], ntop=2)
    loss = L.SoftmaxWithLoss(L.InnerProduct(data, num_output=4), label, loss_weight=2)
    proto = loss.to_proto()
    assert [l.name for l in proto.layer] == ["DummyData1", "InnerProduct1", "SoftmaxWithLoss1"]
    assert list(proto.layer[2].loss_weight) == [2]
    assert len(caffe.Net(write(str(proto)), caffe.TEST).layers) == 3


def test_zero_tops():
    n = caffe.NetSpec()
    n.data, n.data2 = L.DummyData(shape=dict(dim=3), ntop=2)
    n.silence_data = L.Silence(n.data, ntop=0)
    n.silence_data2 = L.Silence(n.data2, ntop=0)
    net = caffe.Net(write(str(n.to_proto())), caffe.TEST)
    assert len(net.forward()) == 0


def test_a_tuple_is_not_a_top():
    data = L.DummyData(ntop=2)
    with pytest.raises(TypeError, match=r"^Silence input 0 is not a Top \(type is <class 'tuple'>\)$"):
        L.Silence(data, ntop=0)
    L.Silence(*data, ntop=0)


def test_deconvolution_takes_convolution_param():
    top = L.Deconvolution(L.Input(shape=dict(dim=[1, 1, 4, 4])), num_output=2, kernel_size=4, stride=2)
    layer = top.to_proto().layer[1]
    assert layer.convolution_param.num_output == 2 and list(layer.convolution_param.stride) == [2]


def test_python_layer_param():
    top = L.Python(L.Input(shape=dict(dim=[2])), module="pylayers", layer="TimesTen")
    net = caffe.Net(write(str(top.to_proto())), caffe.TEST)
    net.blobs["Input1"].data[...] = 1
    assert (net.forward()["Python1"] == 10).all()
