"""PyTorch twins of the `pertset bench` workloads (kernel/bench/workloads.ts), batch 128.

The CVAE and MNISTConv workloads use the parity-tested twin models (scripts/torch/twin_models.py). Run by
`pertset bench` with Debian's /usr/bin/python3 and, when installed, the OpenMP build of OpenBLAS
on LD_LIBRARY_PATH. Prints one JSON object: torch version, threads, and per workload the median
ms of the timed steps after the warm-up steps and the peak RSS over the workload.
"""
import argparse
import json
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'scripts', 'torch'))
import twin_models  # noqa: E402

BATCH = 128
# Radii of the reference configs' evaluations (mnist_fc l-inf: 28, mnist_stn RTS: 14); alpha = eps/20.
PGD_EPSILON = {'mnist_fc': 28.0, 'mnist_stn': 14.0}
INPUT_SIZE = {'mnist_fc': 28, 'mnist_conv': 28, 'mnist_stn': 42}


def image_pair(size=28):
    x = torch.rand(BATCH, 1, size, size)
    xt = (x + torch.empty_like(x).uniform_(-0.3, 0.3)).clamp(0, 1)
    return x, xt


def cvae_train_step(arch):
    model = twin_models.build(arch)
    model.train()
    x, xt = image_pair(INPUT_SIZE[arch])
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        mu_p, lv_p = model.prior(x)
        mu_q, lv_q = model.recognition(x, xt)
        z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
        logits = model.generator.logits(x, z)
        recon = F.binary_cross_entropy_with_logits(logits, xt, reduction='sum')
        loss = recon + twin_models.kl_divergence(mu_q, lv_q, mu_p, lv_p).sum()
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


def latent_pgd_step(arch):
    epsilon = PGD_EPSILON[arch]
    alpha = epsilon / 20
    model = twin_models.build(arch)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    x, xt = image_pair(INPUT_SIZE[arch])
    with torch.no_grad():
        mu, lv = model.prior(x)
        sigma = torch.exp(0.5 * lv)
    state = {'delta': 0.1 * torch.randn_like(mu)}

    def norms(t):
        return t.flatten(1).norm(dim=1).reshape(-1, *([1] * (t.dim() - 1)))

    def step():
        delta = state['delta'].requires_grad_(True)
        loss = ((model.generate(x, mu + delta * sigma) - xt) ** 2).sum()
        (grad,) = torch.autograd.grad(loss, delta)
        with torch.no_grad():
            ascended = delta + alpha * grad / (norms(grad) + 1e-12)
            state['delta'] = (ascended * torch.clamp(epsilon / (norms(ascended) + 1e-12), max=1.0)).detach()
        return loss.item()

    return step


# The shipped cvae_attack configs: (CVAE, latent radius, PGD step, PGD steps).
ATTACK = {'mnist_stn': (14.0, 2.8, 7), 'mnist_fc': (28.0, 5.6, 7)}
ATTACK_LABEL_MARGIN = 30.0
SMOOTHING_BATCH = 500
SMOOTHING_SIGMA = 1.01


def frozen_cvae(arch):
    cvae = twin_models.build(arch).eval()
    for p in cvae.parameters():
        p.requires_grad_(False)
    return cvae


def training_latent_pgd(cvae, classifier, x, y, eps, alpha, steps):
    """The reference's CVAE_attack (attacks.py) as pertset's robust training runs it: random start in
    the ball, normalised-gradient ascent on the mean CE, only still-correct examples move, per-example
    l2 projection, stop once nothing is correct; returns the decoded adversarial images."""
    with torch.no_grad():
        mu, logvar = cvae.prior(x)
        sigma = (0.5 * logvar).exp()
        u = torch.randn_like(mu)
        u = u * (eps * torch.rand(u.size(0), 1) / u.norm(dim=1, keepdim=True))
    for _ in range(steps):
        u.requires_grad_(True)
        out = classifier(cvae.generate(x, mu + sigma * u))
        correct = out.argmax(1) == y
        (g,) = torch.autograd.grad(F.cross_entropy(out, y), u)
        if not correct.any():
            break
        with torch.no_grad():
            g = g / g.norm(dim=1, keepdim=True).clamp_min(1e-12)
            stepped = u + alpha * g
            projected = stepped * (eps / stepped.norm(dim=1, keepdim=True).clamp_min(1e-12)).clamp(max=1)
            u = torch.where(correct[:, None], projected, u)
        u = u.detach()
    with torch.no_grad():
        return cvae.generate(x, mu + sigma * u)


def cvae_attack_train_step(arch):
    eps, alpha, steps = ATTACK[arch]
    cvae = frozen_cvae(arch)
    side = INPUT_SIZE[arch]
    classifier = twin_models.mnist_conv_classifier(side).train()
    opt = torch.optim.Adam(classifier.parameters(), lr=1e-3)
    x, _ = image_pair(side)
    # Class 0 by a margin no attack step overcomes, so all 7 PGD steps run, as ours (workloads.ts).
    with torch.no_grad():
        classifier[7].bias.copy_(ATTACK_LABEL_MARGIN * F.one_hot(torch.tensor(0), 10).float())
    y = torch.zeros(BATCH, dtype=torch.long)

    def step():
        adv = training_latent_pgd(cvae, classifier, x, y, eps, alpha, steps)
        loss = torch.max(F.cross_entropy(classifier(x), y, reduction='none'),
                         F.cross_entropy(classifier(adv), y, reduction='none')).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def certification_throughput():
    cvae = frozen_cvae('mnist_stn')
    classifier = twin_models.mnist_conv_classifier(42).eval()
    x1 = image_pair(42)[0][:1]

    @torch.no_grad()
    def step():
        mu, logvar = cvae.prior(x1)
        u = SMOOTHING_SIGMA * torch.randn(SMOOTHING_BATCH, mu.shape[1])
        z = mu + (0.5 * logvar).exp() * u
        predicted = classifier(cvae.generate(x1.expand(SMOOTHING_BATCH, -1, -1, -1), z)).argmax(1)
        return torch.bincount(predicted, minlength=10).tolist()

    return step


WORKLOADS = {
    'mnist_fc_cvae_train_step': lambda: cvae_train_step('mnist_fc'),
    'conv_classifier_train_step': conv_classifier_train_step,
    'latent_pgd_step': lambda: latent_pgd_step('mnist_fc'),
    'mnist_conv_cvae_train_step': lambda: cvae_train_step('mnist_conv'),
    'mnist_stn_cvae_train_step': lambda: cvae_train_step('mnist_stn'),
    'mnist_stn_latent_pgd_step': lambda: latent_pgd_step('mnist_stn'),
    'mnist_conv_cvae_attack_train_step': lambda: cvae_attack_train_step('mnist_stn'),
    'mnist_conv_cvae_attack_linf_train_step': lambda: cvae_attack_train_step('mnist_fc'),
    'certification_throughput': certification_throughput,
}


def reset_peak_rss():
    """Linux: VmHWM := current RSS, so the next reading is this workload's own peak."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')
    except OSError:
        pass


def peak_rss_bytes():
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


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
        reset_peak_rss()
        step = WORKLOADS[name]()
        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000)
        results.append({'name': name, 'ms': statistics.median(times), 'peak_rss_bytes': peak_rss_bytes()})
    print(json.dumps({'torch': torch.__version__, 'threads': torch.get_num_threads(), 'workloads': results}))


if __name__ == '__main__':
    main()
