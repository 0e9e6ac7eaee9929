#!/usr/bin/env python3
"""The PyTorch training twin of `pertset train` + `radius` + the parity metrics of `eval`.

Trains the parity-tested twin model (twin_models.py) with pertset's recipe on real MNIST and
prints one JSON object: the latent-norm statistics and the radius ε they recommend, encoder AE,
expected AE, KL, recon, the identity baseline and the sample spread, measured as pertset
measures them. scripts/parity/training-parity.mjs runs it beside pertset and compares.

The recipe, as pertset's trainer (kernel/api/train):
- data: the IDX files of MNIST; train/validation = PyTorch `random_split` of the training file
  with seed 0 (59k/1k, the reference's split, which pertset replays); `--limit N` keeps the first
  N training images of the split, `--val-limit N` the first N validation images; `dataset.padding`
  zero-pads (7 → the 42×42 RTS canvas);
- pairs: ℓ∞ noise x̃ = clip(x + U(−ε, ε), min, max); RTS: rotation U(±angle)° and scale U(scale)
  about the centre, nearest neighbour, fill 0 (torchvision's PIL convention), then an integer
  crop offset in [0, 2·padding] (translation ±padding); the limited-data bank: k fixed RTS draws
  per image, drawn from the same seeded generator pertset uses (Alea seeded
  `rts-bank/0/<index in the training file>`), so the banks are pertset's own; one of the k is
  picked at random each time the image is drawn;
- Adam (PyTorch defaults, weight decay from the config), loss = Σ_batch recon + β·KL with recon
  the BCE of the generator's logits; LR from `step_size_schedule` at the fractional epoch
  epoch + (batch + 1)/batches, β from `beta_schedule` at the integer epoch, both interpolated as
  np.interp; `--epochs N` rescales both schedules' knots by N / training.epochs; the training
  pairs are reshuffled every epoch;
- radius: ‖(μ_q − μ_p)/σ_p‖₂ over the validation images with the TEST perturbation, `--passes`
  passes with fresh perturbations; ε = the maximum rounded up (2 significant digits below 1);
- evaluation on the first `--test-limit` test images with the test perturbation, per-pixel BCE
  from probabilities with each log clamped at −100: encoder AE (posterior mean projected onto the
  per-example ball ‖u‖₂ ≤ ε), expected AE (`--samples` prior draws, the reference's per-coordinate
  truncation when any draw of a batch leaves the ball), KL(q ‖ p), recon (one posterior sample),
  identity error, entropy floor, and encoder/expected AE under MSE;
- sample spread: per-pixel standard deviation (population) across `--spread-samples` members of
  S(x) (u ~ N(0, I) projected onto the ball), averaged over pixels and the first
  `--spread-images` test images.

`--init DIR` starts from other initial weights (pertset's exchange format: training-parity.mjs
--same-init passes pertset's own initialisation) and `--orders FILE` takes the shuffle order of
every epoch from a file (int32, epochs x training images: pertset's) instead of numpy's.

Each finished epoch is checkpointed (`--out DIR/checkpoint.pt`, written atomically); rerunning
with the same arguments resumes after the last finished epoch. Progress goes to stderr.
"""
import argparse
import gzip
import json
import math
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
# Idle OpenMP threads sleep instead of spinning: on a machine whose cores are shared with other
# work (pertset's side of the parity run, other jobs) spinning made steps up to 6x slower here.
# Set before torch loads libgomp, which reads it once; an explicit setting is kept.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # a clear message instead of a traceback
    sys.stderr.write(f"twin_train.py needs PyTorch and numpy in {sys.executable}: {e} "
                     "(Debian: apt-get install python3-torch python3-numpy)\n")
    sys.exit(3)

sys.path.insert(0, HERE)
import twin_models as tm  # noqa: E402

BATCH_EVAL = 128
MNIST_SUBDIRS = ["mnist", "MNIST/raw", "MNIST"]
MNIST_FILES = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]


class UsageError(Exception):
    """Bad arguments, config or data: printed as one line, exit status 2."""


# ---------------------------------------------------------------- the config (reference schema)

