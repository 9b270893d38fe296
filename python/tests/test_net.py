"""caffe.Net as pycaffe's own tests (python/caffe/test/test_net.py) exercise it."""
from collections import OrderedDict
import os

import numpy as np
import pytest

import caffe
from nets import small_net, write


@pytest.fixture
def net():
    path = small_net()
    n = caffe.Net(path, caffe.TRAIN)
    os.remove(path)
    n.blobs["label"].data[...] = np.random.randint(7, size=n.blobs["label"].data.shape)
    return n


def test_arrays_outlive_their_net(net):
    params = [p for ps in net.params.values() for p in ps]
    blobs = list(net.blobs.values())
    data = net.blobs["conv"].data
    del net
    total = sum(float(p.data.sum() + p.diff.sum()) for p in params) + sum(float(b.data.sum() + b.diff.sum()) for b in blobs)
    assert np.isfinite(total)
    assert np.isfinite(data.sum())


def test_arrays_view_the_nets_memory(net):
    data = net.blobs["data"].data
    data[...] = 0.5
    assert (net.blobs["data"].data == 0.5).all()
    out = net.forward(start="conv")
    assert set(out) == {"loss"}
    conv = net.blobs["conv"].data
    w, b = net.params["conv"][0].data, net.params["conv"][1].data
    # The bottom-right output of the padded 2×2 kernel sees one input pixel per channel.
    expected = (w[:, :, 0, 0] * 0.5).sum(axis=1) + b
    assert np.allclose(conv[0, :, -1, -1], expected, rtol=1e-5)


def test_forward_backward_and_loss(net):
    out = net.forward()
    assert out["loss"].shape == () and out["loss"] > 0
    net.backward()
    assert np.abs(net.params["conv"][0].diff).sum() > 0


def test_forward_start_end_is_an_inner_product(net):
    conv = net.blobs["conv"]
    conv.data[...] = np.random.uniform(size=conv.data.shape).astype(np.float32)
    out = net.forward(start="ip", end="ip")
    assert "scores" in out
    w, b = net.params["ip"][0].data, net.params["ip"][1].data
    manual = np.array([w.dot(conv.data[i].ravel()) + b for i in range(conv.data.shape[0])])
    assert np.allclose(net.blobs["scores"].data, manual, rtol=1e-4, atol=1e-5)


def test_backward_start_end_is_the_transpose(net):
    scores = net.blobs["scores"]
    g = np.random.uniform(size=scores.data.shape).astype(np.float32)
    scores.diff[...] = g
    out = net.backward(start="ip", end="ip")
    assert "conv" in out
    w = net.params["ip"][0].data
    manual = np.array([w.T.dot(g[i]) for i in range(g.shape[0])]).reshape(net.blobs["conv"].data.shape)
    assert np.allclose(net.blobs["conv"].diff, manual, rtol=1e-4, atol=1e-5)


def test_clear_param_diffs(net):
    net.forward()
    net.backward()
    diff = net.params["conv"][0].diff
    assert np.abs(diff).max() > 0
    net.clear_param_diffs()
    assert (diff == 0).all()


def test_names(net):
    assert net.inputs == []
    assert net.outputs == ["loss"]
    assert list(net.layer_dict) == list(net._layer_names) == ["data", "conv", "ip", "loss"]
    assert [l.type for l in net.layers] == ["DummyData", "Convolution", "InnerProduct", "SoftmaxWithLoss"]
    assert net.top_names == OrderedDict([("data", ["data", "label"]), ("conv", ["conv"]), ("ip", ["scores"]), ("loss", ["loss"])])
    assert net.bottom_names == OrderedDict([("data", []), ("conv", ["data"]), ("ip", ["conv"]), ("loss", ["scores", "label"])])
    assert list(net._blob_names) == ["data", "label", "conv", "scores", "loss"]
    assert net._blob_loss_weights == [0, 0, 0, 0, 1]


def test_blob_shape_and_reshape(net):
    b = net.blobs["data"]
    assert b.shape == (4, 2, 3, 5) and (b.num, b.channels, b.height, b.width, b.count) == (4, 2, 3, 5, 120)
    old = b.data
    b.reshape(8, 2, 3, 5)
    assert b.data.shape == (8, 2, 3, 5)
    assert old.shape == (4, 2, 3, 5) and np.isfinite(old.sum())


@pytest.mark.parametrize("hdf5", [False, True])
def test_save_and_load(net, tmp_path, hdf5):
    path = str(tmp_path / "w")
    if hdf5:
        net.save_hdf5(path)
    else:
        net.save(path)
    model = small_net()
    legacy = caffe.Net(model, path, caffe.TRAIN)
    named = caffe.Net(model, caffe.TRAIN, weights=path)
    loaded = caffe.Net(model, caffe.TRAIN)
    loaded.load_hdf5(path) if hdf5 else loaded.copy_from(path)
    for other in (legacy, named, loaded):
        for name in net.params:
            for a, b in zip(net.params[name], other.params[name]):
                assert np.array_equal(a.data, b.data)


