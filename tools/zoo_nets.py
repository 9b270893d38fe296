"""Writes deploy prototxts shaped like the common Caffe zoo nets, for checking `export-onnx`
(tools/check-onnx.sh): ResNet-50/101/152, SqueezeNet v1.1, MobileNet v1 and v2, an SE-BN-Inception,
DenseNet-121, and "every-layer", a small net with every exported layer type that the others
lack. They follow the published architectures; weights come from `--random-weights`.

usage: python3 tools/zoo_nets.py OUT_FOLDER
"""
import os, sys

class Net:
    def __init__(self, name, shape):
        self.lines = [f'name: "{name}"',
                      'layer { name: "data" type: "Input" top: "data" input_param { shape { '
                      + " ".join(f"dim: {d}" for d in shape) + " } } }"]

    def layer(self, name, kind, bottoms, tops, body=""):
        b = " ".join(f'bottom: "{x}"' for x in bottoms)
        t = " ".join(f'top: "{x}"' for x in tops)
        self.lines.append(f'layer {{ name: "{name}" type: "{kind}" {b} {t} {body} }}')
        return tops[0]

    def conv(self, name, x, out, k, s=1, p=0, group=1, bias=False, dilation=1):
        body = (f"convolution_param {{ num_output: {out} kernel_size: {k} stride: {s} pad: {p} group: {group}"
                f" dilation: {dilation} bias_term: {'true' if bias else 'false'} }}")
        return self.layer(name, "Convolution", [x], [name], body)

    def bn(self, name, x, relu=True):
        self.layer(f"{name}_bn", "BatchNorm", [x], [x], "batch_norm_param { use_global_stats: true }")
        self.layer(f"{name}_scale", "Scale", [x], [x], "scale_param { bias_term: true }")
        if relu:
            self.layer(f"{name}_relu", "ReLU", [x], [x])
        return x

    def conv_bn(self, name, x, out, k, s=1, p=0, group=1, relu=True):
        return self.bn(name, self.conv(name, x, out, k, s, p, group), relu)

    def pool(self, name, x, kind, k=0, s=1, p=0, global_pool=False):
        body = f"pooling_param {{ pool: {kind} " + ("global_pooling: true" if global_pool else f"kernel_size: {k} stride: {s} pad: {p}") + " }"
        return self.layer(name, "Pooling", [x], [name], body)

    def fc(self, name, x, out):
        return self.layer(name, "InnerProduct", [x], [name], f"inner_product_param {{ num_output: {out} }}")

    def softmax(self, x):
        return self.layer("prob", "Softmax", [x], ["prob"])

    def text(self):
        return "\n".join(self.lines) + "\n"

# Blocks per stage of the bottleneck ResNets (He et al., 2015, table 1).
RESNET_STAGES = {50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}

def resnet(depth):
    """The bottleneck ResNet of MSRA's Caffe release; blocks past the sixth of a stage are
    named b1, b2, ... as in ResNet-101/152's deploy files."""
    n = Net(f"ResNet-{depth}", [2, 3, 224, 224])
    x = n.conv_bn("conv1", "data", 64, 7, 2, 3)
    x = n.pool("pool1", x, "MAX", 3, 2)
    channels = 64
    for stage, (blocks, width) in enumerate(zip(RESNET_STAGES[depth], [64, 128, 256, 512]), start=2):
        for b in range(blocks):
            name = f"res{stage}{chr(ord('a') + b)}" if blocks <= 6 or b == 0 else f"res{stage}b{b}"
            stride = 2 if b == 0 and stage > 2 else 1
            if b == 0:
                shortcut = n.conv_bn(f"{name}_branch1", x, width * 4, 1, stride, relu=False)
            else:
                shortcut = x
            y = n.conv_bn(f"{name}_branch2a", x, width, 1, stride)
            y = n.conv_bn(f"{name}_branch2b", y, width, 3, 1, 1)
            y = n.conv_bn(f"{name}_branch2c", y, width * 4, 1, relu=False)
            x = n.layer(name, "Eltwise", [shortcut, y], [name])
            n.layer(f"{name}_relu", "ReLU", [x], [x])
            channels = width * 4
    x = n.pool("pool5", x, "AVE", 7, 1)
    n.softmax(n.fc("fc1000", x, 1000))
    return n

