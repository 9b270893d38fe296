"""caffe.io: images in and out of nets, and Caffe's blob and datum messages as arrays.

Images are decoded by Cortado's own JPEG and PNG readers, and resized here with numpy, so
neither scikit-image nor OpenCV is needed.
"""
import ctypes

import numpy as np

from ._lib import lib, check
from ._net import Blob
from .proto import caffe_pb2


# Caffe's messages and arrays.

def blobproto_to_array(blob, return_diff=False):
    """The blob's data (or diff) as an array of its shape: the old num/channels/height/width
    when any of them is set, else `shape` (no shape at all: a scalar, or a ValueError)."""
    values = np.array(blob.diff if return_diff else blob.data, dtype=np.float32)
    if blob.HasField("num") or blob.HasField("channels") or blob.HasField("height") or blob.HasField("width"):
        return values.reshape(blob.num, blob.channels, blob.height, blob.width)
    return values.reshape(tuple(blob.shape.dim))


def array_to_blobproto(arr, diff=None):
    """A BlobProto of the array's shape and values (and diff, of the same shape)."""
    blob = caffe_pb2.BlobProto()
    blob.shape.dim.extend(arr.shape)
    blob.data.extend(np.asarray(arr, dtype=np.float32).flat)
    if diff is not None:
        blob.diff.extend(np.asarray(diff, dtype=np.float32).flat)
    return blob


def arraylist_to_blobprotovector_str(arraylist):
    vec = caffe_pb2.BlobProtoVector()
    vec.blobs.extend([array_to_blobproto(a) for a in arraylist])
    return vec.SerializeToString()


def blobprotovector_str_to_arraylist(text):
    vec = caffe_pb2.BlobProtoVector()
    vec.ParseFromString(text)
    return [blobproto_to_array(b) for b in vec.blobs]


def array_to_datum(arr, label=None):
    """A Datum from a C×H×W array: uint8 as bytes, anything else as float_data."""
    if arr.ndim != 3:
        raise ValueError("Incorrect array shape.")
    datum = caffe_pb2.Datum()
    datum.channels, datum.height, datum.width = arr.shape
    if arr.dtype == np.uint8:
        datum.data = arr.tobytes()
    else:
        datum.float_data.extend(arr.astype(float).flat)
    if label is not None:
        datum.label = label
    return datum


def datum_to_array(datum):
    """The C×H×W array of a Datum that is not encoded."""
    if len(datum.data):
        return np.frombuffer(datum.data, dtype=np.uint8).reshape(datum.channels, datum.height, datum.width)
    return np.array(datum.float_data).astype(float).reshape(datum.channels, datum.height, datum.width)


# Images.

def load_image(filename, color=True):
    """An H×W×3 (RGB) or H×W×1 float32 image in [0, 1] from a JPEG or PNG."""
    ptr = check(lib.cortado_load_image(filename.encode() if isinstance(filename, str) else filename, 1 if color else 0), handle=True)
    return Blob(ptr).data  # the array alone keeps the decoded image's memory


def _resize_axis(im, size, axis, order):
    """Resamples one axis at pixel centres: linear (order 1) or nearest (order 0)."""
    n = im.shape[axis]
    if n == size:
        return im
    centres = (np.arange(size) + 0.5) * (n / float(size)) - 0.5
    if order == 0:
        index = np.clip(np.round(centres).astype(int), 0, n - 1)
        return np.take(im, index, axis=axis)
    centres = np.clip(centres, 0, n - 1)
    lo = np.floor(centres).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    w = (centres - lo).reshape([-1 if a == axis else 1 for a in range(im.ndim)])
    return np.take(im, lo, axis=axis) * (1 - w) + np.take(im, hi, axis=axis) * w


def resize_image(im, new_dims, interp_order=1):
    """An H×W×K image resized to new_dims (height, width); order 0 nearest, 1 linear."""
    im = np.asarray(im, dtype=np.float32)
    h, w = int(new_dims[0]), int(new_dims[1])
    if interp_order > 1:
        raise ValueError("interp_order %d: only 0 (nearest) and 1 (linear) are provided" % interp_order)
    out = _resize_axis(_resize_axis(im, h, 0, interp_order), w, 1, interp_order)
    return out.astype(np.float32)


