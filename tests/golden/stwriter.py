"""stwriter.py — a minimal safetensors writer for the golden-file generators.

Debian's python3-torch has no `safetensors` package, and the format is
simple: an 8-byte little-endian header length, a JSON header padded with
spaces to a multiple of 8, then the tensors' raw little-endian bytes.

    from stwriter import save
    save("tests/golden/ops_add.safetensors", {"a": a, "out": out})
"""
import json
import struct

import torch

DTYPES = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64", torch.uint8: "U8"}


def save(path, tensors):
    """tensors: a dict, or a list of (name, tensor) pairs kept in order."""
    header, blobs, offset = {}, [], 0
    items = tensors.items() if isinstance(tensors, dict) else tensors
    for name, t in items:
        t = t.detach().contiguous().cpu()
        if t.dtype not in DTYPES:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        array = t.numpy()
        data = array.astype(array.dtype.newbyteorder("<")).tobytes() if t.numel() else b""
        header[name] = {"dtype": DTYPES[t.dtype], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)
