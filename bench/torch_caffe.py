"""PyTorch peer for bench/compare.py: builds a Caffe prototxt net in PyTorch with Caffe's
shapes, initialisation rules and SGD update (written out), and times the same workloads
Cortado runs. Prints one JSON object per run on stdout. Needs torch, numpy and h5py."""
import argparse, json, math, re, sys, time

import torch
import torch.nn.functional as F


def parse_prototxt(text):
    """Caffe's text format as nested dicts of lists."""
    tokens = re.findall(r'"(?:[^"\\]|\\.)*"|[{}:]|[^\s{}:#"]+|#[^\n]*', text)
    tokens = [t for t in tokens if not t.startswith("#")]
    pos = 0

    def value(tok):
        if tok.startswith('"'):
            return tok[1:-1]
        try:
            return int(tok)
        except ValueError:
            try:
                return float(tok)
            except ValueError:
                return tok

    def message():
        nonlocal pos
        out = {}
        while pos < len(tokens) and tokens[pos] != "}":
            name = tokens[pos]; pos += 1
            if tokens[pos] == ":":
                pos += 1
            if tokens[pos] == "{":
                pos += 1
                v = message()
                pos += 1
            else:
                v = value(tokens[pos]); pos += 1
            out.setdefault(name, []).append(v)
        return out

    return message()


def one(msg, name, default=None):
    return msg.get(name, [default])[0]


def pair(p, name, default):
    if name + "_h" in p:
        return one(p, name + "_h"), one(p, name + "_w")
    v = p.get(name + "_size" if name == "kernel" else name, [default])
    return (v[0], v[-1])


def fill(t, filler, fan_in):
    kind = one(filler or {}, "type", "constant")
    if kind == "xavier":
        a = math.sqrt(3.0 / fan_in)
        t.uniform_(-a, a)
    elif kind == "gaussian":
        t.normal_(0, one(filler, "std", 1.0))
    elif kind == "msra":
        t.normal_(0, math.sqrt(2.0 / fan_in))
    else:
        t.fill_(one(filler or {}, "value", 0.0))


