"""Python layers under the command-line tool, which embeds an interpreter for them."""
import os
import subprocess
import sys

import numpy as np
import pytest

import caffe
from nets import write

HERE = os.path.dirname(os.path.abspath(__file__))
TOOL = os.environ.get("CORTADO_TOOL") or os.path.join(HERE, "..", "..", ".build", "release", "cortado")
pytestmark = pytest.mark.skipif(not os.path.exists(TOOL), reason="the cortado tool is not built")

NET = """name: 'regression' force_backward: true
layer { type: 'DummyData' name: 'data' top: 'x' top: 'y'
  dummy_data_param { shape { dim: 8 dim: 5 } shape { dim: 8 dim: 3 }
    data_filler { type: 'gaussian' std: 1 } data_filler { type: 'gaussian' std: 1 } } }
layer { type: 'InnerProduct' name: 'ip' bottom: 'x' top: 'p'
  inner_product_param { num_output: 3 weight_filler { type: 'gaussian' std: 0.1 } } }
%s
"""
BUILT_IN = "layer { type: 'EuclideanLoss' name: 'loss' bottom: 'p' bottom: 'y' top: 'loss' }"
IN_PYTHON = ("layer { type: 'Python' name: 'loss' bottom: 'p' bottom: 'y' top: 'loss' loss_weight: 1 "
             "python_param { module: 'pylayers' layer: 'EuclideanLoss' } }")


def solver(net, prefix):
    return write("net: '%s' base_lr: 0.05 momentum: 0.9 lr_policy: 'fixed' max_iter: 30 display: 10 "
                 "random_seed: 3 snapshot_prefix: '%s' snapshot_format: BINARYPROTO" % (net, prefix))


def train(solver_file, **env):
    e = dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""), CORTADO_PYTHON=sys.executable, **env)
    return subprocess.run([TOOL, "train", "--solver", solver_file], capture_output=True, text=True, env=e, timeout=300)


def test_a_python_loss_trains_as_the_built_in_one(tmp_path):
    weights = []
    for name, loss in (("builtin", BUILT_IN), ("python", IN_PYTHON)):
        net = write(NET % loss)
        run = train(solver(net, tmp_path / name))
        assert run.returncode == 0, run.stderr
        trained = caffe.Net(net, caffe.TEST, weights=str(tmp_path / (name + "_iter_30.caffemodel")))
        weights.append(trained.params["ip"][0].data.copy())
    assert np.abs(weights[0] - weights[1]).max() < 1e-5
    # And from Python, through SGDSolver, to the same weights.
    s = caffe.SGDSolver(solver(write(NET % IN_PYTHON), tmp_path / "api"))
    s.step(30)
    assert np.abs(s.net.params["ip"][0].data - weights[0]).max() < 1e-5


def test_an_exception_in_a_python_layer_is_an_error_with_its_traceback(tmp_path):
    net = write("""input: 'x' input_shape { dim: 2 dim: 3 }
    layer { type: 'Python' name: 'bad' bottom: 'x' top: 'y' python_param { module: 'pylayers' layer: 'Raises' } }""")
    run = train(solver(net, tmp_path / "bad"))
    assert run.returncode == 1
    assert 'Python layer "bad"' in run.stderr and "RuntimeError: no setup for you" in run.stderr
    assert "Traceback" in run.stderr
    missing = write("""input: 'x' input_shape { dim: 2 dim: 3 }
    layer { type: 'Python' name: 'gone' bottom: 'x' top: 'y' python_param { module: 'no_such_module' layer: 'X' } }""")
    run = subprocess.run([TOOL, "validate", missing], capture_output=True, text=True, timeout=120,
                         env=dict(os.environ, CORTADO_PYTHON=sys.executable))
    assert run.returncode != 0 and "no_such_module" in (run.stderr + run.stdout)


def test_the_lenet_notebook_flow_matches_cortado_train(tmp_path):
    """NetSpec writes LeNet, SGDSolver steps it while Python reads blobs and the test net
    between steps, and the weights end where `cortado train` on the same files ends."""
    from caffe import layers as L, params as P
    n = caffe.NetSpec()
    n.data, n.label = L.DummyData(shape=[dict(dim=[16, 1, 28, 28]), dict(dim=[16, 1, 1, 1])],
                                  data_filler=[dict(type="gaussian", std=1), dict(type="constant", value=3)], ntop=2)
    n.conv1 = L.Convolution(n.data, kernel_size=5, num_output=8, weight_filler=dict(type="xavier"))
    n.pool1 = L.Pooling(n.conv1, kernel_size=2, stride=2, pool=P.Pooling.MAX)
    n.ip1 = L.InnerProduct(n.pool1, num_output=20, weight_filler=dict(type="xavier"))
    n.relu1 = L.ReLU(n.ip1, in_place=True)
    n.ip2 = L.InnerProduct(n.relu1, num_output=10, weight_filler=dict(type="xavier"))
    n.loss = L.SoftmaxWithLoss(n.ip2, n.label)
    net = write(str(n.to_proto()))
    solver_file = write("train_net: '%s' test_net: '%s' test_iter: 1 test_interval: 1000 base_lr: 0.01 momentum: 0.9 "
                        "lr_policy: 'fixed' max_iter: 40 display: 10 random_seed: 7 snapshot_prefix: '%s' "
                        "snapshot_format: BINARYPROTO" % (net, net, tmp_path / "cli"))
    run = train(solver_file)
    assert run.returncode == 0, run.stderr
    s = caffe.SGDSolver(solver_file)
    losses = []
    for _ in range(40):
        s.step(1)
        losses.append(float(s.net.blobs["loss"].data))
        assert s.net.blobs["conv1"].data.shape == (16, 8, 24, 24)
    s.test_nets[0].forward()
    assert s.test_nets[0].blobs["loss"].data < losses[0]
    cli = caffe.Net(net, caffe.TEST, weights=str(tmp_path / "cli_iter_40.caffemodel"))
    for name in ("conv1", "ip1", "ip2"):
        # The same thread count in both (every core), so the same bits.
        assert np.array_equal(cli.params[name][0].data, s.net.params[name][0].data)
