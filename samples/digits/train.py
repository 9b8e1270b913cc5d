"""Trains the linear classifier of samples/digits-classifier.grad and writes W.npy, b.npy and x.npy.

Softmax regression on scikit-learn's copy of the UCI 8x8 digits (1,797 images, pixels 0..16
scaled to 0..1): 300 steps of full-batch gradient descent, learning rate 1, L2 1e-3; about 97 %
training accuracy. Run: python3 samples/digits/train.py PATH/TO/sklearn/datasets/data/digits.csv.gz
"""
import gzip
import os
import sys

import numpy as np

data = np.loadtxt(gzip.open(sys.argv[1]), delimiter=",")
X, y = data[:, :64] / 16.0, data[:, 64].astype(int)
n = X.shape[0]
W, b = np.zeros((10, 64)), np.zeros(10)
for _ in range(300):
    s = X @ W.T + b
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    p /= p.sum(axis=1, keepdims=True)
    p[np.arange(n), y] -= 1
    p /= n
    W -= p.T @ X + 1e-3 * W
    b -= p.sum(axis=0)
print("training accuracy", ((X @ W.T + b).argmax(axis=1) == y).mean())
here = os.path.dirname(os.path.abspath(__file__))
np.save(os.path.join(here, "W.npy"), W)
np.save(os.path.join(here, "b.npy"), b)
np.save(os.path.join(here, "x.npy"), X[:1])
