"""1,000 net.forward() calls on LeNet's deploy net from Python (bench/python.sh)."""
import sys
import time

import numpy as np

import caffe

net = caffe.Net(sys.argv[1], caffe.TEST)
net.blobs["data"].data[...] = np.random.rand(*net.blobs["data"].data.shape)
for _ in range(20):
    net.forward()
start = time.perf_counter()
for _ in range(1000):
    net.forward()
print("python forward: %.4f ms" % ((time.perf_counter() - start) * 1000 / 1000))