def squeezenet():
    n = Net("SqueezeNet-1.1", [2, 3, 227, 227])
    x = n.conv("conv1", "data", 64, 3, 2, bias=True)
    n.layer("relu_conv1", "ReLU", [x], [x])
    x = n.pool("pool1", x, "MAX", 3, 2)
    def fire(name, x, squeeze, expand):
        s = n.conv(f"{name}/squeeze1x1", x, squeeze, 1, bias=True)
        n.layer(f"{name}/relu_squeeze1x1", "ReLU", [s], [s])
        a = n.conv(f"{name}/expand1x1", s, expand, 1, bias=True)
        n.layer(f"{name}/relu_expand1x1", "ReLU", [a], [a])
        b = n.conv(f"{name}/expand3x3", s, expand, 3, 1, 1, bias=True)
        n.layer(f"{name}/relu_expand3x3", "ReLU", [b], [b])
        return n.layer(f"{name}/concat", "Concat", [a, b], [f"{name}/concat"])
    x = fire("fire2", x, 16, 64); x = fire("fire3", x, 16, 64)
    x = n.pool("pool3", x, "MAX", 3, 2)
    x = fire("fire4", x, 32, 128); x = fire("fire5", x, 32, 128)
    x = n.pool("pool5", x, "MAX", 3, 2)
    for i, (s, e) in enumerate([(48, 192), (48, 192), (64, 256), (64, 256)], start=6):
        x = fire(f"fire{i}", x, s, e)
    n.layer("drop9", "Dropout", [x], [x], "dropout_param { dropout_ratio: 0.5 }")
    x = n.conv("conv10", x, 1000, 1, bias=True)
    n.layer("relu_conv10", "ReLU", [x], [x])
    x = n.pool("pool10", x, "AVE", global_pool=True)
    n.softmax(x)
    return n

def mobilenet_v1():
    n = Net("MobileNet", [2, 3, 224, 224])
    x = n.conv_bn("conv1", "data", 32, 3, 2, 1)
    channels = 32
    plan = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (out, stride) in enumerate(plan, start=2):
        x = n.conv_bn(f"conv{i}_1/dw", x, channels, 3, stride, 1, group=channels)
        x = n.conv_bn(f"conv{i}_2/sep", x, out, 1)
        channels = out
    x = n.pool("pool6", x, "AVE", global_pool=True)
    x = n.conv("fc7", x, 1000, 1, bias=True)
    n.softmax(x)
    return n

def mobilenet_v2():
    n = Net("MobileNet-v2", [2, 3, 224, 224])
    def relu6(x):
        # Caffe's Clip cannot run in place (its gradient needs the input).
        return n.layer(f"{x}_relu6", "Clip", [x], [f"{x}_relu6"], "clip_param { min: 0 max: 6 }")
    x = relu6(n.bn("conv1", n.conv("conv1", "data", 32, 3, 2, 1), relu=False))
    channels, block = 32, 0
    for t, c, repeats, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for r in range(repeats):
            block += 1
            stride = s if r == 0 else 1
            name = f"block{block}"
            y = x
            if t != 1:
                y = relu6(n.bn(f"{name}_expand", n.conv(f"{name}_expand", y, channels * t, 1), relu=False))
            y = relu6(n.bn(f"{name}_dwise", n.conv(f"{name}_dwise", y, channels * t, 3, stride, 1, group=channels * t), relu=False))
            y = n.bn(f"{name}_linear", n.conv(f"{name}_linear", y, c, 1), relu=False)
            if stride == 1 and channels == c:
                y = n.layer(f"{name}_add", "Eltwise", [x, y], [f"{name}_add"])
            x, channels = y, c
    x = relu6(n.bn("conv_last", n.conv("conv_last", x, 1280, 1), relu=False))
    x = n.pool("pool", x, "AVE", global_pool=True)
    n.softmax(n.conv("fc", x, 1000, 1, bias=True))
    return n

