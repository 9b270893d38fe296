"""Writes the ImageNet-class training nets bench/compare.py times (batch 16, synthetic data):
ResNet-50 in He et al.'s Caffe layout (BatchNorm + Scale after every convolution, stride on
the first 1x1 of a stage, projection shortcuts), MobileNet v1 and v2 (depthwise convolutions
as `group` = channels, ReLU after BatchNorm + Scale), SqueezeNet 1.1 (fire modules), and
CaffeNet and GoogLeNet from the BVLC deploy nets with their Input and Softmax turned into
DummyData and SoftmaxWithLoss. Run from the repository root; the files are committed, so
this runs again only when a net changes:

    python3 bench/nets/make_nets.py
"""
import os, re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "bench", "nets")
BVLC = os.path.join(ROOT, "..", "shared", "reference", "prototxt", "bvlc", "models")
BATCH = 16


class Net:
    """Prototxt text, one layer at a time; each helper returns the name of its top."""

    def __init__(self, name, note, size=224):
        self.lines = [f"# {note}", "# Written by bench/nets/make_nets.py; do not edit by hand.", f'name: "{name}"']
        self.data(size)

    def layer(self, name, kind, bottoms, tops, body=""):
        text = [f"layer {{", f'  name: "{name}"', f'  type: "{kind}"']
        text += [f'  bottom: "{b}"' for b in bottoms] + [f'  top: "{t}"' for t in tops]
        if body:
            text.append("  " + body.strip().replace("\n", "\n  "))
        text.append("}")
        self.lines.append("\n".join(text))
        return tops[0] if tops else None

    def data(self, size):
        # Uniform random images, redrawn every iteration as Caffe does (a few ms; Gaussian ones
        # cost 60 ms at CaffeNet's size, by Box–Muller in double): constant images would make
        # every BatchNorm output zero. The label is a constant class.
        self.layer("synthetic", "DummyData", [], ["data", "label"], f"""
dummy_data_param {{
  shape {{ dim: {BATCH} dim: 3 dim: {size} dim: {size} }}
  shape {{ dim: {BATCH} }}
  data_filler {{ type: "uniform" min: -1 max: 1 }}
  data_filler {{ type: "constant" value: 3 }}
}}""")

    def conv(self, name, bottom, out, kernel, stride=1, pad=None, group=1, bias=False):
        pad = (kernel - 1) // 2 if pad is None else pad
        body = f"""
param {{ lr_mult: 1 decay_mult: 1 }}
{"param { lr_mult: 2 decay_mult: 0 }" if bias else ""}
convolution_param {{
  num_output: {out}
  kernel_size: {kernel}
  stride: {stride}
  pad: {pad}
  {f"group: {group}" if group > 1 else ""}
  bias_term: {"true" if bias else "false"}
  weight_filler {{ type: "msra" }}
}}"""
        return self.layer(name, "Convolution", [bottom], [name], re.sub(r"\n\s*\n", "\n", body))

    def bn_scale(self, name, blob, relu=True):
        """BatchNorm (batch statistics in training, as Caffe's TRAIN default) then Scale with bias, in place."""
        self.layer(f"bn_{name}", "BatchNorm", [blob], [blob])
        self.layer(f"scale_{name}", "Scale", [blob], [blob], "scale_param { bias_term: true }")
        if relu:
            self.layer(f"relu_{name}", "ReLU", [blob], [blob])
        return blob

    def conv_bn(self, name, bottom, out, kernel, stride=1, group=1, relu=True):
        return self.bn_scale(name, self.conv(name, bottom, out, kernel, stride, group=group), relu)

    def relu(self, blob):
        return self.layer(f"relu_{blob}", "ReLU", [blob], [blob])

    def pool(self, name, bottom, kind, kernel=3, stride=2, pad=0, global_=False):
        shape = "global_pooling: true" if global_ else f"kernel_size: {kernel}\n  stride: {stride}\n  pad: {pad}"
        return self.layer(name, "Pooling", [bottom], [name], f"pooling_param {{\n  pool: {kind}\n  {shape}\n}}")

    def eltwise(self, name, a, b):
        return self.layer(name, "Eltwise", [a, b], [name])

    def concat(self, name, bottoms):
        return self.layer(name, "Concat", bottoms, [name])

    def classifier(self, bottom, classes=1000):
        top = self.layer("fc", "InnerProduct", [bottom], ["fc"], f"""
param {{ lr_mult: 1 decay_mult: 1 }}
param {{ lr_mult: 2 decay_mult: 0 }}
inner_product_param {{
  num_output: {classes}
  weight_filler {{ type: "msra" }}
}}""")
        self.layer("loss", "SoftmaxWithLoss", [top, "label"], ["loss"])

    def write(self, file):
        with open(os.path.join(OUT, file), "w") as f:
            f.write("\n".join(self.lines) + "\n")


def resnet50():
    net = Net("ResNet-50", f"ResNet-50 training net at batch {BATCH} on synthetic data, in He et al.'s Caffe deploy layout.")
    x = net.pool("pool1", net.conv_bn("conv1", "data", 64, 7, 2), "MAX", 3, 2)
    for stage, (width, blocks) in enumerate([(64, 3), (128, 4), (256, 6), (512, 3)], start=2):
        for i in range(blocks):
            name = f"res{stage}{chr(ord('a') + i)}"
            stride = 2 if i == 0 and stage > 2 else 1
            shortcut = net.conv_bn(f"{name}_branch1", x, width * 4, 1, stride, relu=False) if i == 0 else x
            y = net.conv_bn(f"{name}_branch2a", x, width, 1, stride)
            y = net.conv_bn(f"{name}_branch2b", y, width, 3)
            y = net.conv_bn(f"{name}_branch2c", y, width * 4, 1, relu=False)
            x = net.relu(net.eltwise(name, shortcut, y))
    net.classifier(net.pool("pool5", x, "AVE", global_=True))
    net.write("resnet50_train.prototxt")