def load_config(name_or_path, epochs):
    path = name_or_path
    if not os.path.isfile(path):
        path = os.path.join(REPO, "kernel", "configs", f"{name_or_path}.json")
    if not os.path.isfile(path):
        raise UsageError(f"config {name_or_path!r} not found (neither a file nor {path})")
    with open(path) as f:
        raw = json.load(f)
    try:
        arch = raw["model"]["type"]
        training = raw["training"]
        config = {
            "name": raw["model"].get("model_dir") or os.path.splitext(os.path.basename(path))[0],
            "file": os.path.abspath(path),
            "arch": arch,
            "perturbation": raw["perturbation"],
            "epochs": int(training["epochs"]),
            "batch_size": int(training["batch_size"]),
            "lr": [list(map(float, s)) for s in training["step_size_schedule"]],
            "beta": [list(map(float, s)) for s in training["beta_schedule"]],
            "weight_decay": float(training.get("weight_decay", 0) or 0),
            "dataset": raw["dataset"],
            "seed": int(raw.get("seed", 0)),
        }
    except (KeyError, TypeError, ValueError) as e:
        raise UsageError(f"{path}: not a reference-schema config ({e!r})")
    if arch not in ("mnist_fc", "mnist_conv", "mnist_stn"):
        raise UsageError(f"{path}: model.type {arch!r} is not one of the MNIST CVAEs")
    if config["dataset"].get("type") not in ("mnist", "mnist_rts_limited"):
        raise UsageError(f"{path}: dataset.type {config['dataset'].get('type')!r}: the twin trains on MNIST only")
    if epochs is not None and epochs != config["epochs"]:
        # A shortened run keeps the schedules' shape, as `pertset train --epochs N`.
        factor = epochs / config["epochs"]
        for key in ("lr", "beta"):
            config[key] = [[k * factor for k in config[key][0]], config[key][1]]
        config["epochs"] = epochs
    return config


def schedule_at(schedule, t):
    return float(np.interp(t, schedule[0], schedule[1]))


# ---------------------------------------------------------------- MNIST from IDX files

def find_mnist(data_dir):
    looked = []
    for sub in [""] + MNIST_SUBDIRS:
        d = os.path.join(data_dir, sub)
        files = {}
        for name in MNIST_FILES:
            for candidate in (name, name + ".gz"):
                if os.path.isfile(os.path.join(d, candidate)):
                    files[name] = os.path.join(d, candidate)
                    break
        if len(files) == len(MNIST_FILES):
            return files
        looked.append(d)
    raise UsageError(f"MNIST not found: no folder among {', '.join(looked)} holds {', '.join(MNIST_FILES)} (raw or .gz); "
                     "pass --data DIR (the folder holding mnist/) or set PERTSET_DATA")


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise UsageError(f"{path}: not an unsigned-byte IDX file")
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise UsageError(f"{path}: header declares {dims}, file holds {body.size} values")
    return body.reshape(dims)


class Images:
    """uint8 images [n, h, w] (padded) with each image's index in its source file."""

    def __init__(self, pixels, source_indices, padding):
        if padding:
            pixels = np.pad(pixels, ((0, 0), (padding, padding), (padding, padding)))
        self.pixels = pixels
        self.source_indices = np.asarray(source_indices, dtype=np.int64)

    def __len__(self):
        return self.pixels.shape[0]

    def batch(self, idx):
        return self.pixels[idx].astype(np.float32) / 255.0


def load_splits(files, padding, limit, val_limit, test_limit):
    train_all = read_idx(files["train-images-idx3-ubyte"])
    test_all = read_idx(files["t10k-images-idx3-ubyte"])
    n = train_all.shape[0]
    # The reference's split (torch.manual_seed(0); random_split(data, [n − 1000, 1000])), which pertset replays.
    torch.manual_seed(0)
    perm = torch.randperm(n).numpy()
    train_idx, val_idx = perm[: n - 1000], perm[n - 1000:]
    if limit:
        train_idx = train_idx[:limit]
    if val_limit:
        val_idx = val_idx[:val_limit]
    test_idx = np.arange(min(test_limit, test_all.shape[0]) if test_limit else test_all.shape[0])
    return (Images(train_all[train_idx], train_idx, padding), Images(train_all[val_idx], val_idx, padding),
            Images(test_all[test_idx], test_idx, padding))


# ---------------------------------------------------------------- perturbations

