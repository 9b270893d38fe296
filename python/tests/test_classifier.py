"""caffe.Classifier: a deploy net behind a Transformer."""
import numpy as np

import caffe
from nets import write


def test_predict_with_and_without_oversampling(tmp_path):
    model = write("""input: 'data' input_shape { dim: 10 dim: 3 dim: 4 dim: 4 }
    layer { type: 'InnerProduct' name: 'ip' bottom: 'data' top: 'ip'
      inner_product_param { num_output: 5 weight_filler { type: 'gaussian' std: 0.1 } } }
    layer { type: 'Softmax' name: 'prob' bottom: 'ip' top: 'prob' }""")
    weights = str(tmp_path / "w.caffemodel")
    caffe.Net(model, caffe.TEST).save(weights)
    c = caffe.Classifier(model, weights, image_dims=(6, 6), mean=np.array([0.1, 0.2, 0.3]), raw_scale=1, channel_swap=(2, 1, 0))
    images = [np.random.rand(8, 8, 3).astype(np.float32) for _ in range(3)]
    for oversample in (True, False):
        p = c.predict(images, oversample=oversample)
        assert p.shape == (3, 5)
        assert np.allclose(p.sum(axis=1), 1, atol=1e-5)
    # The centre crop of an image resized to 6×6 is what a net fed by hand sees.
    x = c.transformer.preprocess("data", caffe.io.resize_image(images[0], (6, 6))[1:5, 1:5])
    c.blobs["data"].data[0] = x
    by_hand = c.forward()["prob"][0].copy()
    assert np.allclose(by_hand, c.predict(images[:1], oversample=False)[0], atol=1e-6)
