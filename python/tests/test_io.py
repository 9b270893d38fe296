"""caffe.io (pycaffe's test_io.py, and the Transformer)."""
import os

import numpy as np
import pytest

import caffe
from caffe.proto import caffe_pb2

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")


def test_blobproto_forms():
    blob = caffe_pb2.BlobProto()
    blob.data.extend([0.0] * 100)
    blob.num, blob.channels, blob.height, blob.width = (1, 1, 10, 10)
    assert caffe.io.blobproto_to_array(blob).shape == (1, 1, 10, 10)
    blob = caffe_pb2.BlobProto()
    blob.data.extend([0.0] * 100)
    blob.shape.dim.extend([10, 10])
    assert caffe.io.blobproto_to_array(blob).shape == (10, 10)
    blob = caffe_pb2.BlobProto()
    blob.data.extend([0.0] * 100)
    with pytest.raises(ValueError):
        caffe.io.blobproto_to_array(blob)
    blob = caffe_pb2.BlobProto()
    blob.data.extend([123.0])
    assert caffe.io.blobproto_to_array(blob) == 123


def test_array_round_trips():
    a = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    assert np.array_equal(caffe.io.blobproto_to_array(caffe.io.array_to_blobproto(a)), a)
    assert all(np.array_equal(x, a) for x in caffe.io.blobprotovector_str_to_arraylist(caffe.io.arraylist_to_blobprotovector_str([a, a])))
    u = (np.arange(24) % 255).astype(np.uint8).reshape(2, 3, 4)
    assert np.array_equal(caffe.io.datum_to_array(caffe.io.array_to_datum(u, 3)), u)
    with_label = caffe.io.array_to_datum(np.ones((10, 10, 3)), label=1)
    without = caffe.io.array_to_datum(np.ones((10, 10, 3)))
    assert len(with_label.SerializeToString()) > len(without.SerializeToString())


def test_load_image_png(tmp_path):
    import struct, zlib
    # A 2×3 RGB PNG written by hand: red, green, blue / white, black, grey.
    rows = [bytes([255, 0, 0, 0, 255, 0, 0, 0, 255]), bytes([255, 255, 255, 0, 0, 0, 128, 128, 128])]
    raw = b"".join(b"\x00" + r for r in rows)
    chunk = lambda t, d: struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xffffffff)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 8, 2, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    path = tmp_path / "x.png"
    path.write_bytes(png)
    im = caffe.io.load_image(str(path))
    assert im.shape == (2, 3, 3) and im.dtype == np.float32
    assert np.allclose(im[0, 0], [1, 0, 0]) and np.allclose(im[0, 2], [0, 0, 1]) and np.allclose(im[1, 2], 128 / 255.)
    gray = caffe.io.load_image(str(path), color=False)
    assert gray.shape == (2, 3, 1)
    with pytest.raises(caffe.CortadoError):
        caffe.io.load_image(str(tmp_path / "missing.png"))


def test_resize_and_oversample():
    im = np.arange(16, dtype=np.float32).reshape(4, 4, 1)
    assert caffe.io.resize_image(im, (4, 4)).shape == (4, 4, 1)
    up = caffe.io.resize_image(im, (8, 8))
    assert up.shape == (8, 8, 1) and up.min() >= 0 and up.max() <= 15
    nearest = caffe.io.resize_image(im, (2, 2), interp_order=0)
    assert nearest.shape == (2, 2, 1)
    crops = caffe.io.oversample([np.random.rand(6, 6, 3).astype(np.float32)], (4, 4))
    assert crops.shape == (10, 4, 4, 3)
    assert np.array_equal(crops[5], crops[0][:, ::-1, :])


def test_transformer_round_trip():
    t = caffe.io.Transformer({"data": (1, 3, 4, 5)})
    t.set_transpose("data", (2, 0, 1))
    t.set_channel_swap("data", (2, 1, 0))
    t.set_raw_scale("data", 255)
    t.set_mean("data", np.array([10.0, 20.0, 30.0]))
    t.set_input_scale("data", 0.5)
    im = np.random.rand(4, 5, 3).astype(np.float32)
    x = t.preprocess("data", im)
    assert x.shape == (3, 4, 5)
    assert np.allclose(x[0], (im[:, :, 2] * 255 - 10) * 0.5, atol=1e-4)
    assert np.allclose(t.deprocess("data", x), im, atol=1e-5)
    with pytest.raises(ValueError):
        t.set_mean("data", np.zeros((3, 2, 2)))
