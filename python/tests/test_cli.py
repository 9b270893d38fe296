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


def python_env(**extra):
    """The tool's environment for Python layers: this interpreter, and the tests' modules on PYTHONPATH."""
    return dict(os.environ, PYTHONPATH=HERE + os.pathsep + os.environ.get("PYTHONPATH", ""), CORTADO_PYTHON=sys.executable, **extra)


def train(solver_file, **env):
    return subprocess.run([TOOL, "train", "--solver", solver_file], capture_output=True, text=True, env=python_env(**env), timeout=300)


def test_a_python_loss_trains_as_the_built_in_one(tmp_path):
    weights = []
    for name, loss in (("builtin", BUILT_IN), ("python", IN_PYTHON)):
        net = write(NET % loss)
        run = train(solver(net, tmp_path / name))
        assert run.returncode == 0, run.stderr
        trained = caffe.Net(net, caffe.TEST, weights=str(tmp_path / (name + "_iter_30.caffemodel")))
        weights.append(trained.params["ip"][0].data.copy())
        scored = subprocess.run([TOOL, "test", "--model", net, "--weights", str(tmp_path / (name + "_iter_30.caffemodel")),
                                 "--iterations", "2"], capture_output=True, text=True, timeout=120, env=python_env())
        assert scored.returncode == 0 and "loss = " in scored.stderr, scored.stderr
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


def write_idx(path_images, path_labels, count, seed):
    """A small MNIST-shaped set in IDX files: noise with a bright row that tells the label."""
    rng = np.random.RandomState(seed)
    labels = (np.arange(count) % 10).astype(np.uint8)
    images = rng.randint(0, 96, size=(count, 28, 28)).astype(np.uint8)
    for i, label in enumerate(labels):
        images[i, 4 + 2 * label, 4:24] = 250
    with open(path_images, "wb") as f:
        f.write(np.array([2051, count, 28, 28], dtype=">i4").tobytes() + images.tobytes())
    with open(path_labels, "wb") as f:
        f.write(np.array([2049, count], dtype=">i4").tobytes() + labels.tobytes())


def hdf5_list(tmp_path, name, count, seed):
    """Converts IDX files to HDF5 with `cortado convert-mnist`, as get_fashion_mnist.sh does."""
    images, labels, h5 = tmp_path / (name + "-images"), tmp_path / (name + "-labels"), tmp_path / (name + ".h5")
    write_idx(images, labels, count, seed)
    run = subprocess.run([TOOL, "convert-mnist", str(images), str(labels), str(h5)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    listing = tmp_path / (name + ".txt")
    listing.write_text(str(h5) + "\n")
    return str(listing)


def test_the_lenet_notebook_flow_matches_cortado_train(tmp_path):
    """01-learning-lenet: NetSpec writes LeNet on HDF5 data, SGDSolver steps 200 iterations
    while Python reads the blobs and scores test_nets[0], and every loss and score is the
    one `cortado train` logs for the same files."""
    sys.path.insert(0, os.path.join(HERE, "..", "examples"))
    import learning_lenet
    solver = learning_lenet.write_files(str(tmp_path), hdf5_list(tmp_path, "train", 640, 1),
                                        hdf5_list(tmp_path, "test", 200, 2), 200, iters=200, test_interval=50)
    losses, scores = learning_lenet.notebook(solver, 200, 50, learning_lenet.test_iterations(200))
    cli_losses, cli_tests = learning_lenet.cortado_train(solver, TOOL)
    assert learning_lenet.compare(losses, scores, cli_losses, cli_tests) == []
    assert len(cli_losses) == 200 and sorted(cli_tests) == [0, 50, 100, 150, 200]
    assert losses[-1] < losses[0] / 4 and scores[200] > 0.9


def test_glog_minloglevel_quiets_the_log(tmp_path):
    """pycaffe scripts set GLOG_minloglevel=2 before importing caffe; the tool honours it too."""
    net = write(NET % BUILT_IN)
    quiet = subprocess.run([TOOL, "train", "--solver", solver(net, tmp_path / "q")], capture_output=True, text=True,
                           timeout=300, env=dict(os.environ, GLOG_minloglevel="1"))
    assert quiet.returncode == 0 and "Iteration" not in quiet.stderr, quiet.stderr
    loud = subprocess.run([TOOL, "train", "--solver", solver(net, tmp_path / "l")], capture_output=True, text=True, timeout=300)
    assert "Iteration 10" in loud.stderr


def test_cortado_time_runs_python_layers(tmp_path):
    run = subprocess.run([TOOL, "time", "--model", write(NET % IN_PYTHON), "--iterations", "3"], capture_output=True,
                         text=True, timeout=300, env=python_env())
    assert run.returncode == 0, run.stderr
    assert "loss\tforward:" in run.stderr and "Average Forward-Backward" in run.stderr


MPIRUN = "/usr/bin/mpirun"


@pytest.mark.skipif(not os.path.exists(MPIRUN), reason="Open MPI's mpirun is not installed")
def test_under_mpirun_each_rank_runs_its_own_interpreter(tmp_path):
    pids = tmp_path / "pids"
    net = write((NET % IN_PYTHON).replace(
        "layer { type: 'InnerProduct'",
        "layer { type: 'Python' name: 'scale' bottom: 'x' top: 'x10' python_param { module: 'pylayers' "
        "layer: 'RecordsItsProcess' param_str: '%s' } }\nlayer { type: 'InnerProduct'" % pids).replace("bottom: 'x' top: 'p'", "bottom: 'x10' top: 'p'"))
    env = python_env(OMPI_MCA_btl_vader_single_copy_mechanism="none", OMPI_MCA_rmaps_base_oversubscribe="1")
    run = subprocess.run([MPIRUN, "--allow-run-as-root", "-np", "2", "-x", "PYTHONPATH", "-x", "CORTADO_PYTHON", TOOL, "train",
                          "--threads", "1", "--solver", solver(net, tmp_path / "mpi")], capture_output=True, text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "mpi_iter_30.caffemodel").exists()
    assert len(set(pids.read_text().split())) == 2


def test_the_tool_imports_the_package_of_the_python_it_is_given(tmp_path):
    """With a virtual environment's python, its packages come first, as they do when it runs:
    a cortado installed in the base interpreter must not shadow the venv's."""
    where = tmp_path / "where"
    net = write("""input: 'x' input_shape { dim: 2 dim: 3 }
    layer { type: 'Python' name: 'p' bottom: 'x' top: 'y' python_param { module: 'pylayers' layer: 'RecordsItsPackage' param_str: '%s' } }""" % where)
    run = subprocess.run([TOOL, "time", "--model", net, "--iterations", "1"], capture_output=True, text=True, timeout=120, env=python_env())
    assert run.returncode == 0, run.stderr
    assert os.path.realpath(where.read_text()) == os.path.realpath(caffe.__file__)
