"""`type: "Python"` layers in nets built from Python (pycaffe's test_python_layer*.py)."""
import os

import numpy as np
import pytest

import caffe
from nets import write


def chain(*layers, **kw):
    text = "name: 'py' force_backward: true input: 'data' input_shape { dim: 10 dim: 9 dim: 8 }\n"
    bottom = "data"
    for name, cls, param in layers:
        p = " param_str: '%s'" % param if param else ""
        text += "layer { type: 'Python' name: '%s' bottom: '%s' top: '%s' python_param { module: 'pylayers' layer: '%s'%s } }\n" % (name, bottom, name, cls, p)
        bottom = name
    return caffe.Net(write(text), kw.get("phase", caffe.TRAIN))


def test_forward_backward_and_reshape():
    net = chain(("one", "TimesTen", ""), ("two", "TimesTen", ""), ("three", "TimesTen", ""))
    net.blobs["data"].data[...] = 8
    net.forward()
    assert (net.blobs["three"].data == 8000).all()
    net.blobs["three"].diff[...] = 7
    net.backward()
    assert (net.blobs["data"].diff == 7000).all()
    net.blobs["data"].reshape(4, 4, 4, 4)
    net.forward()
    assert all(b.data.shape == (4, 4, 4, 4) for b in net.blobs.values())
    assert net.layers[1].type == "Python"


def test_param_str():
    net = chain(("mul10", "TimesParam", "10"), ("mul2", "TimesParam", "2"))
    net.blobs["data"].data[...] = 8
    net.forward()
    assert (net.blobs["mul2"].data == 160).all()


def test_an_exception_reaches_the_caller_as_itself():
    with pytest.raises(RuntimeError, match="no setup for you"):
        chain(("bad", "Raises", ""))
    net = chain(("bad", "RaisesInBackward", ""))
    net.forward()
    with pytest.raises(ValueError, match="no gradient for you"):
        net.backward()


def test_own_parameter_blobs_are_saved_loaded_and_shared(tmp_path):
    net = chain(("layer", "OwnParameter", ""))
    net.forward()
    net.backward()
    layer = net.layers[list(net._layer_names).index("layer")]
    assert layer.blobs[0].data[0] == 0 and layer.blobs[0].diff[0] == 1
    layer.blobs[0].data[0] += layer.blobs[0].diff[0]
    path = str(tmp_path / "w.caffemodel")
    net.save(path)
    layer.blobs[0].data[0] = -1
    net.copy_from(path)
    assert layer.blobs[0].data[0] == 1
    assert list(net.params) == ["layer"]
    other = chain(("layer", "OwnParameter", ""))
    other.share_with(net)
    assert other.params["layer"][0].data[0] == 1


def test_phase():
    path = write("layer { type: 'Python' name: 'layer' top: 'phase' python_param { module: 'pylayers' layer: 'Phase' } }")
    for phase in (caffe.TRAIN, caffe.TEST):
        assert caffe.Net(path, phase).forward()["phase"] == phase


def test_a_python_data_layer():
    path = write("layer { type: 'Python' name: 'count' top: 'n' python_param { module: 'pylayers' layer: 'Counter' } }")
    net = caffe.Net(path, caffe.TRAIN)
    for i in range(3):
        assert list(net.forward()["n"]) == list(range(5 * i, 5 * i + 5))


def test_python_layers_are_a_known_type():
    assert "Python" in caffe.layer_type_list()
    for t in ("Data", "Convolution", "InnerProduct"):
        assert t in caffe.layer_type_list()


def test_blobs_are_added_only_in_setup():
    net = chain(("late", "AddsBlobLate", ""))
    with pytest.raises(caffe.CortadoError, match="only for setup"):
        net.forward()