class Alea:
    """seedrandom's Alea generator (pertset's createRng), for the limited-data banks only."""

    def __init__(self, seed):
        n = [0xEFC8249D]

        def mash(data):
            for ch in str(data):
                n[0] += ord(ch)
                h = 0.02519603282416938 * n[0]
                n[0] = int(h) & 0xFFFFFFFF
                h -= n[0]
                h *= n[0]
                n[0] = int(h) & 0xFFFFFFFF
                h -= n[0]
                n[0] += h * 0x100000000
            return (int(n[0]) & 0xFFFFFFFF) * 2.3283064365386963e-10

        self.c = 1
        self.s0, self.s1, self.s2 = mash(" "), mash(" "), mash(" ")
        self.s0 -= mash(seed)
        if self.s0 < 0:
            self.s0 += 1
        self.s1 -= mash(seed)
        if self.s1 < 0:
            self.s1 += 1
        self.s2 -= mash(seed)
        if self.s2 < 0:
            self.s2 += 1

    def __call__(self):
        t = 2091639 * self.s0 + self.c * 2.3283064365386963e-10
        self.s0, self.s1 = self.s1, self.s2
        self.c = int(t)
        self.s2 = t - self.c
        return self.s2

    def uniform_range(self, lo, hi):
        return lo + (hi - lo) * self()

    def int(self, n):
        return math.floor(self() * n)


class Linf:
    def __init__(self, spec):
        self.eps = float(spec.get("epsilon", 0.3))
        self.lo = float(spec.get("min", 0))
        self.hi = float(spec.get("max", 1))

    def __call__(self, x, source_indices, rng):
        noise = rng.uniform(-self.eps, self.eps, size=x.shape).astype(np.float32)
        return np.clip(x + noise, self.lo, self.hi)


class Rts:
    def __init__(self, spec):
        self.angle = float(spec.get("angle", 45))
        self.scale = [float(s) for s in spec.get("scale", [0.7, 1.3])]
        self.crop = spec.get("crop_sz")
        self.padding = int(spec.get("padding", 7))

    def sample(self, rng, count, side):
        """(angle, scale, crop top, crop left) per image, drawn by numpy."""
        span = side + 2 * self.padding - self.crop_for(side) + 1
        return (rng.uniform(-self.angle, self.angle, count), rng.uniform(self.scale[0], self.scale[1], count),
                rng.integers(0, span, count), rng.integers(0, span, count))

    def crop_for(self, side):
        return int(self.crop) if self.crop else side

    def apply(self, x, angle, scale, top, left):
        """Nearest-neighbour rotation·scale about the centre (pertset's affineNearest), then pad + crop."""
        b, h, w = x.shape
        rad = np.deg2rad(angle)[:, None, None]
        cos = np.cos(rad) / scale[:, None, None]
        sin = np.sin(rad) / scale[:, None, None]
        dy = (np.arange(h) + 0.5 - h * 0.5)[None, :, None]
        dx = (np.arange(w) + 0.5 - w * 0.5)[None, None, :]
        sx = np.floor(cos * dx + sin * dy + w * 0.5).astype(np.int64)
        sy = np.floor(-sin * dx + cos * dy + h * 0.5).astype(np.int64)
        inside = (sx >= 0) & (sx < w) & (sy >= 0) & (sy < h)
        bi = np.arange(b)[:, None, None]
        warped = np.where(inside, x[bi, np.clip(sy, 0, h - 1), np.clip(sx, 0, w - 1)], 0).astype(np.float32)
        crop, p = self.crop_for(h), self.padding
        padded = np.pad(warped, ((0, 0), (p, p), (p, p)))
        rows = top[:, None] + np.arange(crop)[None, :]
        cols = left[:, None] + np.arange(crop)[None, :]
        return padded[bi, rows[:, :, None], cols[:, None, :]]

    def __call__(self, x, source_indices, rng):
        return self.apply(x, *self.sample(rng, x.shape[0], x.shape[1]))


