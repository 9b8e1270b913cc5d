#!/usr/bin/env python3
"""Writes samples/flower.png (96x64) from scikit-learn's bundled flower.jpg, and samples/digit-3.png (8x8 grey),
the first "3" of the bundled digits, for `chainrule figure feature-maps`. Run once; the files are committed.

flower.jpg: "Some rights reserved by danielbuechele", https://www.flickr.com/photos/vultilion/6056698931,
Creative Commons Attribution 2.0 (https://creativecommons.org/licenses/by/2.0/), as scikit-learn's
sklearn/datasets/images/README.txt names it. Changed: cropped to 3:2 and scaled down to 96x64.

    python3 -m venv /tmp/venv-sk && /tmp/venv-sk/bin/pip install scikit-learn pillow
    /tmp/venv-sk/bin/python scripts/make-photo.py
"""
import pathlib

import numpy as np
from PIL import Image
from sklearn.datasets import load_digits, load_sample_image

samples = pathlib.Path(__file__).resolve().parent.parent / "samples"
flower = Image.fromarray(load_sample_image("flower.jpg"))  # 640x427
width, height = flower.size
crop = flower.crop((0, 0, width, width * 2 // 3))
crop.resize((96, 64), Image.LANCZOS).save(samples / "flower.png")
digits = load_digits()
three = digits.images[list(digits.target).index(3)]  # 8x8, counts 0..16
Image.fromarray((three * 255 / 16).round().astype(np.uint8), mode="L").save(samples / "digit-3.png")
print("wrote", samples / "flower.png", "and", samples / "digit-3.png")
