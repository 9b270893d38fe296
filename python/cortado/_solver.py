"""pycaffe's solvers: the update rule is the class's, whatever the file's `type` says."""
from . import _lib
from ._lib import lib, check, Handle, encode, take_string
from ._net import Net


class Solver(object):
    _type = None

    def __init__(self, path):
        self._h = Handle(check(lib.cortado_solver_new(encode(path), encode(self._type)), handle=True))
        self.net = Net._wrap(lib.cortado_solver_net(self._h.ptr))
        self.test_nets = [Net._wrap(lib.cortado_solver_test_net(self._h.ptr, i))
                          for i in range(lib.cortado_solver_test_net_count(self._h.ptr))]

    @property
    def iter(self):
        return int(lib.cortado_solver_iter(self._h.ptr))

    @property
    def type(self):
        return take_string(lib.cortado_solver_type(self._h.ptr))

    def step(self, iters):
        check(lib.cortado_solver_step(self._h.ptr, int(iters)))

    def solve(self, resume_file=None):
        check(lib.cortado_solver_solve(self._h.ptr, encode(resume_file)))

    def snapshot(self):
        check(lib.cortado_solver_snapshot(self._h.ptr))

    def restore(self, path):
        check(lib.cortado_solver_restore(self._h.ptr, encode(path)))

    def apply_update(self):
        lib.cortado_solver_apply_update(self._h.ptr)


class SGDSolver(Solver):
    _type = "SGD"


class NesterovSolver(Solver):
    _type = "Nesterov"


class AdaGradSolver(Solver):
    _type = "AdaGrad"


class RMSPropSolver(Solver):
    _type = "RMSProp"


class AdaDeltaSolver(Solver):
    _type = "AdaDelta"


class AdamSolver(Solver):
    _type = "Adam"


def get_solver(path):
    """A solver of the type the file names (`type: "Adam"`; SGD when it names none)."""
    return Solver(path)


get_solver_from_file = get_solver