class LimitedRts(Rts):
    """k fixed RTS draws per training image, the very banks pertset draws (bank seed 0)."""

    def __init__(self, spec, k):
        super().__init__(spec)
        self.k = k
        self.banks = {}

    def bank(self, source_index, side):
        if source_index not in self.banks:
            rng = Alea(f"rts-bank/0/{source_index}")
            span = side + 2 * self.padding - self.crop_for(side) + 1
            draws = []
            for _ in range(self.k):  # pertset's order: angle, scale, crop top, crop left
                draws.append((rng.uniform_range(-self.angle, self.angle), rng.uniform_range(self.scale[0], self.scale[1]),
                              rng.int(span), rng.int(span)))
            self.banks[source_index] = draws
        return self.banks[source_index]

    def __call__(self, x, source_indices, rng):
        picks = rng.integers(0, self.k, len(source_indices))
        params = [self.bank(int(s), x.shape[1])[j] for s, j in zip(source_indices, picks)]
        angle, scale, top, left = (np.array(v) for v in zip(*params))
        return self.apply(x, angle, scale, top.astype(np.int64), left.astype(np.int64))


def perturbations(config):
    p = config["perturbation"]

    def make(kind):
        if kind == "linfinity":
            return Linf(p)
        if kind == "rts":
            return Rts(p)
        if kind == "dataloader":
            k = config["dataset"].get("k")
            if config["dataset"].get("type") != "mnist_rts_limited" or not k or p.get("test_type") != "rts":
                raise UsageError("perturbation.train_type 'dataloader' needs dataset.type mnist_rts_limited, dataset.k and test_type rts")
            return LimitedRts(p, int(k))
        raise UsageError(f"perturbation type {kind!r} is not supported by the twin (linfinity, rts, dataloader)")

    return make(p["train_type"]), make(p["test_type"])


def tensor(images):
    return torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1)


# ---------------------------------------------------------------- training

def loss_terms(model, x, xt, generator, noise=None):
    """Per-example recon and KL; the reparameterisation noise is drawn from `generator` unless given."""
    mu_p, logvar_p = model.prior(x)
    mu_q, logvar_q = model.recognition(x, xt)
    if noise is None:
        noise = torch.randn(mu_q.shape, generator=generator)
    z = mu_q + torch.exp(0.5 * logvar_q) * noise
    logits = model.generator.logits(x, z)
    b = x.shape[0]
    recon = F.binary_cross_entropy_with_logits(logits.reshape(b, -1), xt.reshape(b, -1), reduction="none").sum(1)
    return recon, tm.kl_divergence(mu_q, logvar_q, mu_p, logvar_p)


def save_checkpoint(path, state):
    tmp = path + ".tmp"
    torch.save(state, tmp)
    os.replace(tmp, path)


def read_orders(path, epochs, n):
    """pertset's shuffle orders (int32 little-endian, one permutation of range(n) per epoch)."""
    orders = np.fromfile(path, dtype="<i4")
    if orders.size != epochs * n:
        raise UsageError(f"{path}: {orders.size} indices, expected {epochs} epochs x {n} training images")
    orders = orders.reshape(epochs, n).astype(np.int64)
    for e, order in enumerate(orders):
        if not np.array_equal(np.sort(order), np.arange(n)):
            raise UsageError(f"{path}: epoch {e} is not a permutation of 0..{n - 1}")
    return orders


