"""caffe.Classifier: a deploy net with a Transformer in front, predicting class scores."""
import numpy as np

from ._net import Net, TEST
from . import io


class Classifier(Net):
    """Net(model_file, TEST, weights=pretrained_file) that takes H×W×K images in [0, 1]."""

    def __init__(self, model_file, pretrained_file, image_dims=None, mean=None, input_scale=None,
                 raw_scale=None, channel_swap=None):
        Net.__init__(self, model_file, TEST, weights=pretrained_file)
        name = self.inputs[0]
        self.transformer = io.Transformer({name: self.blobs[name].data.shape})
        self.transformer.set_transpose(name, (2, 0, 1))
        if mean is not None:
            self.transformer.set_mean(name, mean)
        if input_scale is not None:
            self.transformer.set_input_scale(name, input_scale)
        if raw_scale is not None:
            self.transformer.set_raw_scale(name, raw_scale)
        if channel_swap is not None:
            self.transformer.set_channel_swap(name, channel_swap)
        self.crop_dims = np.array(self.blobs[name].data.shape[2:])
        self.image_dims = np.array(image_dims if image_dims is not None else self.crop_dims)

    def predict(self, inputs, oversample=True):
        """Class scores (N × classes) for a list of images; with `oversample`, the mean over
        the 10 crops (corners, centre, and their mirrors) of each image resized to image_dims."""
        resized = np.zeros((len(inputs),) + tuple(self.image_dims) + (inputs[0].shape[2],), dtype=np.float32)
        for i, im in enumerate(inputs):
            resized[i] = io.resize_image(im, self.image_dims)
        if oversample:
            batch = io.oversample(resized, self.crop_dims)
        else:
            top, left = (np.array(self.image_dims) - self.crop_dims) // 2
            batch = resized[:, top:top + self.crop_dims[0], left:left + self.crop_dims[1], :]
        name = self.inputs[0]
        data = np.asarray([self.transformer.preprocess(name, im) for im in batch])
        out = self.forward_all(**{name: data})
        predictions = out[self.outputs[0]]
        if oversample:
            predictions = predictions.reshape((len(predictions) // 10, 10, -1)).mean(1)
        return predictions
