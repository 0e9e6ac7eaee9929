"""Read and write pertset's PyTorch exchange format (see kernel/api/interop/torch-format.ts).

A directory holds ``manifest.json`` and ``weights.bin``::

    {"format": "pertset-torch-state-dict", "version": 1,
     "tensors": [{"key": "prior.fc1.weight", "dtype": "float32",
                  "shape": [784, 784], "offset": 0}, ...]}

Values are float32 little-endian, C-contiguous, at byte ``offset`` of weights.bin; keys and
layouts are PyTorch's (state_dict keys, Linear [out, in], Conv2d [out, in, kh, kw], NCHW).
"""
import json
import os

import numpy as np
import torch

FORMAT = "pertset-torch-state-dict"
MANIFEST = "manifest.json"
WEIGHTS = "weights.bin"


def save_tensors(tensors, out_dir, source=None):
    """Writes ``{key: tensor or array}`` (float values only) into ``out_dir``."""
    os.makedirs(out_dir, exist_ok=True)
    entries, offset = [], 0
    with open(os.path.join(out_dir, WEIGHTS), "wb") as f:
        for key, value in tensors.items():
            if isinstance(value, torch.Tensor):
                value = value.detach().cpu().numpy()
            array = np.ascontiguousarray(value, dtype="<f4")
            f.write(array.tobytes())
            entries.append({"key": key, "dtype": "float32", "shape": list(array.shape), "offset": offset})
            offset += array.nbytes
    manifest = {"format": FORMAT, "version": 1, "tensors": entries}
    if source:
        manifest["source"] = source
    with open(os.path.join(out_dir, MANIFEST), "w") as f:
        json.dump(manifest, f, indent=1)


def load_tensors(path):
    """Reads a directory (or its manifest.json) into ``{key: torch.float32 tensor}``."""
    manifest_path = os.path.join(path, MANIFEST) if os.path.isdir(path) else path
    with open(manifest_path) as f:
        manifest = json.load(f)
    if manifest.get("format") != FORMAT or manifest.get("version") != 1:
        raise ValueError(f"{manifest_path}: not a {FORMAT} v1 manifest")
    raw = np.fromfile(os.path.join(os.path.dirname(manifest_path), WEIGHTS), dtype=np.uint8)
    out = {}
    for e in manifest["tensors"]:
        if e["dtype"] != "float32":
            raise ValueError(f"{manifest_path}: {e['key']}: dtype {e['dtype']} is not supported")
        n = int(np.prod(e["shape"], dtype=np.int64))
        values = raw[e["offset"]:e["offset"] + 4 * n].view("<f4")
        if values.size != n:
            raise ValueError(f"{manifest_path}: {e['key']}: weights.bin is truncated")
        out[e["key"]] = torch.from_numpy(values.astype(np.float32).reshape(e["shape"]))
    return out
