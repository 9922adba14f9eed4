#!/usr/bin/env python3
"""Writes tests/golden/reference_written.safetensors with the reference
implementation of the format (the `safetensors` package from PyPI), so that
test_safetensors.c can check that profond reads what Hugging Face's library
writes. A tool for regenerating the fixture only, never a build dependency:

    pip install safetensors numpy
    python3 tests/golden/make_reference_fixture.py

The committed file was made with safetensors 0.8.0 and numpy 2.4.6. The
values are simple formulas so that the C test can state them inline.
"""
import os

import numpy as np
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "reference_written.safetensors")

tensors = {
    # float32 [2,3]: 0.5 * i - 1
    "0.weight": (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3),
    # float32 [2]: 0.25, -0.75
    "0.bias": np.array([0.25, -0.75], dtype=np.float32),
    # float64 [3]: 1/3, -2.5, 1e-300
    "scale": np.array([1 / 3, -2.5, 1e-300], dtype=np.float64),
    # int64 [2,2]: large and negative values
    "labels": np.array([[0, -1], [2**40, 7]], dtype=np.int64),
    # uint8 [4]: 0, 1, 128, 255
    "pixels": np.array([0, 1, 128, 255], dtype=np.uint8),
    # int64 0-d: 42
    "step": np.array(42, dtype=np.int64),
    # float32 [0,3]: empty
    "empty": np.zeros((0, 3), dtype=np.float32),
}
metadata = {"format": "pt", "written_by": "make_reference_fixture.py"}

save_file(tensors, OUT, metadata=metadata)
print("wrote", OUT, os.path.getsize(OUT), "bytes")