def mobilenet_v1():
    net = Net("MobileNet-v1", f"MobileNet v1 (width 1.0) training net at batch {BATCH} on synthetic data; depthwise convolutions are group = channels.")
    x, channels = net.conv_bn("conv1", "data", 32, 3, 2), 32
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (out, stride) in enumerate(plan, start=2):
        x = net.conv_bn(f"conv{i}_dw", x, channels, 3, stride, group=channels)
        x, channels = net.conv_bn(f"conv{i}_pw", x, out, 1), out
    net.classifier(net.pool("pool6", x, "AVE", global_=True))
    net.write("mobilenet_v1_train.prototxt")


def mobilenet_v2():
    net = Net("MobileNet-v2", f"MobileNet v2 (width 1.0) training net at batch {BATCH} on synthetic data; ReLU where the paper has ReLU6.")
    x, channels = net.conv_bn("conv1", "data", 32, 3, 2), 32
    block = 0
    for expansion, out, repeats, first_stride in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for r in range(repeats):
            block += 1
            stride, hidden, name = first_stride if r == 0 else 1, channels * expansion, f"block{block}"
            y = net.conv_bn(f"{name}_expand", x, hidden, 1) if expansion != 1 else x
            y = net.conv_bn(f"{name}_dw", y, hidden, 3, stride, group=hidden)
            y = net.conv_bn(f"{name}_project", y, out, 1, relu=False)
            x = net.eltwise(f"{name}_sum", x, y) if stride == 1 and channels == out else y
            channels = out
    x = net.conv_bn("conv_last", x, 1280, 1)
    net.classifier(net.pool("pool_last", x, "AVE", global_=True))
    net.write("mobilenet_v2_train.prototxt")


def squeezenet11():
    net = Net("SqueezeNet-1.1", f"SqueezeNet 1.1 training net at batch {BATCH} on synthetic data (fire modules: squeeze 1x1, expand 1x1 and 3x3, Concat).")

    def conv_relu(name, bottom, out, kernel, stride=1):
        top = net.conv(name, bottom, out, kernel, stride, pad=(kernel - 1) // 2 if kernel > 1 else 0, bias=True)
        return net.relu(top)

    def fire(name, bottom, squeeze, expand):
        s = conv_relu(f"{name}_squeeze1x1", bottom, squeeze, 1)
        return net.concat(f"{name}_concat", [conv_relu(f"{name}_expand1x1", s, expand, 1), conv_relu(f"{name}_expand3x3", s, expand, 3)])

    x = net.pool("pool1", conv_relu("conv1", "data", 64, 3, 2), "MAX")
    x = net.pool("pool3", fire("fire3", fire("fire2", x, 16, 64), 16, 64), "MAX")
    x = net.pool("pool5", fire("fire5", fire("fire4", x, 32, 128), 32, 128), "MAX")
    for i, (s, e) in enumerate([(48, 192), (48, 192), (64, 256), (64, 256)], start=6):
        x = fire(f"fire{i}", x, s, e)
    net.layer("drop9", "Dropout", [x], [x], "dropout_param { dropout_ratio: 0.5 }")
    x = net.pool("pool10", conv_relu("conv10", x, 1000, 1), "AVE", global_=True)
    net.layer("loss", "SoftmaxWithLoss", [x, "label"], ["loss"])
    net.write("squeezenet11_train.prototxt")


def from_deploy(model, file, name, size):
    """A BVLC deploy net as a training net: DummyData for Input, SoftmaxWithLoss for the final Softmax,
    and a Gaussian weight filler where the deploy net has none (CaffeNet's), as its train_val has."""
    text = open(os.path.join(BVLC, model, "deploy.prototxt")).read()
    net = Net(name, f"{name} training net at batch {BATCH} on synthetic data, from ../shared/reference's {model}/deploy.prototxt.", size)
    body = re.sub(r'layer\s*\{\s*name:\s*"data"\s*type:\s*"Input".*?\}\s*\}\s*\}\n', "", text, count=1, flags=re.S)
    body = re.sub(r'^name:.*\n', "", body)
    body = re.sub(r'type:\s*"Softmax"\s*bottom:\s*"([^"]+)"\s*top:\s*"prob"',
                  r'type: "SoftmaxWithLoss"\n  bottom: "\1"\n  bottom: "label"\n  top: "loss"', body)
    if "weight_filler" not in body:
        body = re.sub(r'((?:convolution|inner_product)_param \{\n)', r'\1    weight_filler { type: "gaussian" std: 0.01 }\n', body)
    assert "Input" not in body and "SoftmaxWithLoss" in body, model
    net.lines.append(body.strip())
    net.write(file)


if __name__ == "__main__":
    resnet50(); mobilenet_v1(); mobilenet_v2(); squeezenet11()
    from_deploy("bvlc_reference_caffenet", "caffenet_train.prototxt", "CaffeNet", 227)
    from_deploy("bvlc_googlenet", "googlenet_train.prototxt", "GoogLeNet", 224)
