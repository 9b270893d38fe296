"""Small nets the tests build, written to temporary files."""
import tempfile


def write(text):
    with tempfile.NamedTemporaryFile("w", suffix=".prototxt", delete=False) as f:
        f.write(text)
        return f.name


def small_net(num_output=7):
    """DummyData → Convolution → InnerProduct → SoftmaxWithLoss, with gradients everywhere."""
    return write("""name: 'small' force_backward: true
    layer { type: 'DummyData' name: 'data' top: 'data' top: 'label'
      dummy_data_param { shape { dim: 4 dim: 2 dim: 3 dim: 5 } shape { dim: 4 dim: 1 dim: 1 dim: 1 }
        data_filler { type: 'gaussian' std: 1 } data_filler { type: 'constant' } } }
    layer { type: 'Convolution' name: 'conv' bottom: 'data' top: 'conv'
      convolution_param { num_output: 6 kernel_size: 2 pad: 1
        weight_filler { type: 'gaussian' std: 1 } bias_filler { type: 'constant' value: 1 } }
      param { decay_mult: 1 } param { decay_mult: 0 } }
    layer { type: 'InnerProduct' name: 'ip' bottom: 'conv' top: 'scores'
      inner_product_param { num_output: %d weight_filler { type: 'gaussian' std: 0.5 } bias_filler { type: 'constant' value: -1 } } }
    layer { type: 'SoftmaxWithLoss' name: 'loss' bottom: 'scores' bottom: 'label' top: 'loss' }
    """ % num_output)


def solver_for(net_file, extra="", momentum=0.9):
    return write("""net: '%s' test_iter: 2 test_interval: 5 base_lr: 0.01 momentum: %g
    weight_decay: 0.0005 lr_policy: 'inv' gamma: 0.0001 power: 0.75 display: 0 max_iter: 20
    snapshot_after_train: false %s""" % (net_file, momentum, extra))