def se_inception():
    n = Net("SE-BN-Inception", [2, 3, 224, 224])
    x = n.conv_bn("conv1", "data", 64, 7, 2, 3)
    x = n.pool("pool1", x, "MAX", 3, 2)
    x = n.conv_bn("conv2_reduce", x, 64, 1)
    x = n.conv_bn("conv2", x, 192, 3, 1, 1)
    x = n.pool("pool2", x, "MAX", 3, 2)
    def se(name, x, channels):
        # squeeze (global average), excite (two fully connected layers), rescale (Scale with
        # two bottoms: the N×C gates over the N×C×H×W features, from axis 0).
        g = n.pool(f"{name}_se_pool", x, "AVE", global_pool=True)
        d = n.fc(f"{name}_se_down", g, channels // 16)
        n.layer(f"{name}_se_relu", "ReLU", [d], [d])
        u = n.fc(f"{name}_se_up", d, channels)
        n.layer(f"{name}_se_sigmoid", "Sigmoid", [u], [u])
        return n.layer(f"{name}_se_scale", "Scale", [x, u], [f"{name}_se_scale"], "scale_param { axis: 0 }")
    def inception(name, x, b1, b3r, b3, d3r, d3, pool_proj, stride=1):
        branches = []
        if b1:
            branches.append(n.conv_bn(f"{name}_1x1", x, b1, 1))
        y = n.conv_bn(f"{name}_3x3_reduce", x, b3r, 1)
        branches.append(n.conv_bn(f"{name}_3x3", y, b3, 3, stride, 1))
        y = n.conv_bn(f"{name}_double_3x3_reduce", x, d3r, 1)
        y = n.conv_bn(f"{name}_double_3x3_1", y, d3, 3, 1, 1)
        branches.append(n.conv_bn(f"{name}_double_3x3_2", y, d3, 3, stride, 1))
        if stride == 1:
            p = n.pool(f"{name}_pool", x, "AVE", 3, 1, 1)
            branches.append(n.conv_bn(f"{name}_pool_proj", p, pool_proj, 1))
        else:
            branches.append(n.pool(f"{name}_pool", x, "MAX", 3, 2))
        out = n.layer(f"{name}_output", "Concat", branches, [f"{name}_output"])
        return out
    plan = [("3a", 64, 64, 64, 64, 96, 32, 1, 256), ("3b", 64, 64, 96, 64, 96, 64, 1, 320), ("3c", 0, 128, 160, 64, 96, 0, 2, 576),
            ("4a", 224, 64, 96, 96, 128, 128, 1, 576), ("4b", 192, 96, 128, 96, 128, 128, 1, 576),
            ("4e", 0, 128, 192, 192, 256, 0, 2, 1024), ("5a", 352, 192, 320, 160, 224, 128, 1, 1024)]
    for name, b1, b3r, b3, d3r, d3, pp, stride, channels in plan:
        x = inception(f"inception_{name}", x, b1, b3r, b3, d3r, d3, pp, stride)
        x = se(f"inception_{name}", x, channels)
    x = n.pool("pool5", x, "AVE", 7, 1)
    n.softmax(n.fc("fc", x, 1000))
    return n

def densenet121():
    n = Net("DenseNet-121", [2, 3, 224, 224])
    x = n.conv_bn("conv1", "data", 64, 7, 2, 3)
    x = n.pool("pool1", x, "MAX", 3, 2, 1)
    channels, growth = 64, 32
    for block, layers in enumerate([6, 12, 24, 16], start=2):
        for i in range(1, layers + 1):
            name = f"conv{block}_{i}"
            y = n.layer(f"{name}/x1/bn", "BatchNorm", [x], [f"{name}/x1/bn"], "batch_norm_param { use_global_stats: true }")
            n.layer(f"{name}/x1/scale", "Scale", [y], [y], "scale_param { bias_term: true }")
            n.layer(f"{name}/x1/relu", "ReLU", [y], [y])
            y = n.conv_bn(f"{name}/x1", y, 4 * growth, 1)
            y = n.conv(f"{name}/x2", y, growth, 3, 1, 1)
            x = n.layer(f"concat_{block}_{i}", "Concat", [x, y], [f"concat_{block}_{i}"])
            channels += growth
        if block < 5:
            name = f"conv{block}_blk"
            y = n.layer(f"{name}/bn", "BatchNorm", [x], [f"{name}/bn"], "batch_norm_param { use_global_stats: true }")
            n.layer(f"{name}/scale", "Scale", [y], [y], "scale_param { bias_term: true }")
            n.layer(f"{name}/relu", "ReLU", [y], [y])
            channels //= 2
            y = n.conv(name, y, channels, 1)
            x = n.pool(f"pool{block}", y, "AVE", 2, 2)
    y = n.layer("conv5_blk/bn", "BatchNorm", [x], ["conv5_blk/bn"], "batch_norm_param { use_global_stats: true }")
    n.layer("conv5_blk/scale", "Scale", [y], [y], "scale_param { bias_term: true }")
    n.layer("conv5_blk/relu", "ReLU", [y], [y])
    x = n.pool("pool5", y, "AVE", global_pool=True)
    n.softmax(n.conv("fc6", x, 1000, 1, bias=True))
    return n

def every_layer():
    """The exported layers the zoo nets above do not use, with the awkward cases: pooling whose
    last window Caffe clips, padded average pooling, LRN within a channel, dilation, grouped
    deconvolution, and Crop, Slice, Reshape, ArgMax."""
    n = Net("every-layer", [2, 4, 13, 13])
    x = n.conv("conv", "data", 8, 3, 1, 1, bias=True)
    a = n.layer("prelu", "PReLU", [x], ["prelu"])
    b = n.layer("elu", "ELU", [x], ["elu"], "elu_param { alpha: 0.7 }")
    c = n.layer("tanh", "TanH", [x], ["tanh"])
    d = n.layer("leaky", "ReLU", [x], ["leaky"], "relu_param { negative_slope: 0.1 }")
    e = n.layer("swish", "Swish", [x], ["swish"], "swish_param { beta: 1.5 }")
    f = n.layer("bnll", "BNLL", [x], ["bnll"])
    sig = n.layer("sigmoid", "Sigmoid", [x], ["sigmoid"])
    p = n.layer("power", "Power", [sig], ["power"], "power_param { power: 1.7 scale: 2 shift: 0.5 }")
    absval = n.layer("abs", "AbsVal", [x], ["abs"])
    lg = n.layer("log", "Log", [absval], ["log"], "log_param { base: 3 scale: 0.5 shift: 1 }")
    ex = n.layer("exp", "Exp", [sig], ["exp"], "exp_param { base: 2 scale: 0.5 shift: -0.2 }")
    s = n.layer("sum", "Eltwise", [a, b, c], ["sum"], "eltwise_param { operation: SUM coeff: 0.5 coeff: -1 coeff: 2 }")
    m = n.layer("max", "Eltwise", [d, e, f], ["max"], "eltwise_param { operation: MAX }")
    pr = n.layer("prod", "Eltwise", [p, lg, ex], ["prod"], "eltwise_param { operation: PROD }")
    x = n.layer("cat", "Concat", [s, m, pr], ["cat"])
    x = n.layer("clip", "Clip", [x], ["clip"], "clip_param { min: -3 max: 3 }")
    x = n.layer("bias", "Bias", [x], ["bias"], "bias_param { axis: 1 num_axes: 1 }")
    x = n.layer("lrn_across", "LRN", [x], ["lrn_across"], "lrn_param { local_size: 5 alpha: 0.3 beta: 0.75 k: 2 }")
    x = n.layer("lrn_within", "LRN", [x], ["lrn_within"], "lrn_param { local_size: 3 alpha: 0.2 beta: 0.6 norm_region: WITHIN_CHANNEL }")
    x = n.conv("dilated", x, 12, 3, 1, 2, dilation=2, bias=True)
    x = n.layer("deconv", "Deconvolution", [x], ["deconv"],
                "convolution_param { num_output: 12 kernel_size: 4 stride: 2 pad: 1 group: 3 }")
    mx = n.pool("maxpool", x, "MAX", 3, 2)
    av = n.pool("avepool", x, "AVE", 3, 2, 1)
    y = n.layer("crop", "Crop", [av, mx], ["crop"], "crop_param { axis: 2 offset: 1 }")
    parts = n.layer("slice", "Slice", [y], ["slice_a", "slice_b"], "slice_param { axis: 1 slice_point: 5 }")
    y = n.layer("scale2", "Scale", ["slice_b", "slice_b"], ["scale2"], "scale_param { axis: 0 }")
    y = n.layer("reshape", "Reshape", [y], ["reshape"], "reshape_param { shape { dim: 0 dim: -1 dim: 1 } }")
    n.layer("flatten", "Flatten", ["slice_a"], ["flatten"])
    n.layer("argmax", "ArgMax", ["flatten"], ["argmax"], "argmax_param { axis: 1 }")
    n.layer("argmax_all", "ArgMax", [x], ["argmax_all"])
    z = n.fc("fc", y, 10)
    n.softmax(z)
    return n

def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, make in [("resnet50", lambda: resnet(50)), ("resnet101", lambda: resnet(101)),
                       ("resnet152", lambda: resnet(152)), ("squeezenet1.1", squeezenet), ("mobilenet_v1", mobilenet_v1),
                       ("mobilenet_v2", mobilenet_v2), ("se_bn_inception", se_inception), ("densenet121", densenet121),
                       ("every_layer", every_layer)]:
        with open(os.path.join(out, f"{name}.prototxt"), "w") as f:
            f.write(make().text())

if __name__ == "__main__":
    main()
