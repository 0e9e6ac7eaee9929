#!/usr/bin/env python3
"""Export a PyTorch CVAE checkpoint to pertset's weight format, for `pertset import-torch`.

usage: export_state_dict.py CHECKPOINT.pth OUT_DIR [--key KEY]

CHECKPOINT is what the reference's train.py saves (a dict whose "model_state_dict" holds the
state_dict) or a bare state_dict. DataParallel's ".module" segments are removed from keys;
integer buffers (BatchNorm's num_batches_tracked) are skipped. OUT_DIR receives manifest.json
and weights.bin (float32 little-endian, PyTorch names and layouts). Then:

    pertset import-torch --weights OUT_DIR --out RUN_DIR [--arch mnist_stn]
"""
import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pertset_weights import save_tensors  # noqa: E402

STATE_DICT_KEYS = ("model_state_dict", "state_dict", "model")


def find_state_dict(obj, key=None):
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise SystemExit(f"error: the checkpoint has no entry {key!r}")
        return obj[key]
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if isinstance(obj, dict) and obj and all(isinstance(v, torch.Tensor) for v in obj.values()):
        return obj
    if isinstance(obj, dict):
        for k in STATE_DICT_KEYS:
            if k in obj and isinstance(obj[k], dict):
                return obj[k]
    raise SystemExit("error: no state_dict found (expected a state_dict, or a dict with one of "
                     f"{', '.join(STATE_DICT_KEYS)}; pass --key)")


def clean_key(key):
    return ".".join(p for p in key.split(".") if p != "module")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint")
    parser.add_argument("out_dir")
    parser.add_argument("--key", default=None, help="entry of the checkpoint dict holding the state_dict")
    args = parser.parse_args(argv)
    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f"error: {args.checkpoint}: no such file")
    obj = torch.load(args.checkpoint, map_location="cpu")
    state = find_state_dict(obj, args.key)
    tensors, skipped = {}, []
    for key, value in state.items():
        if not torch.is_tensor(value) or not value.is_floating_point():
            skipped.append(key)
            continue
        tensors[clean_key(key)] = value.float()
    if not tensors:
        raise SystemExit("error: the state_dict holds no floating-point tensors")
    save_tensors(tensors, args.out_dir, source=os.path.abspath(args.checkpoint))
    n = sum(t.numel() for t in tensors.values())
    print(f"wrote {len(tensors)} tensors ({n} values) to {args.out_dir}; skipped {len(skipped)} non-float entries")


if __name__ == "__main__":
    main()
