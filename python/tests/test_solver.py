"""caffe.SGDSolver and friends (pycaffe's test_solver.py)."""
import os

import numpy as np
import pytest

import caffe
from nets import small_net, solver_for, write


@pytest.fixture
def solver(tmp_path):
    s = caffe.SGDSolver(solver_for(small_net(), "snapshot_prefix: '%s'" % (tmp_path / "model")))
    for net in [s.net] + list(s.test_nets):
        net.blobs["label"].data[...] = np.random.randint(7, size=net.blobs["label"].data.shape)
    return s


def test_solve_and_step(solver):
    assert solver.iter == 0 and solver.type == "SGD"
    solver.step(3)
    assert solver.iter == 3
    solver.solve(None)
    assert solver.iter == 20


def test_apply_update(solver):
    w = solver.net.layers[1].blobs[0]
    w.data[...] = 0
    w.diff[...] = 1
    solver.apply_update()
    assert np.abs(w.data + 0.01).max() < 1e-7


def test_nets_outlive_their_solver(solver):
    nets = [solver.net] + list(solver.test_nets)
    assert len(nets) == 2
    del solver
    for net in nets:
        assert np.isfinite(sum(float(p.data.sum()) for ps in net.params.values() for p in ps))
        assert np.isfinite(sum(float(b.data.sum()) for b in net.blobs.values()))


def test_test_nets_share_the_train_weights(solver):
    solver.net.params["ip"][0].data[...] = 0.25
    assert (solver.test_nets[0].params["ip"][0].data == 0.25).all()


def test_snapshot_and_restore(solver, tmp_path):
    solver.step(2)
    solver.snapshot()
    model, state = tmp_path / "model_iter_2.caffemodel", tmp_path / "model_iter_2.solverstate"
    assert model.is_file() and state.is_file()
    weights = solver.net.params["ip"][0].data.copy()
    solver.step(3)
    solver.restore(str(state))
    assert solver.iter == 2
    assert np.array_equal(solver.net.params["ip"][0].data, weights)


@pytest.mark.parametrize("cls,name", [(caffe.NesterovSolver, "Nesterov"), (caffe.AdaGradSolver, "AdaGrad"),
                                      (caffe.RMSPropSolver, "RMSProp"), (caffe.AdaDeltaSolver, "AdaDelta"),
                                      (caffe.AdamSolver, "Adam")])
def test_each_rule(cls, name):
    s = cls(solver_for(small_net(), momentum=0.9 if name in ("Nesterov", "AdaDelta", "Adam") else 0))
    assert s.type == name
    s.step(2)
    assert s.iter == 2


def test_get_solver_takes_the_files_type():
    s = caffe.get_solver(solver_for(small_net(), "type: 'Adam'"))
    assert s.type == "Adam"
    assert caffe.get_solver_from_file(solver_for(small_net())).type == "SGD"


def test_random_seed_makes_nets_repeat():
    caffe.set_random_seed(5)
    a = caffe.Net(small_net(), caffe.TRAIN).params["ip"][0].data.copy()
    caffe.set_random_seed(5)
    b = caffe.Net(small_net(), caffe.TRAIN).params["ip"][0].data.copy()
    assert np.array_equal(a, b)


def test_modes():
    caffe.set_mode_cpu()
    with pytest.raises(RuntimeError, match="CPU only"):
        caffe.set_mode_gpu()
