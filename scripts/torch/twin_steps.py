#!/usr/bin/env python3
"""The PyTorch side of scripts/parity/step-parity.mjs: a few training steps of the twin from given
initial weights, on batches it draws from real data and writes out so that pertset can take the
very same steps.

usage: twin_steps.py --config C --data DIR --weights DIR --out DIR --steps K --lr X --beta B
                     [--limit N] [--seed S]

Reads the initial weights (pertset's exchange format), draws K training batches of the config's
batch size (the first --limit training images, shuffled, with the config's training perturbation,
numpy-seeded) and the reparameterisation noise, then takes K Adam steps (PyTorch defaults,
the config's weight decay) at the constant learning rate X with loss = Σ recon + B·Σ KL, as
twin_train.py's training step. Writes to OUT (exchange format): batches (x/i, x_perturbed/i,
noise/i, NCHW), grad1 (every parameter's gradient at step 1), after1 and after (the state after
step 1 and after step K), and steps.json (per step: recon and KL per example, gradient norm).
"""
import argparse
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import pertset_weights as pw  # noqa: E402
import twin_models as tm  # noqa: E402
import twin_train as tt  # noqa: E402


LATENT = {"mnist_fc": (784,), "mnist_conv": (128, 7, 7), "mnist_stn": (128,)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for name in ("--config", "--data", "--weights", "--out"):
        ap.add_argument(name, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--lr", type=float, required=True)
    ap.add_argument("--beta", type=float, required=True)
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)
    if args.steps < 1 or args.limit < 1:
        raise tt.UsageError("--steps and --limit must be >= 1")
    torch.set_num_threads(args.threads)
    config = tt.load_config(args.config, None)
    model = tm.build(config["arch"])
    tt.load_initial_weights(model, args.weights)
    files = tt.find_mnist(args.data)
    train_set, _, _ = tt.load_splits(files, int(config["dataset"].get("padding", 0) or 0), args.limit, 1, 1)
    bs = config["batch_size"]
    if args.steps * bs > len(train_set):
        raise tt.UsageError(f"{args.steps} steps of {bs} need {args.steps * bs} images; raise --limit (now {len(train_set)})")
    train_p, _ = tt.perturbations(config)
    rng = np.random.default_rng([args.seed, 0])
    gen = torch.Generator().manual_seed(args.seed)
    order = rng.permutation(len(train_set))
    batches = {}
    for s in range(args.steps):
        idx = order[s * bs:(s + 1) * bs]
        x = train_set.batch(idx)
        batches[f"x/{s}"] = tt.tensor(x)
        batches[f"x_perturbed/{s}"] = tt.tensor(train_p(x, train_set.source_indices[idx], rng))
    os.makedirs(args.out, exist_ok=True)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=config["weight_decay"])
    model.train()
    log = []
    for s in range(args.steps):
        x, xt = batches[f"x/{s}"], batches[f"x_perturbed/{s}"]
        noise = torch.randn((x.shape[0], *LATENT[config["arch"]]), generator=gen)
        batches[f"noise/{s}"] = noise
        recon, kl = tt.loss_terms(model, x, xt, None, noise)
        loss = recon.sum() + args.beta * kl.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        grads = {k: p.grad for k, p in model.named_parameters()}
        if s == 0:
            pw.save_tensors(grads, os.path.join(args.out, "grad1"))
        opt.step()
        if s == 0:
            pw.save_tensors(model.state_dict(), os.path.join(args.out, "after1"))
        log.append({"step": s, "recon": recon.mean().item(), "kl": kl.mean().item(),
                    "gradNorm": math.sqrt(sum(float(g.double().pow(2).sum()) for g in grads.values()))})
    pw.save_tensors(batches, os.path.join(args.out, "batches"))
    pw.save_tensors(model.state_dict(), os.path.join(args.out, "after"))
    with open(os.path.join(args.out, "steps.json"), "w") as f:
        json.dump(log, f, indent=1)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except tt.UsageError as e:
        sys.stderr.write(f"twin_steps.py: {e}\n")
        sys.exit(2)
