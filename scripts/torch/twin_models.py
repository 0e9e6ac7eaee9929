"""An independent PyTorch implementation of the paper's CVAEs (the three MNIST ones and the CIFAR-10-C
``cifar10_rectangle``, at any width) and of
the robustness experiments' MNISTConv classifier: the twin that pertset's parity tests check
against, its benchmark runs and its training parity script.

Module attribute names are chosen so that state_dict keys are the reference implementation's
(``prior.fc1.weight``, ``generator.stns.0.localization.1.weight``, ...), which is what lets a
reference checkpoint be imported. Everything is NCHW, as PyTorch.
"""
import math

import torch
import torch.nn.functional as F
from torch import nn


# ---------------------------------------------------------------- mnist_fc

class FcGaussianHead(nn.Module):
    """flatten → Linear(d_in → 784) → ReLU → (μ, log σ²) heads 784 → 784."""

    def __init__(self, d_in):
        super().__init__()
        self.fc1 = nn.Linear(d_in, 784)
        self.fc21 = nn.Linear(784, 784)
        self.fc22 = nn.Linear(784, 784)

    def forward(self, *images):
        h = torch.relu(self.fc1(torch.cat([im.flatten(1) for im in images], dim=1)))
        return self.fc21(h), self.fc22(h)


class FcGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc3 = nn.Linear(2 * 784, 784)
        self.fc4 = nn.Linear(784, 784)

    def logits(self, x, z):
        h = torch.relu(self.fc3(torch.cat([x.flatten(1), z], dim=1)))
        return self.fc4(h).reshape(-1, 1, 28, 28)


# ---------------------------------------------------------------- mnist_conv

class ConvGaussianHead(nn.Module):
    """conv3×3 → ReLU → maxpool → conv3×3 → ReLU → maxpool → two conv3×3 heads (128 ch, 7×7)."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 32, kernel_size=3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, kernel_size=3, padding=1)
        self.conv31 = nn.Conv2d(64, 128, kernel_size=3, padding=1)
        self.conv32 = nn.Conv2d(64, 128, kernel_size=3, padding=1)

    def forward(self, *images):
        h = torch.cat(images, dim=1)
        h = F.max_pool2d(torch.relu(self.conv1(h)), 2)
        h = F.max_pool2d(torch.relu(self.conv2(h)), 2)
        return self.conv31(h), self.conv32(h)


class ConvGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.downsample3 = nn.Conv2d(1, 1, kernel_size=1, stride=4)
        self.downsample4 = nn.Conv2d(1, 1, kernel_size=1, stride=2)
        self.conv3 = nn.Conv2d(129, 64, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(65, 32, kernel_size=3, padding=1)
        self.conv5 = nn.Conv2d(33, 1, kernel_size=3, padding=1)

    def logits(self, x, z):
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")
        h = torch.relu(self.conv3(torch.cat([self.downsample3(x), z], dim=1)))
        h = torch.relu(self.conv4(torch.cat([self.downsample4(x), up(h)], dim=1)))
        return self.conv5(torch.cat([x, up(h)], dim=1))


# ---------------------------------------------------------------- mnist_stn

class PreActBlock(nn.Module):
    """[BN → ReLU → reflect pad 2 → conv5×5] twice, channels unchanged, no residual."""

    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 5)
        self.conv2 = nn.Conv2d(channels, channels, 5)
        self.bn1 = nn.BatchNorm2d(channels)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        pad = lambda t: F.pad(t, (2, 2, 2, 2), mode="reflect")
        h = self.conv1(pad(torch.relu(self.bn1(x))))
        return self.conv2(pad(torch.relu(self.bn2(h))))


class StnGaussianHead(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.block = PreActBlock(channels)
        self.fc31 = nn.Linear(42 * 42 * channels, 128)
        self.fc32 = nn.Linear(42 * 42 * channels, 128)

    def forward(self, *images):
        h = self.block(torch.cat(images, dim=1)).flatten(1)
        return self.fc31(h), self.fc32(h)


class AffineWarp(nn.Module):
    """MLP on the localisation map → 2×3 affine (starts at identity) → bilinear border sample."""

    def __init__(self):
        super().__init__()
        self.localization = nn.Sequential(nn.Flatten(), nn.Linear(42 * 42, 512), nn.ReLU(),
                                          nn.Linear(512, 128), nn.ReLU())
        self.fc = nn.Linear(128, 6)
        with torch.no_grad():
            self.fc.weight.zero_()
            self.fc.bias.copy_(torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]))

    def forward(self, image, localisation_map):
        theta = self.fc(self.localization(localisation_map)).view(-1, 2, 3)
        return sample_affine(image, theta)


def sample_affine(image, theta):
    """F.affine_grid + F.grid_sample as the reference calls them (align_corners left at the default, False)."""
    grid = F.affine_grid(theta, list(image.shape), align_corners=False)
    return F.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=False)


class StnGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(128, 42 * 42)
        self.stns = nn.ModuleList([AffineWarp() for _ in range(5)])
        self.block = PreActBlock(5)
        self.conv = nn.Conv2d(5, 1, 5)

    def logits(self, x, z):
        loc = self.fc(z).view(-1, 1, 42, 42)
        warped = torch.cat([stn(x, loc) for stn in self.stns], dim=1)
        return self.conv(F.pad(self.block(warped), (2, 2, 2, 2), mode="reflect"))


# ---------------------------------------------------------------- cifar10_rectangle

LOGVAR_LOWER, LOGVAR_UPPER = math.log(1e-3), math.log(10)

# The reference config's sizes (latent_dim, nblocks, big_ch, small_ch, kernel_size, padding).
CIFAR10_RECTANGLE_SIZE = dict(latent_dim=512, nblocks=4, big_ch=64, small_ch=16, kernel_size=3, padding=1)


def scaled_tanh(a):
    """log σ² = shift + scale·tanh(a), onto (ln 1e-3, ln 10); scale is negative as the reference's."""
    return (LOGVAR_LOWER + LOGVAR_UPPER) / 2 + (LOGVAR_LOWER - LOGVAR_UPPER) / 2 * torch.tanh(a)


