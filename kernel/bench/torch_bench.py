"""PyTorch twins of the `pertset bench` workloads (kernel/bench/workloads.ts), batch 128.

Run by `pertset bench` with Debian's /usr/bin/python3 and, when installed, the OpenMP build of
OpenBLAS on LD_LIBRARY_PATH. Prints one JSON object: torch version, threads, and per workload
the median ms of the timed steps after the warm-up steps.
"""
import argparse
import json
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BATCH = 128
PGD_EPSILON = 28.0
PGD_STEP = PGD_EPSILON / 20


def image_pair():
    x = torch.rand(BATCH, 1, 28, 28)
    xt = (x + torch.empty_like(x).uniform_(-0.3, 0.3)).clamp(0, 1)
    return x, xt


class FcEncoder(nn.Module):
    def __init__(self, in_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, 784)
        self.fc21 = nn.Linear(784, 784)
        self.fc22 = nn.Linear(784, 784)

    def forward(self, h):
        h = F.relu(self.fc1(h))
        return self.fc21(h), self.fc22(h)


class MnistFcCVAE(nn.Module):
    """mnist_fc as in paper.md section 2 (same layer sizes as kernel/api/models/mnist-fc.ts)."""

    def __init__(self):
        super().__init__()
        self.prior = FcEncoder(784)
        self.recognition = FcEncoder(1568)
        self.fc3 = nn.Linear(1568, 784)
        self.fc4 = nn.Linear(784, 784)

    def generate_logits(self, x, z):
        h = F.relu(self.fc3(torch.cat([x.flatten(1), z], 1)))
        return self.fc4(h)


def cvae_train_step():
    model = MnistFcCVAE()
    x, xt = image_pair()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        mu_p, lv_p = model.prior(x.flatten(1))
        mu_q, lv_q = model.recognition(torch.cat([x.flatten(1), xt.flatten(1)], 1))
        z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
        logits = model.generate_logits(x, z)
        recon = F.binary_cross_entropy_with_logits(logits, xt.flatten(1), reduction='sum')
        kl = 0.5 * (torch.exp(lv_q - lv_p) + (mu_p - mu_q) ** 2 / torch.exp(lv_p) - 1 + lv_p - lv_q).sum()
        loss = recon + kl
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def conv_classifier_train_step():
    model = nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.ReLU(),
        nn.Conv2d(32, 64, 3, stride=2), nn.ReLU(),
        nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Linear(128, 10),
    )
    x, _ = image_pair()
    labels = torch.randint(0, 10, (BATCH,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        loss = F.cross_entropy(model(x), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def latent_pgd_step():
    model = MnistFcCVAE()
    for p in model.parameters():
        p.requires_grad_(False)
    x, xt = image_pair()
    with torch.no_grad():
        mu, lv = model.prior(x.flatten(1))
        sigma = torch.exp(0.5 * lv)
    state = {'delta': 0.1 * torch.randn(BATCH, 784)}

    def step():
        delta = state['delta'].requires_grad_(True)
        out = torch.sigmoid(model.generate_logits(x, mu + delta * sigma))
        loss = ((out - xt.flatten(1)) ** 2).sum()
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            ascended = delta + PGD_STEP * grad / (grad.norm(dim=1, keepdim=True) + 1e-12)
            scale = torch.clamp(PGD_EPSILON / (ascended.norm(dim=1, keepdim=True) + 1e-12), max=1.0)
            state['delta'] = (ascended * scale).detach()
        return loss.item()

    return step


WORKLOADS = {
    'mnist_fc_cvae_train_step': cvae_train_step,
    'conv_classifier_train_step': conv_classifier_train_step,
    'latent_pgd_step': latent_pgd_step,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--steps', type=int, default=10, help='timed steps per workload')
    parser.add_argument('--warmup', type=int, default=2, help='untimed steps first')
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--only', default='', help='comma-separated workload names')
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    names = [n for n in args.only.split(',') if n] or list(WORKLOADS)
    results = []
    for name in names:
        if name not in WORKLOADS:
            sys.exit(f'torch_bench.py: unknown workload "{name}"; expected one of {", ".join(WORKLOADS)}')
        step = WORKLOADS[name]()
        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        results.append({'name': name, 'ms': statistics.median(times)})
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'workloads': results}))


if __name__ == '__main__':
    main()