def load_initial_weights(model, path):
    """Starts from another implementation's initial weights (pertset's exchange format, strict)."""
    import pertset_weights
    try:
        tensors = pertset_weights.load_tensors(path)
    except (OSError, ValueError) as e:
        raise UsageError(f"--init {path}: {e}")
    result = model.load_state_dict(tensors, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise UsageError(f"--init {path}: not this model's weights (missing {missing[:5]}, unexpected {result.unexpected_keys[:5]})")


def train(model, config, train_set, args, log):
    train_p, _ = perturbations(config)
    opt = torch.optim.Adam(model.parameters(), lr=0.0, weight_decay=config["weight_decay"])
    bs = config["batch_size"]
    n = len(train_set)
    batches = math.ceil(n / bs)
    history, start_epoch, seconds = [], 0, 0.0
    ckpt = os.path.join(args.out, "checkpoint.pt") if args.out else None
    budget = {"config": config["file"], "epochs": config["epochs"], "limit": args.limit, "seed": args.seed}
    if args.init or args.orders:  # only then, so checkpoints of runs without them still resume
        budget.update(init=args.init, orders=args.orders)
    orders = read_orders(args.orders, config["epochs"], n) if args.orders else None
    if ckpt and os.path.exists(ckpt):
        state = torch.load(ckpt)
        if state["budget"] != budget:
            raise UsageError(f"{ckpt} belongs to another run ({state['budget']}); choose another --out")
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        history, start_epoch, seconds = state["history"], state["epoch"], state["seconds"]
        log(f"resuming after epoch {start_epoch} of {config['epochs']} from {ckpt}")
    for epoch in range(start_epoch, config["epochs"]):
        t0 = time.time()
        model.train()
        beta = schedule_at(config["beta"], epoch)
        # Every draw of epoch e comes from (seed, e): a run resumed at an epoch boundary repeats it.
        rng = np.random.default_rng([args.seed, epoch])
        noise = torch.Generator().manual_seed(args.seed * 100003 + epoch)
        order = orders[epoch] if orders is not None else rng.permutation(n)
        sums = np.zeros(3)
        for b in range(batches):
            lr = schedule_at(config["lr"], epoch + (b + 1) / batches)
            for group in opt.param_groups:
                group["lr"] = lr
            idx = order[b * bs:(b + 1) * bs]
            x = train_set.batch(idx)
            xt = train_p(x, train_set.source_indices[idx], rng)
            recon, kl = loss_terms(model, tensor(x), tensor(xt), noise)
            loss = recon.sum() + beta * kl.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sums += [loss.item(), kl.sum().item(), recon.sum().item()]
            if (b + 1) % 20 == 0 or b + 1 == batches:
                log(f"epoch {epoch + 1}/{config['epochs']} step {b + 1}/{batches} loss {loss.item() / len(idx):.2f} lr {lr:.2e} beta {beta:.3g}")
        seconds += time.time() - t0
        history.append({"epoch": epoch, "loss": sums[0] / n, "kl": sums[1] / n, "recon": sums[2] / n, "beta": beta})
        if ckpt:
            save_checkpoint(ckpt, {"budget": budget, "model": model.state_dict(), "optimizer": opt.state_dict(),
                                   "history": history, "epoch": epoch + 1, "seconds": seconds})
    return history, seconds


# ---------------------------------------------------------------- evaluation (as kernel/api/evaluate)

def round_up_radius(m):
    if m >= 1:
        return math.ceil(m)
    scale = 10 ** (1 - math.floor(math.log10(m)))
    return math.ceil(m * scale) / scale


def normalised_posterior_mean(model, x, xt):
    mu_p, logvar_p = model.prior(x)
    mu_q, _ = model.recognition(x, xt)
    b = x.shape[0]
    return ((mu_q - mu_p) / torch.exp(0.5 * logvar_p)).reshape(b, -1)


def project(u, eps):
    norms = u.norm(dim=1, keepdim=True)
    return u * torch.clamp(eps / norms.clamp_min(1e-12), max=1.0)


def member(model, x, u):
    mu_p, logvar_p = model.prior(x)
    z = mu_p + torch.exp(0.5 * logvar_p) * u.reshape(mu_p.shape)
    return model.generate(x, z)


def per_pixel_bce(out, target):
    return tm.bce_sum(out, target) / target[0].numel()


def per_pixel_mse(out, target):
    b = out.shape[0]
    return ((out - target) ** 2).reshape(b, -1).mean(1)


def truncated_normal(shape, r, generator):
    if r < 0.1:
        return (torch.rand(shape, generator=generator) * 2 - 1) * r
    out = torch.randn(shape, generator=generator)
    bad = out.abs() > r
    while bad.any():
        out[bad] = torch.randn(int(bad.sum()), generator=generator)
        bad = out.abs() > r
    return out


@torch.no_grad()
def calibrate(model, config, val_set, args):
    _, test_p = perturbations(config)
    model.eval()
    norms = []
    for p in range(args.passes):
        rng = np.random.default_rng([args.seed, 1000 + p])
        for s in range(0, len(val_set), BATCH_EVAL):
            idx = np.arange(s, min(s + BATCH_EVAL, len(val_set)))
            x = val_set.batch(idx)
            xt = test_p(x, val_set.source_indices[idx], rng)
            norms.append(normalised_posterior_mean(model, tensor(x), tensor(xt)).norm(dim=1).numpy())
    v = np.concatenate(norms).astype(np.float64)
    stats = {"mean": v.mean(), "std": v.std(), "p25": np.percentile(v, 25), "p50": np.percentile(v, 50),
             "p75": np.percentile(v, 75), "p999": np.percentile(v, 99.9), "max": v.max()}
    stats = {k: float(x) for k, x in stats.items()}
    return {**stats, "n": int(v.size), "passes": args.passes, "radius": round_up_radius(stats["max"])}


@torch.no_grad()
def evaluate(model, config, test_set, eps, args):
    _, test_p = perturbations(config)
    model.eval()
    rng = np.random.default_rng([args.seed, 2000])
    gen = torch.Generator().manual_seed(args.seed * 100003 + 7919)
    keys = ["encoderAE", "expectedAE", "kl", "recon", "identityError", "entropyFloor", "mseEncoderAE", "mseExpectedAE"]
    sums = dict.fromkeys(keys, 0.0)
    for s in range(0, len(test_set), BATCH_EVAL):
        idx = np.arange(s, min(s + BATCH_EVAL, len(test_set)))
        x = tensor(test_set.batch(idx))
        xt = tensor(test_p(test_set.batch(idx), test_set.source_indices[idx], rng))
        b = x.shape[0]
        sums["identityError"] += per_pixel_bce(x, xt).sum().item()
        p = xt.clamp(1e-12, 1 - 1e-7)
        sums["entropyFloor"] += (-(xt * p.log() + (1 - xt) * (1 - p).log())).reshape(b, -1).mean(1).sum().item()
        out = member(model, x, project(normalised_posterior_mean(model, x, xt), eps))
        sums["encoderAE"] += per_pixel_bce(out, xt).sum().item()
        sums["mseEncoderAE"] += per_pixel_mse(out, xt).sum().item()
        mu_p, logvar_p = model.prior(x)
        mu_q, logvar_q = model.recognition(x, xt)
        sums["kl"] += tm.kl_divergence(mu_q, logvar_q, mu_p, logvar_p).sum().item()
        z = mu_q + torch.exp(0.5 * logvar_q) * torch.randn(mu_q.shape, generator=gen)
        sums["recon"] += per_pixel_bce(model.generate(x, z), xt).sum().item()
        d = mu_p[0].numel()
        for _ in range(args.samples):
            u = torch.randn((b, d), generator=gen)
            if (u.norm(dim=1) > eps).any():  # the reference's quirk, as pertset copies it
                u = truncated_normal((b, d), eps, gen)
            out = member(model, x, u)
            sums["expectedAE"] += per_pixel_bce(out, xt).sum().item() / args.samples
            sums["mseExpectedAE"] += per_pixel_mse(out, xt).sum().item() / args.samples
    n = len(test_set)
    m = {k: v / n for k, v in sums.items()}
    return {"encoderAE": m["encoderAE"], "expectedAE": m["expectedAE"], "kl": m["kl"], "recon": m["recon"],
            "identityError": m["identityError"], "entropyFloor": m["entropyFloor"],
            "mse": {"encoderAE": m["mseEncoderAE"], "expectedAE": m["mseExpectedAE"]}, "radius": eps, "n": n}


@torch.no_grad()
def sample_spread(model, test_set, eps, args):
    model.eval()
    gen = torch.Generator().manual_seed(args.seed * 100003 + 104729)
    k = args.spread_samples
    total, count = 0.0, 0
    n = min(args.spread_images, len(test_set))
    for s in range(0, n, 16):
        idx = np.arange(s, min(s + 16, n))
        x = tensor(test_set.batch(idx))
        b = x.shape[0]
        xs = x.repeat_interleave(k, dim=0)
        mu_p, _ = model.prior(xs)
        u = project(torch.randn((b * k, mu_p[0].numel()), generator=gen), eps)
        out = member(model, xs, u).reshape(b, k, -1)
        total += out.std(dim=1, unbiased=False).mean(1).sum().item()
        count += b
    return total / count


# ---------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, help="a shipped config name (kernel/configs) or a reference-schema JSON file")
    ap.add_argument("--data", default=os.environ.get("PERTSET_DATA"), help="folder holding mnist/ (or the MNIST files); default $PERTSET_DATA")
    ap.add_argument("--epochs", type=int, help="train N epochs, schedules' knots rescaled (default: the config's)")
    ap.add_argument("--limit", type=int, help="first N training images of the split (default: all 59,000)")
    ap.add_argument("--val-limit", type=int, help="first N validation images for the radius (default: all 1,000)")
    ap.add_argument("--test-limit", type=int, default=1000, help="first N test images for the evaluation (default 1000)")
    ap.add_argument("--passes", type=int, default=5, help="radius passes over the validation images (default 5)")
    ap.add_argument("--samples", type=int, default=5, help="prior samples of the expected AE (default 5)")
    ap.add_argument("--spread-images", type=int, default=100, help="test images for the sample spread (default 100)")
    ap.add_argument("--spread-samples", type=int, default=8, help="members of S(x) per image for the sample spread (default 8)")
    ap.add_argument("--seed", type=int, help="seed of initialisation, shuffling, perturbations and noise (default: the config's)")
    ap.add_argument("--init", help="start from these initial weights (pertset's exchange format, e.g. pertset's own initialisation) instead of PyTorch's")
    ap.add_argument("--orders", help="shuffle orders to use (int32 little-endian, epochs x training images) instead of numpy's")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    ap.add_argument("--out", help="folder for the per-epoch checkpoint (resumable); none: not saved")
    args = ap.parse_args(argv)
    for name in ("epochs", "limit", "val_limit", "test_limit", "passes", "samples", "spread_images", "spread_samples", "threads"):
        v = getattr(args, name)
        if v is not None and v < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be an integer >= 1, got {v}")
    if args.spread_samples < 2:
        raise UsageError("--spread-samples must be >= 2 (a spread needs two samples)")
    if not args.data:
        raise UsageError("no data folder: pass --data DIR (the folder holding mnist/) or set PERTSET_DATA")
    config = load_config(args.config, args.epochs)
    if args.seed is None:
        args.seed = config["seed"]
    torch.set_num_threads(args.threads)
    log = lambda msg: print(f"[twin] {msg}", file=sys.stderr, flush=True)  # noqa: E731
    files = find_mnist(args.data)
    padding = int(config["dataset"].get("padding", 0) or 0)
    train_set, val_set, test_set = load_splits(files, padding, args.limit, args.val_limit, args.test_limit)
    log(f"{config['name']} ({config['arch']}): {len(train_set)} training, {len(val_set)} validation, {len(test_set)} test images "
        f"from {os.path.dirname(files['train-images-idx3-ubyte'])}; {config['epochs']} epochs, batch {config['batch_size']}, seed {args.seed}")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    model = tm.build(config["arch"])
    if args.init:
        load_initial_weights(model, args.init)
    t0 = time.time()
    history, train_seconds = train(model, config, train_set, args, log)
    t1 = time.time()
    radius = calibrate(model, config, val_set, args)
    t2 = time.time()
    report = evaluate(model, config, test_set, radius["radius"], args)
    spread = sample_spread(model, test_set, radius["radius"], args)
    t3 = time.time()
    result = {
        "side": "pytorch",
        "config": config["name"],
        "architecture": config["arch"],
        "budget": {"epochs": config["epochs"], "limit": len(train_set), "valLimit": len(val_set), "testLimit": len(test_set),
                   "passes": args.passes, "samples": args.samples, "spreadImages": min(args.spread_images, len(test_set)),
                   "spreadSamples": args.spread_samples, "batchSize": config["batch_size"], "seed": args.seed},
        "schedules": {"lr": config["lr"], "beta": config["beta"]},
        "radius": radius,
        "eval": report,
        "sampleSpread": spread,
        "history": history,
        "start": {"init": args.init, "orders": args.orders},
        "seconds": {"train": train_seconds, "trainThisCall": t1 - t0, "radius": t2 - t1, "eval": t3 - t2},
        "versions": {"python": platform.python_version(), "torch": torch.__version__, "numpy": np.__version__, "threads": torch.get_num_threads(),
                     "ompWaitPolicy": os.environ.get("OMP_WAIT_POLICY")},
        "data": os.path.dirname(files["train-images-idx3-ubyte"]),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UsageError as e:
        sys.stderr.write(f"twin_train.py: {e}\n")
        sys.exit(2)
