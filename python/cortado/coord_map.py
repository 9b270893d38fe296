"""How the coordinates of one top map onto another's through the layers between them, to
place Crop layers (FCN's score maps cropped back onto the input).

A map is (axis, a, b): output coordinate = a · input coordinate + b along the spatial axes
from `axis` on; the identity is (None, 1, 0). Convolution and pooling scale by 1/stride,
deconvolution by stride; pointwise layers keep coordinates; Crop shifts by its offset.
"""
import numpy as np

from .net_spec import layers as L

PASS_THROUGH_LAYERS = ["AbsVal", "BatchNorm", "Bias", "BNLL", "Dropout", "Eltwise", "ELU", "Log", "LRN", "Exp",
                       "MVN", "Power", "ReLU", "PReLU", "Scale", "Sigmoid", "Split", "TanH", "Threshold"]


class UndefinedMapException(Exception):
    """A layer whose outputs are not a spatial function of its inputs (InnerProduct)."""


class AxisMismatchException(Exception):
    """Two maps along different axes."""


def _vector(v):
    return np.array(v, ndmin=1)


def conv_params(fn):
    """(axis, stride, effective kernel extent, pad) of a convolution-like layer."""
    p = fn.params.get("convolution_param", fn.params)
    legacy = {"pad_h", "pad_w", "kernel_h", "kernel_w", "stride_h", "stride_w"} & set(p)
    assert not legacy, "cropping does not support legacy _h/_w params"
    kernel = _vector(p["kernel_size"])
    dilation = _vector(p.get("dilation", 1))
    return p.get("axis", 1), _vector(p.get("stride", 1)), (kernel - 1) * dilation + 1, _vector(p.get("pad", 0))


def crop_params(fn):
    p = fn.params.get("crop_param", fn.params)
    return p.get("axis", 2), _vector(p.get("offset", 0))


def coord_map(fn):
    """The map a layer applies from its bottoms to its tops."""
    if fn.type_name in ("Convolution", "Pooling", "Im2col"):
        axis, stride, extent, pad = conv_params(fn)
        return axis, 1.0 / stride, (pad - (extent - 1) / 2.0) / stride
    if fn.type_name == "Deconvolution":
        axis, stride, extent, pad = conv_params(fn)
        return axis, stride, (extent - 1) / 2.0 - pad
    if fn.type_name in PASS_THROUGH_LAYERS:
        return None, 1, 0
    if fn.type_name == "Crop":
        axis, offset = crop_params(fn)
        return axis - 1, 1, -offset
    raise UndefinedMapException(fn.type_name)


def compose(first, then):
    """`then` after `first`."""
    ax1, a1, b1 = first
    ax2, a2, b2 = then
    if ax1 is not None and ax2 is not None and ax1 != ax2:
        raise AxisMismatchException((ax1, ax2))
    return (ax2 if ax1 is None else ax1), a1 * a2, a1 * b2 + b1


def inverse(m):
    ax, a, b = m
    return ax, 1.0 / a, -b / a


def _mappable_bottoms(top):
    """A Crop layer's second bottom only gives the size, so only its first is followed."""
    bottoms = top.fn.inputs
    return bottoms[:1] if top.fn.type_name == "Crop" else bottoms


def _ancestors(top):
    """Every top reachable backwards from `top` through mappable layers, with its map."""
    maps = {top: (None, 1, 0)}
    frontier = [top]
    while frontier:
        t = frontier.pop()
        try:
            step = coord_map(t.fn)
        except UndefinedMapException:
            continue
        for bottom in _mappable_bottoms(t):
            maps[bottom] = compose(maps[t], step)
            frontier.append(bottom)
    return maps


def coord_map_from_to(top_from, top_to):
    """(axis, a, b) with top_to's coordinate = a · top_from's + b, through a common ancestor."""
    from_maps = _ancestors(top_from)
    to_maps = {top_to: (None, 1, 0)}
    frontier = [top_to]
    while frontier:
        t = frontier.pop()
        if t in from_maps:
            return compose(to_maps[t], inverse(from_maps[t]))
        try:
            step = coord_map(t.fn)
        except UndefinedMapException:
            continue
        for bottom in _mappable_bottoms(t):
            to_maps[bottom] = compose(to_maps[t], step)
            frontier.append(bottom)
    raise RuntimeError("Could not compute map between tops; are they connected by spatial layers?")


def crop(top_from, top_to):
    """A Crop layer that crops top_from onto top_to's extent, from their coordinate map."""
    ax, a, b = coord_map_from_to(top_from, top_to)
    assert (np.asarray(a) == 1).all(), "scale mismatch on crop (a = {})".format(a)
    assert (np.asarray(b) <= 0).all(), "cannot crop negative offset (b = {})".format(b)
    assert (np.round(b) == b).all(), "cannot crop noninteger offset (b = {})".format(b)
    return L.Crop(top_from, top_to, crop_param=dict(axis=ax + 1, offset=list(-np.round(b).astype(int))))
