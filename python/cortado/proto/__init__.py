"""Caffe's schema: `from caffe.proto import caffe_pb2`."""
