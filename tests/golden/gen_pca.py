#!/usr/bin/python3
"""Writes the golden file of tests/test_pca.c, pca.safetensors: a PCA
computed by PyTorch, to be reproduced by profond's pf_pca_fit.

Run it with Debian's Python, which has python3-torch:

    /usr/bin/python3 tests/golden/gen_pca.py

The data are 40 examples of dimension 7 with correlated coordinates
(float64). The reference is the eigen-decomposition of their covariance
(torch.cov, divisor N - 1) by torch.linalg.eigh, reordered by decreasing
eigenvalue, each eigenvector's sign fixed as profond fixes it (its
largest-magnitude coordinate positive, the first on a tie):
    "x"            [40, 7]  the data
    "mean"         [7]      the mean of the rows
    "variances"    [7]      every eigenvalue, decreasing
    "components"   [7, 7]   the eigenvectors as rows, in the same order
    "code3"        [40, 3]  (x - mean) @ components[:3].T
    "recon3"       [40, 7]  code3 @ components[:3] + mean
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import torch  # noqa: E402
from stwriter import save  # noqa: E402

N, D, d = 40, 7, 3


def fix_signs(rows):
    """Makes each row's largest-magnitude coordinate (the first on a tie)
    positive."""
    out = rows.clone()
    for k in range(out.shape[0]):
        j = int(torch.argmax(out[k].abs()))  # the first maximum
        if out[k, j] < 0:
            out[k] = -out[k]
    return out


def main():
    torch.manual_seed(6)
    mixing = torch.randn(D, D, dtype=torch.float64)
    x = torch.randn(N, D, dtype=torch.float64) @ mixing + torch.arange(D, dtype=torch.float64)
    mean = x.mean(0)
    cov = torch.cov(x.T)
    values, vectors = torch.linalg.eigh(cov)
    order = torch.argsort(values, descending=True)
    variances = values[order]
    components = fix_signs(vectors[:, order].T.contiguous())
    code3 = (x - mean) @ components[:d].T
    recon3 = code3 @ components[:d] + mean
    save(os.path.join(HERE, "pca.safetensors"),
         [("x", x), ("mean", mean), ("variances", variances), ("components", components),
          ("code3", code3), ("recon3", recon3)])


if __name__ == "__main__":
    main()
