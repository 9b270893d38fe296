"""Python layers the tests name in their nets (`module: 'pylayers'`)."""
import numpy as np

import caffe


class TimesTen(caffe.Layer):
    def reshape(self, bottom, top):
        top[0].reshape(*bottom[0].data.shape)

    def forward(self, bottom, top):
        top[0].data[...] = 10 * bottom[0].data

    def backward(self, top, propagate_down, bottom):
        bottom[0].diff[...] = 10 * top[0].diff


class TimesParam(caffe.Layer):
    def setup(self, bottom, top):
        self.value = float(self.param_str)

    def reshape(self, bottom, top):
        top[0].reshape(*bottom[0].data.shape)

    def forward(self, bottom, top):
        top[0].data[...] = self.value * bottom[0].data

    def backward(self, top, propagate_down, bottom):
        bottom[0].diff[...] = self.value * top[0].diff


class Raises(caffe.Layer):
    def setup(self, bottom, top):
        raise RuntimeError("no setup for you")


class RaisesInBackward(TimesTen):
    def backward(self, top, propagate_down, bottom):
        raise ValueError("no gradient for you")


class OwnParameter(caffe.Layer):
    def setup(self, bottom, top):
        self.blobs.add_blob(1)
        self.blobs[0].data[0] = 0

    def reshape(self, bottom, top):
        top[0].reshape(*bottom[0].data.shape)

    def backward(self, top, propagate_down, bottom):
        self.blobs[0].diff[0] = 1


class Phase(caffe.Layer):
    def reshape(self, bottom, top):
        top[0].reshape()

    def forward(self, bottom, top):
        top[0].data[()] = self.phase


class Counter(caffe.Layer):
    """A data layer: 0, 1, 2, … in batches of 5."""

    def setup(self, bottom, top):
        self.next = 0
        top[0].reshape(5)

    def forward(self, bottom, top):
        top[0].data[...] = np.arange(self.next, self.next + 5)
        self.next += 5


class EuclideanLoss(caffe.Layer):
    """Caffe's EuclideanLoss in Python (as examples/pycaffe/layers/pyloss.py writes it)."""

    def setup(self, bottom, top):
        if len(bottom) != 2:
            raise Exception("Need two inputs to compute distance.")

    def reshape(self, bottom, top):
        if bottom[0].count != bottom[1].count:
            raise Exception("Inputs must have the same dimension.")
        self.diff = np.zeros_like(bottom[0].data, dtype=np.float32)
        top[0].reshape(1)

    def forward(self, bottom, top):
        self.diff[...] = bottom[0].data - bottom[1].data
        top[0].data[...] = np.sum(self.diff ** 2) / bottom[0].num / 2.0

    def backward(self, top, propagate_down, bottom):
        for i in range(2):
            if not propagate_down[i]:
                continue
            sign = 1 if i == 0 else -1
            bottom[i].diff[...] = sign * self.diff / bottom[i].num


class AddsBlobLate(TimesTen):
    """Adds a parameter blob in forward, after the net listed its parameters."""

    def forward(self, bottom, top):
        self.blobs.add_blob(2)


class RecordsItsProcess(TimesTen):
    """Appends its interpreter's process id to the file `param_str` names, once per setup."""

    def setup(self, bottom, top):
        import os
        with open(self.param_str, "a") as f:
            f.write("%d\n" % os.getpid())


class RecordsItsPackage(TimesTen):
    """Writes where its `caffe` package was imported from into the file `param_str` names."""

    def setup(self, bottom, top):
        with open(self.param_str, "w") as f:
            f.write(caffe.__file__)