def oversample(images, crop_dims):
    """Ten crops of each H×W×K image: the four corners, the centre, and their mirrors."""
    im_shape = np.array(images[0].shape)
    crop_dims = np.array(crop_dims)
    centre = im_shape[:2] / 2.0
    h_starts = [0, im_shape[0] - crop_dims[0]]
    w_starts = [0, im_shape[1] - crop_dims[1]]
    boxes = [(i, j) for i in h_starts for j in w_starts]
    boxes.append(tuple(np.round(centre - crop_dims / 2.0).astype(int)))
    crops = np.empty((10 * len(images), crop_dims[0], crop_dims[1], im_shape[-1]), dtype=np.float32)
    k = 0
    for im in images:
        for (i, j) in boxes:
            crops[k] = im[int(i):int(i) + crop_dims[0], int(j):int(j) + crop_dims[1], :]
            k += 1
        crops[k:k + 5] = crops[k - 5:k, :, ::-1, :]
        k += 5
    return crops


class Transformer(object):
    """Turns H×W×K images into a net's C×H×W input and back, in Caffe's order: resize,
    transpose, channel swap, raw scale, mean subtraction, input scale."""

    def __init__(self, inputs):
        self.inputs = inputs
        self.transpose, self.channel_swap, self.raw_scale = {}, {}, {}
        self.mean, self.input_scale = {}, {}

    def _check(self, name):
        if name not in self.inputs:
            raise Exception("{} is not one of the net inputs: {}".format(name, self.inputs))

    def preprocess(self, in_, data):
        self._check(in_)
        x = data.astype(np.float32, copy=False)
        dims = self.inputs[in_][2:]
        if x.shape[:2] != tuple(dims):
            x = resize_image(x, dims)
        if in_ in self.transpose:
            x = x.transpose(self.transpose[in_])
        if in_ in self.channel_swap:
            x = x[self.channel_swap[in_], :, :]
        if in_ in self.raw_scale:
            x = x * self.raw_scale[in_]
        if in_ in self.mean:
            x = x - self.mean[in_]
        if in_ in self.input_scale:
            x = x * self.input_scale[in_]
        return x.astype(np.float32, copy=False)

    def deprocess(self, in_, data):
        self._check(in_)
        x = data.copy().squeeze()
        if in_ in self.input_scale:
            x = x / self.input_scale[in_]
        if in_ in self.mean:
            x = x + self.mean[in_]
        if in_ in self.raw_scale:
            x = x / self.raw_scale[in_]
        if in_ in self.channel_swap:
            x = x[np.argsort(self.channel_swap[in_]), :, :]
        if in_ in self.transpose:
            x = x.transpose(np.argsort(self.transpose[in_]))
        return x

    def set_transpose(self, in_, order):
        self._check(in_)
        if len(order) != len(self.inputs[in_]) - 1:
            raise Exception("Transpose order needs to have the same number of dimensions as the input.")
        self.transpose[in_] = order

    def set_channel_swap(self, in_, order):
        self._check(in_)
        if len(order) != self.inputs[in_][1]:
            raise Exception("Channel swap needs to have the same number of dimensions as the input channels.")
        self.channel_swap[in_] = order

    def set_raw_scale(self, in_, scale):
        self._check(in_)
        self.raw_scale[in_] = scale

    def set_mean(self, in_, mean):
        """A per-channel mean (K values) or a whole mean image of the input's C×H×W shape."""
        self._check(in_)
        mean = np.asarray(mean)
        shape = tuple(self.inputs[in_][1:])
        if mean.ndim == 1:
            if mean.shape[0] != shape[0]:
                raise ValueError("Mean channels incompatible with input.")
            mean = mean[:, np.newaxis, np.newaxis]
        else:
            if len(mean.shape) == 2:
                mean = mean[np.newaxis, :, :]
            if mean.shape != shape:
                raise ValueError("Mean shape incompatible with input shape.")
        self.mean[in_] = mean

    def set_input_scale(self, in_, scale):
        self._check(in_)
        self.input_scale[in_] = scale