class ResidualBlock(nn.Module):
    """bn1 → ReLU → conv1 (wide→narrow) → bn2 → ReLU → conv2 (narrow→wide), plus the identity."""

    def __init__(self, wide, narrow, k, p):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(wide)
        self.conv1 = nn.Conv2d(wide, narrow, k, padding=p, bias=False)
        self.bn2 = nn.BatchNorm2d(narrow)
        self.conv2 = nn.Conv2d(narrow, wide, k, padding=p, bias=False)

    def forward(self, x):
        h = self.conv1(torch.relu(self.bn1(x)))
        return x + self.conv2(torch.relu(self.bn2(h)))


def rectangle_trunk(in_ch, out_ch, s, final_bn):
    """conv (in→wide) → blocks → BN → ReLU → conv (wide→out) [→ BN → ReLU], as one Sequential."""
    k, p, wide = s["kernel_size"], s["padding"], s["big_ch"]
    layers = [nn.Conv2d(in_ch, wide, k, padding=p, bias=False)]
    layers += [ResidualBlock(wide, s["small_ch"], k, p) for _ in range(s["nblocks"])]
    layers += [nn.BatchNorm2d(wide), nn.ReLU(), nn.Conv2d(wide, out_ch, k, padding=p, bias=False)]
    if final_bn:
        layers += [nn.BatchNorm2d(out_ch), nn.ReLU()]
    return nn.Sequential(*layers)


class RectangleGaussianHead(nn.Module):
    def __init__(self, channels, s):
        super().__init__()
        self.encoder = rectangle_trunk(channels, s["small_ch"], s, final_bn=True)
        self.fc1 = nn.Linear(s["small_ch"] * 32 * 32, s["latent_dim"])
        self.fc2 = nn.Linear(s["small_ch"] * 32 * 32, s["latent_dim"])

    def forward(self, *images):
        h = self.encoder(torch.cat(images, dim=1)).flatten(1)
        return self.fc1(h), scaled_tanh(self.fc2(h))