def test_share_with(net):
    model = small_net()
    other = caffe.Net(model, caffe.TRAIN)
    other.share_with(net)
    net.params["ip"][0].data[...] = 3
    assert (other.params["ip"][0].data == 3).all()


def test_forward_with_inputs_and_forward_all():
    path = write("""force_backward: true input: 'x' input_shape { dim: 2 dim: 3 }
    layer { type: 'Power' name: 'double' bottom: 'x' top: 'y' power_param { scale: 2 } }""")
    net = caffe.Net(path, caffe.TEST)
    assert net.inputs == ["x"] and net.outputs == ["y"]
    out = net.forward(x=np.ones((2, 3), np.float32))
    assert (out["y"] == 2).all()
    many = net.forward_all(x=np.arange(15, dtype=np.float32).reshape(5, 3))
    assert np.array_equal(many["y"], 2 * np.arange(15, dtype=np.float32).reshape(5, 3))
    outs, grads = net.forward_backward_all(x=np.ones((3, 3), np.float32), y=np.ones((3, 3), np.float32))
    assert outs["y"].shape == (3, 3) and grads["x"].shape == (3, 3) and (grads["x"] == 2).all()
    with pytest.raises(Exception):
        net.forward(z=np.ones((2, 3)))


LEVELS = """
layer { name: "data" type: "DummyData" top: "data" dummy_data_param { shape { dim: 1 dim: 1 dim: 4 dim: 4 } } }
layer { name: "NoLevel" type: "InnerProduct" bottom: "data" top: "NoLevel" inner_product_param { num_output: 1 } }
layer { name: "Level0Only" type: "InnerProduct" bottom: "data" top: "Level0Only" include { min_level: 0 max_level: 0 } inner_product_param { num_output: 1 } }
layer { name: "Level1Only" type: "InnerProduct" bottom: "data" top: "Level1Only" include { min_level: 1 max_level: 1 } inner_product_param { num_output: 1 } }
layer { name: "A" type: "InnerProduct" bottom: "data" top: "A" include { stage: "A" } inner_product_param { num_output: 1 } }
layer { name: "AandB" type: "InnerProduct" bottom: "data" top: "AandB" include { stage: "A" stage: "B" } inner_product_param { num_output: 1 } }
"""


@pytest.mark.parametrize("level,stages,expected", [
    (0, [], ["NoLevel", "Level0Only"]),
    (1, [], ["NoLevel", "Level1Only"]),
    (0, ["A"], ["NoLevel", "Level0Only", "A"]),
    (0, ["A", "B"], ["NoLevel", "Level0Only", "A", "AandB"]),
])
def test_levels_and_stages(level, stages, expected):
    net = caffe.Net(write(LEVELS), caffe.TEST, level=level, stages=stages)
    assert [b for b in net.blobs if "data" not in b] == expected


def test_bad_net_is_an_error_not_a_crash():
    with pytest.raises(caffe.CortadoError) as e:
        caffe.Net(write("layer { name: 'x' type: 'Convolutoin' top: 'x' }"), caffe.TEST)
    assert "Convolution" in str(e.value)
    with pytest.raises(ValueError):
        caffe.Net(write(LEVELS), 7)


def test_a_range_outside_the_net_is_an_error_not_a_crash(net):
    from cortado._lib import lib, check
    with pytest.raises(caffe.CortadoError, match="not all in"):
        check(lib.cortado_net_backward(net._h.ptr, 9, 0))
    with pytest.raises(caffe.CortadoError, match="no blob 99"):
        check(lib.cortado_net_blob(net._h.ptr, 99), handle=True)


def test_a_layers_setup_and_reshape(net):
    """pycaffe's layer.reshape(bottom, top) and layer.setup(bottom, top) on a built-in layer."""
    ip, conv, scores = net.layer_dict["ip"], net.blobs["conv"], net.blobs["scores"]
    weights = ip.blobs[0].data
    before = weights.copy()
    conv.reshape(2, *conv.shape[1:])
    ip.reshape([conv], [scores])
    assert scores.shape == (2, 7)
    # Caffe skips initialization when the blobs exist: the same weights, in the same memory.
    ip.setup([conv], [scores])
    assert np.array_equal(ip.blobs[0].data, before) and np.shares_memory(ip.blobs[0].data, weights)
    conv.reshape(2, 1, 2, 2)
    with pytest.raises(caffe.CortadoError, match="parameter shapes"):
        ip.setup([conv], [scores])
    assert ip.blobs[0].data.shape == before.shape
    with pytest.raises(TypeError):
        ip.reshape(["conv"], [scores])