class CaffeNet:
    """A net of PyTorch tensors and functional ops, layer by layer as in the prototxt."""

    def __init__(self, net, phase, input_shapes):
        self.phase = phase
        self.layers, self.params = [], []  # params: (tensor, lr_mult, decay_mult)
        self.last_bn = None  # (top, affine holder) of a BatchNorm that a Scale may fold into
        shapes = dict(input_shapes)
        for layer in net.get("layer", []):
            inc = layer.get("include", [])
            if inc and all(one(i, "phase", phase) != phase for i in inc):
                continue
            kind, bottoms, tops = one(layer, "type"), layer.get("bottom", []), layer.get("top", [])
            mults = [(one(p, "lr_mult", 1.0), one(p, "decay_mult", 1.0)) for p in layer.get("param", [])]
            op = self.build(kind, layer, [shapes.get(b) for b in bottoms], mults)
            if kind != "BatchNorm":
                self.last_bn = None
            if op is None:
                continue
            fn, out_shapes = op
            self.layers.append((fn, bottoms, tops))
            for t, s in zip(tops, out_shapes):
                shapes[t] = s

    def param(self, shape, filler, fan_in, mults, index):
        t = torch.empty(shape)
        fill(t, filler, fan_in)
        t.requires_grad_(True)
        lr, decay = mults[index] if index < len(mults) else (1.0, 1.0)
        self.params.append((t, lr, decay))
        return t

    def build(self, kind, layer, bshapes, mults):
        if kind in ("Input", "HDF5Data", "Data", "DummyData", "Accuracy", "Silence"):
            return None
        if kind == "BatchNorm":
            # Caffe's BatchNorm has no affine part of its own; a Scale right after it (in place,
            # as in every Caffe ResNet and MobileNet) folds into it, so PyTorch runs its own fused
            # affine batch norm (its best), and the Scale layer becomes nothing.
            c, eps = bshapes[0][1], one(one(layer, "batch_norm_param", {}), "eps", 1e-5)
            mean, var, affine = torch.zeros(c), torch.ones(c), {"w": None, "b": None}
            self.last_bn = (layer["top"][0], affine)
            return (lambda x: F.batch_norm(x, mean, var, affine["w"], affine["b"], self.phase == "TRAIN", 0.001, eps)), [bshapes[0]]
        if kind == "Scale":
            p, s = one(layer, "scale_param", {}), bshapes[0]
            w = self.param((s[1],), one(p, "filler", {"type": ["constant"], "value": [1.0]}), 1, mults, 0)
            b = self.param((s[1],), one(p, "bias_filler"), 1, mults, 1) if one(p, "bias_term", "false") == "true" else None
            if self.last_bn and self.last_bn[0] == layer["bottom"][0] == layer["top"][0]:
                self.last_bn[1].update(w=w, b=b)
                return (lambda x: x), [s]
            view = (1, -1) + (1,) * (len(s) - 2)
            return (lambda x: x * w.view(view) + (b.view(view) if b is not None else 0)), [s]
        if kind == "Eltwise":
            op = one(one(layer, "eltwise_param", {}), "operation", "SUM")
            combine = {"SUM": torch.add, "PROD": torch.mul, "MAX": torch.maximum}[op]
            def eltwise(*xs):
                out = xs[0]
                for x in xs[1:]:
                    out = combine(out, x)
                return out
            return eltwise, [bshapes[0]]
        s = bshapes[0] if bshapes else None
        if kind == "Convolution":
            p = one(layer, "convolution_param")
            n, g = one(p, "num_output"), one(p, "group", 1)
            kh, kw = pair(p, "kernel", None); ph, pw = pair(p, "pad", 0); sh, sw = pair(p, "stride", 1)
            d = one(p, "dilation", 1)
            w = self.param((n, s[1] // g, kh, kw), one(p, "weight_filler"), s[1] // g * kh * kw, mults, 0)
            b = self.param((n,), one(p, "bias_filler"), 1, mults, 1) if one(p, "bias_term", "true") != "false" else None
            oh = (s[2] + 2 * ph - (d * (kh - 1) + 1)) // sh + 1
            ow = (s[3] + 2 * pw - (d * (kw - 1) + 1)) // sw + 1
            return (lambda x: F.conv2d(x, w, b, (sh, sw), (ph, pw), d, g)), [(s[0], n, oh, ow)]
        if kind == "InnerProduct":
            p = one(layer, "inner_product_param")
            n, k = one(p, "num_output"), math.prod(s[1:])
            w = self.param((n, k), one(p, "weight_filler"), k, mults, 0)
            b = self.param((n,), one(p, "bias_filler"), 1, mults, 1)
            return (lambda x: F.linear(x.flatten(1), w, b)), [(s[0], n)]
        if kind == "Pooling":
            p = one(layer, "pooling_param")
            kh, kw = pair(p, "kernel", None); ph, pw = pair(p, "pad", 0); sh, sw = pair(p, "stride", 1)
            if one(p, "global_pooling", "false") == "true":
                kh, kw, ph, pw, sh, sw = s[2], s[3], 0, 0, 1, 1
            oh = int(math.ceil((s[2] + 2 * ph - kh) / sh)) + 1
            ow = int(math.ceil((s[3] + 2 * pw - kw) / sw)) + 1
            if ph and (oh - 1) * sh >= s[2] + ph: oh -= 1
            if pw and (ow - 1) * sw >= s[3] + pw: ow -= 1
            if one(p, "pool", "MAX") == "MAX":
                fn = lambda x: F.max_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=True)
            else:
                fn = lambda x: F.avg_pool2d(x, (kh, kw), (sh, sw), (ph, pw), ceil_mode=True)
            return fn, [(s[0], s[1], oh, ow)]
        if kind == "ReLU":
            return (lambda x: F.relu(x)), [s]
        if kind == "LRN":
            p = one(layer, "lrn_param", {})
            size, alpha, beta, k = one(p, "local_size", 5), one(p, "alpha", 1.0), one(p, "beta", 0.75), one(p, "k", 1.0)
            return (lambda x: F.local_response_norm(x, size, alpha, beta, k)), [s]
        if kind == "Dropout":
            r = one(one(layer, "dropout_param", {}), "dropout_ratio", 0.5)
            return (lambda x: F.dropout(x, r, training=self.phase == "TRAIN")), [s]
        if kind == "Concat":
            c = sum(b[1] for b in bshapes)
            return (lambda *xs: torch.cat(xs, 1)), [(s[0], c) + tuple(s[2:])]
        if kind == "Softmax":
            return (lambda x: F.softmax(x, 1)), [s]
        if kind == "SoftmaxWithLoss":
            # N×C×1×1 (SqueezeNet's pooled scores) is N×C to Caffe's loss.
            return (lambda x, y: F.cross_entropy(x.flatten(1) if x[0, 0].numel() == 1 else x, y.long().flatten())), [()]
        raise SystemExit(f"torch_caffe.py: no PyTorch op for Caffe layer type {kind}")

    def forward(self, blobs):
        for fn, bottoms, tops in self.layers:
            out = fn(*[blobs[b] for b in bottoms])
            for t in tops:
                blobs[t] = out
        return blobs


def sgd_step(net, lr, momentum, decay, history):
    """Caffe's SGD: diff += decay·decay_mult·w; v = momentum·v + lr·lr_mult·diff; w −= v."""
    with torch.no_grad():
        for i, (w, lr_mult, decay_mult) in enumerate(net.params):
            g = w.grad
            if decay * decay_mult:
                g.add_(w, alpha=decay * decay_mult)
            v = history[i]
            v.mul_(momentum).add_(g, alpha=lr * lr_mult)
            w.sub_(v)
            w.grad = None


def input_shapes(net):
    out = {}
    for layer in net.get("layer", []):
        if one(layer, "type") == "Input":
            for t, s in zip(layer["top"], one(layer, "input_param")["shape"]):
                out[t] = tuple(s["dim"])
    return out


def dummy_inputs(net):
    """The tops of a DummyData layer, as functions that fill them: constant, or uniform random
    redrawn at every call (every iteration), as Cortado and Caffe redraw them."""
    def top(shape, filler):
        if one(filler, "type", "constant") == "uniform":
            lo, hi = float(one(filler, "min", 0.0)), float(one(filler, "max", 1.0))
            return lambda: torch.empty(shape).uniform_(lo, hi)
        value = torch.full(shape, float(one(filler, "value", 0.0)))
        return lambda: value
    for layer in net.get("layer", []):
        if one(layer, "type") == "DummyData":
            p = one(layer, "dummy_data_param")
            fillers = p.get("data_filler", [{}])
            return {t: top(tuple(shape["dim"]), fillers[min(i, len(fillers) - 1)])
                    for i, (t, shape) in enumerate(zip(layer["top"], p["shape"]))}
    return None


def train(args):
    net_def = parse_prototxt(open(args.model).read())
    dummy = dummy_inputs(net_def)
    if dummy:
        batch = lambda i: (dummy["data"](), dummy["label"]())
        args.batch = dummy["data"]().shape[0]
    elif args.data:
        import h5py
        f = h5py.File(args.data, "r")
        data, labels = torch.from_numpy(f["data"][:]), torch.from_numpy(f["label"][:])
        batch = lambda i: (data[i * args.batch % len(data):][:args.batch], labels[i * args.batch % len(data):][:args.batch])
    else:
        x = torch.randn((args.batch,) + tuple(args.shape))
        y = torch.randint(0, 10, (args.batch,)).float()
        batch = lambda i: (x, y)
    shapes = {"data": (args.batch,) + tuple(batch(0)[0].shape[1:]), "label": (args.batch,)}
    net = CaffeNet(net_def, "TRAIN", shapes)
    history = [torch.zeros_like(w) for w, _, _ in net.params]
    start = None
    for it in range(args.iterations + 1):
        x, y = batch(it)
        blobs = net.forward({"data": x, "label": y})
        loss = blobs["loss"]
        loss.backward()
        lr = args.lr if args.policy == "fixed" else args.lr * (1 + 0.0001 * it) ** -0.75
        sgd_step(net, lr, 0.9, args.decay, history)
        if it == 0:
            start = time.perf_counter()
    return time.perf_counter() - start, loss.item()


def forward_backward(args):
    net_def = parse_prototxt(open(args.model).read())
    shapes = input_shapes(net_def)
    net = CaffeNet(net_def, "TEST", shapes)
    inputs = {k: torch.randn(v) for k, v in shapes.items()}
    times = []
    for it in range(args.iterations + 1):
        t = time.perf_counter()
        blobs = net.forward(dict(inputs))
        blobs[net.layers[-1][2][0]].sum().backward()
        if it:
            times.append(time.perf_counter() - t)
    return sum(times) / len(times), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["train", "time"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data")
    ap.add_argument("--shape", type=int, nargs="*", default=[3, 32, 32])
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--iterations", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--decay", type=float, default=0.0005)
    ap.add_argument("--policy", choices=["inv", "fixed"], default="inv", help="the solver's lr_policy (inv: LeNet's)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    seconds, loss = (train if args.mode == "train" else forward_backward)(args)
    print(json.dumps({"seconds": seconds, "loss": loss, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