class RectangleGenerator(nn.Module):
    def __init__(self, s):
        super().__init__()
        self.fc = nn.Linear(s["latent_dim"], 32 * 32)
        self.decoder = rectangle_trunk(4, 3, s, final_bn=False)

    def logits(self, x, z):
        return self.decoder(torch.cat([x, self.fc(z).view(-1, 1, 32, 32)], dim=1))


# ---------------------------------------------------------------- the CVAE

class TwinCVAE(nn.Module):
    def __init__(self, prior, recognition, generator):
        super().__init__()
        self.prior = prior
        self.recognition = recognition
        self.generator = generator

    def generate(self, x, z):
        return torch.sigmoid(self.generator.logits(x, z))


def build(arch, **size):
    """The twin of ``arch``; ``cifar10_rectangle`` takes the reference's size keys (``big_ch=16`` ...)."""
    if size and arch != "cifar10_rectangle":
        raise ValueError(f"{arch} has fixed sizes")
    if arch == "cifar10_rectangle":
        unknown = set(size) - set(CIFAR10_RECTANGLE_SIZE)
        if unknown:
            raise ValueError(f"unknown size keys {sorted(unknown)}")
        s = {**CIFAR10_RECTANGLE_SIZE, **size}
        return TwinCVAE(RectangleGaussianHead(3, s), RectangleGaussianHead(6, s), RectangleGenerator(s))
    if arch == "mnist_fc":
        return TwinCVAE(FcGaussianHead(784), FcGaussianHead(2 * 784), FcGenerator())
    if arch == "mnist_conv":
        return TwinCVAE(ConvGaussianHead(1), ConvGaussianHead(2), ConvGenerator())
    if arch == "mnist_stn":
        return TwinCVAE(StnGaussianHead(1), StnGaussianHead(2), StnGenerator())
    raise ValueError(f"unknown architecture {arch!r}")


# ---------------------------------------------------------------- the classifier

def mnist_conv_classifier(side=28, num_classes=10):
    """The reference's MNISTConv (robustness/classifiers.py) as its nn.Sequential, so state_dict keys
    are ``0.weight`` … ``7.bias``: conv4×4 s2 p1 1→32, ReLU, conv4×4 s2 p1 32→64, ReLU, flatten,
    Linear(64·s·s → 1024), ReLU, Linear(1024 → classes); s = 7 on 28×28, 10 on the 42×42 RTS canvas."""
    s = side
    for _ in range(2):
        s = (s + 2 - 4) // 2 + 1
    return nn.Sequential(nn.Conv2d(1, 32, 4, 2, 1), nn.ReLU(), nn.Conv2d(32, 64, 4, 2, 1), nn.ReLU(), nn.Flatten(),
                         nn.Linear(64 * s * s, 1024), nn.ReLU(), nn.Linear(1024, num_classes))


# ---------------------------------------------------------------- losses (as the reference's cvae.py)

def kl_divergence(mu_q, logvar_q, mu_p, logvar_p):
    """KL(q ‖ p) per example, summed over latent dimensions."""
    b = mu_q.shape[0]
    terms = (logvar_q.exp() + (mu_p - mu_q) ** 2) / logvar_p.exp() - 1 + logvar_p - logvar_q
    return 0.5 * terms.reshape(b, -1).sum(1)


def bce_sum(probs, target):
    """Binary cross-entropy summed over pixels, per example (PyTorch clamps the logs at −100)."""
    b = probs.shape[0]
    return F.binary_cross_entropy(probs.reshape(b, -1), target.reshape(b, -1), reduction="none").sum(1)


def encoder_approximation_error(model, x, x_perturbed, radius):
    """Per-example per-pixel mean BCE of g(x, μ_p + σ_p·u) against x̃, u = (μ_q − μ_p)/σ_p renormed to ‖u‖ ≤ radius."""
    mu_p, logvar_p = model.prior(x)
    mu_q, _ = model.recognition(x, x_perturbed)
    std_p = torch.exp(0.5 * logvar_p)
    b = x.shape[0]
    u = ((mu_q - mu_p) / std_p).reshape(b, -1)
    u = u.renorm(p=2, dim=0, maxnorm=radius).reshape(mu_p.shape)
    out = model.generate(x, mu_p + std_p * u)
    return bce_sum(out, x_perturbed) / x[0].numel()
