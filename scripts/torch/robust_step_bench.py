"""PyTorch twin of one `cvae_attack` robust-training step (what scripts/bench-robust-step.mjs times
in pertset): MNISTConv (the reference's layers), batch 128, the reference's latent PGD (7 steps,
α = ε/5, random start in the ball, normalised-gradient ascent, per-example ℓ2 projection, only
still-correct examples move), the loss max(CE clean, CE adversarial) per example, one Adam step.
Prints {"arch", "ms"}: the median of the timed steps (default 5, after 2 warm-up steps), 2 threads
(PERTSET_TORCH_THREADS). Usage: python3 scripts/torch/robust_step_bench.py mnist_fc|mnist_stn [steps] [warmup]
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from twin_models import build  # noqa: E402


def mnist_conv(side):
    s = side
    for _ in range(2):
        s = (s + 2 - 4) // 2 + 1
    return nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(64 * s * s, 1024), nn.ReLU(), nn.Linear(1024, 10))


def latent_pgd(cvae, model, x, y, eps, alpha, steps):
    with torch.no_grad():
        mu, logvar = cvae.prior(x)
        sigma = (0.5 * logvar).exp()
        u = torch.randn_like(mu)
        u = u * (eps * torch.rand(u.size(0), 1) / u.norm(dim=1, keepdim=True))
    for _ in range(steps):
        u.requires_grad_(True)
        out = model(cvae.generate(x, mu + sigma * u))
        correct = out.argmax(1) == y
        if not correct.any():
            break
        g, = torch.autograd.grad(F.cross_entropy(out, y), u)
        with torch.no_grad():
            g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
            stepped = u + alpha * g
            projected = stepped * (eps / stepped.norm(dim=1, keepdim=True).clamp_min(1e-12)).clamp(max=1)
            u = torch.where(correct[:, None], projected, u)
        u = u.detach()
    with torch.no_grad():
        return cvae.generate(x, mu + sigma * u)


def main():
    arch = sys.argv[1]
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    warmup = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    torch.manual_seed(0)
    torch.set_num_threads(int(os.environ.get("PERTSET_TORCH_THREADS", "2")))
    side, eps = (42, 14.0) if arch == 'mnist_stn' else (28, 28.0)
    cvae = build(arch).eval()
    for q in cvae.parameters():
        q.requires_grad_(False)
    model = mnist_conv(side)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(128, 1, side, side)
    y = torch.randint(0, 10, (128,))
    times = []
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        model.train()
        adv = latent_pgd(cvae, model, x, y, eps, eps / 5, 7)
        opt.zero_grad()
        loss = torch.max(F.cross_entropy(model(x), y, reduction='none'), F.cross_entropy(model(adv), y, reduction='none')).mean()
        loss.backward()
        opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - t0) * 1000)
    print(json.dumps({'arch': arch, 'ms': statistics.median(times), 'threads': torch.get_num_threads(), 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
