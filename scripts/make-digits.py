#!/usr/bin/env python3
"""Converts scikit-learn's bundled 8x8 digits into samples/digits/ (run once; the files are committed).

scikit-learn ships the digits inside its package (sklearn/datasets/data/digits.csv.gz, a copy of the
UCI "Optical Recognition of Handwritten Digits" test set), so no download happens. The pixels are
written as they are stored, counts 0..16 of a 4x4 block, in uint8; `chainrule train --data digits`
divides them by 16.

    python3 -m venv /tmp/venv-sk && /tmp/venv-sk/bin/pip install scikit-learn
    /tmp/venv-sk/bin/python scripts/make-digits.py        # writes samples/digits/digits-{X,y}.npy
"""
import pathlib

import numpy as np
from sklearn.datasets import load_digits

digits = load_digits()
pixels = digits.data  # 1,797 x 64 float64, whole numbers 0..16
assert pixels.shape == (1797, 64) and (pixels == np.round(pixels)).all() and pixels.min() >= 0 and pixels.max() <= 16
folder = pathlib.Path(__file__).resolve().parent.parent / "samples" / "digits"
folder.mkdir(parents=True, exist_ok=True)
np.save(folder / "digits-X.npy", pixels.astype(np.uint8))
np.save(folder / "digits-y.npy", digits.target.astype(np.uint8))
print(f"wrote {folder}/digits-X.npy {pixels.shape} and digits-y.npy {digits.target.shape}, classes {sorted(set(digits.target))}")
