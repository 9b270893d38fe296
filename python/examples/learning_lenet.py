"""Caffe's `01-learning-lenet` notebook, as a script, on HDF5 Fashion-MNIST.

NetSpec writes LeNet's train and test nets, SGDSolver steps it one iteration at a time
while Python reads `net.blobs` and scores `test_nets[0]` itself, and then `cortado train`
runs the same files so that the two can be compared line by line.

    python python/examples/learning_lenet.py [--iters 200] [--out DIR]

It reads data/fashion-mnist/{train,test}.txt (made by data/fashion-mnist/get_fashion_mnist.sh)
and exits 1 when a loss or a test score differs from the tool's log.
"""
import argparse
import os
import re
import subprocess
import sys

import numpy as np

import caffe
from caffe import layers as L, params as P

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
TEST_BATCH = 100


def lenet(source, batch_size, with_accuracy=False):
    """The notebook's `lenet(lmdb, batch_size)`, with HDF5 data already scaled to [0, 1)."""
    n = caffe.NetSpec()
    n.data, n.label = L.HDF5Data(batch_size=batch_size, source=source, ntop=2)
    n.conv1 = L.Convolution(n.data, kernel_size=5, num_output=20, weight_filler=dict(type="xavier"))
    n.pool1 = L.Pooling(n.conv1, kernel_size=2, stride=2, pool=P.Pooling.MAX)
    n.conv2 = L.Convolution(n.pool1, kernel_size=5, num_output=50, weight_filler=dict(type="xavier"))
    n.pool2 = L.Pooling(n.conv2, kernel_size=2, stride=2, pool=P.Pooling.MAX)
    n.fc1 = L.InnerProduct(n.pool2, num_output=500, weight_filler=dict(type="xavier"))
    n.relu1 = L.ReLU(n.fc1, in_place=True)
    n.score = L.InnerProduct(n.relu1, num_output=10, weight_filler=dict(type="xavier"))
    n.loss = L.SoftmaxWithLoss(n.score, n.label)
    if with_accuracy:
        n.accuracy = L.Accuracy(n.score, n.label)
    return n.to_proto()


def test_iterations(test_images):
    """Batches that cover the test set once, so a scoring pass ends where it began."""
    return test_images // TEST_BATCH


def write_files(out, train_list, test_list, test_images, iters, test_interval):
    """The notebook's lenet_auto_{train,test}.prototxt and lenet_auto_solver.prototxt."""
    os.makedirs(out, exist_ok=True)
    train_net, test_net = os.path.join(out, "lenet_auto_train.prototxt"), os.path.join(out, "lenet_auto_test.prototxt")
    with open(train_net, "w") as f:
        f.write(str(lenet(train_list, 64)))
    with open(test_net, "w") as f:
        f.write(str(lenet(test_list, TEST_BATCH, with_accuracy=True)))
    solver = os.path.join(out, "lenet_auto_solver.prototxt")
    with open(solver, "w") as f:
        f.write("train_net: '%s'\ntest_net: '%s'\ntest_iter: %d\ntest_interval: %d\n"
                "base_lr: 0.01\nmomentum: 0.9\nweight_decay: 5e-4\nlr_policy: 'inv'\ngamma: 1e-4\npower: 0.75\n"
                "display: 1\nmax_iter: %d\nrandom_seed: 1701\nsnapshot_prefix: '%s'\nsnapshot_after_train: false\n"
                % (train_net, test_net, test_iterations(test_images), test_interval, iters, os.path.join(out, "lenet")))
    return solver


def notebook(solver_file, iters, test_interval, test_iter):
    """The notebook's loop: step(1), read the loss, and every test_interval score the test net
    by hand over `test_iter` batches."""
    solver = caffe.SGDSolver(solver_file)
    test_net = solver.test_nets[0]
    losses, scores = [], {}
    for it in range(iters):
        solver.step(1)
        losses.append(float(solver.net.blobs["loss"].data))
        assert solver.net.blobs["conv1"].data.shape == (64, 20, 24, 24)
        if (it + 1) % test_interval == 0:
            correct = 0
            for _ in range(test_iter):
                test_net.forward()
                correct += int((test_net.blobs["score"].data.argmax(1) == test_net.blobs["label"].data.ravel()).sum())
            scores[it + 1] = correct / (test_iter * TEST_BATCH)
    return losses, scores


def cortado_train(solver_file, tool):
    """Runs the tool on the same files; returns its per-iteration losses and its test accuracies."""
    # The comparison reads the tool's info lines, which a GLOG_minloglevel set to quiet Python would drop.
    env = {k: v for k, v in os.environ.items() if k != "GLOG_minloglevel"}
    run = subprocess.run([tool, "train", "--solver", solver_file], capture_output=True, text=True, timeout=1800, env=env)
    if run.returncode != 0:
        raise RuntimeError("cortado train failed:\n" + run.stderr)
    losses, tests, at = {}, {}, None
    for line in (run.stdout + run.stderr).splitlines():
        m = re.search(r"Iteration (\d+)", line)
        if m:
            at = int(m.group(1))
        # The train net's own output, not the smoothed "Iteration N, loss = ": Caffe's
        # smoothing adds and subtracts each loss in float, so it drifts in the last digit.
        m = re.search(r"Train net output #\d+: loss = (\S+)", line)
        if m:
            losses[at] = m.group(1)
        m = re.search(r"Test net output #\d+: accuracy = (\S+)", line)
        if m:
            tests[at] = float(m.group(1))
    return losses, tests


def compare(losses, scores, cli_losses, cli_tests):
    """Losses must print as the log prints them (%g of the same float); scores must agree."""
    problems = []
    for it, loss in enumerate(losses):
        if "%g" % loss != cli_losses.get(it):
            problems.append("iteration %d: Python loss %g, cortado train %s" % (it, loss, cli_losses.get(it)))
    for it, score in scores.items():
        # The tool tests at the start of the next step; Python scored right after this one.
        if it not in cli_tests or abs(cli_tests[it] - score) > 1e-6:
            problems.append("iteration %d: Python accuracy %g, cortado train %s" % (it, score, cli_tests.get(it)))
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iters", type=int, default=200)
    ap.add_argument("--test-interval", type=int, default=25)
    ap.add_argument("--out", default="/tmp/cortado-learning-lenet")
    ap.add_argument("--train", default=os.path.join(ROOT, "data/fashion-mnist/train.txt"))
    ap.add_argument("--test", default=os.path.join(ROOT, "data/fashion-mnist/test.txt"))
    ap.add_argument("--test-images", type=int, default=10000)
    ap.add_argument("--tool", default=os.path.join(ROOT, ".build/release/cortado"))
    args = ap.parse_args()
    solver = write_files(args.out, args.train, args.test, args.test_images, args.iters, args.test_interval)
    losses, scores = notebook(solver, args.iters, args.test_interval, test_iterations(args.test_images))
    cli_losses, cli_tests = cortado_train(solver, args.tool)
    for it in sorted(scores):
        print("iteration %4d  train loss %-9g test accuracy %.4f (cortado train %.4f)"
              % (it, losses[it - 1], scores[it], cli_tests.get(it, float("nan"))))
    problems = compare(losses, scores, cli_losses, cli_tests)
    for p in problems:
        print(p, file=sys.stderr)
    print("%d losses and %d test scores: %s" % (len(losses), len(scores), "the same" if not problems else "DIFFERENT"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
