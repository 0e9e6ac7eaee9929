#!/usr/bin/env python3
"""Runs the PyTorch twin for the parity tests (test/parity/*.test.ts).

  torch_twin.py model ARCH WEIGHTS INPUTS OUT RADIUS   forward outputs, losses, train-mode BN, gradients
  torch_twin.py sampler INPUTS OUT                     affine_grid + grid_sample forward and backward
  torch_twin.py classifier SIDE WEIGHTS INPUTS OUT     MNISTConv logits, per-example CE and its gradients
  torch_twin.py save-state-dict ARCH WEIGHTS FILE      a torch.save'd reference-style checkpoint
  torch_twin.py random-twin ARCH SIZE_JSON SEED OUT    a twin with random weights saved as OUT/checkpoint_latest.pth,
                                                       inputs (OUT/inputs) and its eval-mode outputs (OUT/outputs)

Every directory is in pertset's exchange format (scripts/torch/pertset_weights.py).
"""
import copy
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "scripts", "torch"))
import twin_models as tm  # noqa: E402
from pertset_weights import load_tensors, save_tensors  # noqa: E402

torch.set_num_threads(1)


def load_model(arch, weights_dir):
    model = tm.build(arch)
    state = load_tensors(weights_dir)
    result = model.load_state_dict(state, strict=False)
    missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise SystemExit(f"state_dict mismatch: missing {missing[:5]}, unexpected {result.unexpected_keys[:5]}")
    return model


def run_model(arch, weights_dir, inputs_dir, out_dir, radius):
    model = load_model(arch, weights_dir)
    inp = load_tensors(inputs_dir)
    x, xt, z, noise = inp["x"], inp["x_perturbed"], inp["z"], inp["noise"]
    out = {}
    model.eval()
    with torch.no_grad():
        mu_p, lv_p = model.prior(x)
        mu_q, lv_q = model.recognition(x, xt)
        gen = model.generate(x, z)
        out.update(prior_mu=mu_p, prior_logvar=lv_p, recog_mu=mu_q, recog_logvar=lv_q, generated=gen,
                   kl=tm.kl_divergence(mu_q, lv_q, mu_p, lv_p), recon=tm.bce_sum(gen, xt),
                   encoder_ae=tm.encoder_approximation_error(model, x, xt, radius))
    # One training-mode ELBO evaluation (batch statistics, running-stat update) and its gradients.
    trained = copy.deepcopy(model)
    trained.train()
    mu_p, lv_p = trained.prior(x)
    mu_q, lv_q = trained.recognition(x, xt)
    zq = mu_q + noise * torch.exp(0.5 * lv_q)
    recon = tm.bce_sum(trained.generate(x, zq), xt)
    loss = (recon + tm.kl_divergence(mu_q, lv_q, mu_p, lv_p)).sum()
    loss.backward()
    out["train_loss"] = loss.detach().reshape(1)
    out["train_prior_mu"] = mu_p.detach()
    for k, v in trained.state_dict().items():
        if "running" in k:
            out[f"after_train/{k}"] = v
    for k, p in trained.named_parameters():
        out[f"grad/{k}"] = p.grad
    save_tensors(out, out_dir)


def run_sampler(inputs_dir, out_dir):
    inp = load_tensors(inputs_dir)
    out = {}
    for align, suffix in ((False, ""), (True, "_align_corners")):
        image = inp["image"].clone().requires_grad_(True)
        theta = inp["theta"].clone().requires_grad_(True)
        grid = torch.nn.functional.affine_grid(theta, list(image.shape), align_corners=align)
        warped = torch.nn.functional.grid_sample(image, grid, mode="bilinear", padding_mode="border", align_corners=align)
        (warped * inp["weight"]).sum().backward()
        out.update({f"warped{suffix}": warped.detach(), f"grad_image{suffix}": image.grad, f"grad_theta{suffix}": theta.grad})
    # The twin's own helper must be the align_corners=False case the models use.
    assert torch.equal(tm.sample_affine(inp["image"], inp["theta"]), out["warped"])
    save_tensors(out, out_dir)


def run_classifier(side, weights_dir, inputs_dir, out_dir):
    model = tm.mnist_conv_classifier(side)
    model.load_state_dict(load_tensors(weights_dir), strict=True)
    inp = load_tensors(inputs_dir)
    logits = model(inp["x"])
    ce = torch.nn.functional.cross_entropy(logits, inp["y"].long(), reduction="none")
    ce.mean().backward()
    out = {"logits": logits.detach(), "ce": ce.detach()}
    for k, p in model.named_parameters():
        out[f"grad/{k}"] = p.grad
    save_tensors(out, out_dir)


def save_state_dict(arch, weights_dir, file):
    model = load_model(arch, weights_dir)
    # As the reference's train.py saves checkpoints.
    torch.save({"model_state_dict": model.state_dict(), "epoch": 0, "val_loss": 0.0}, file)


def random_twin(arch, size_json, seed, out_dir):
    """The direction a user with the authors' checkpoints goes: PyTorch weights first. Random weights
    (PyTorch's init from ``seed``) and random batch-norm statistics, so no layer is trivially the identity."""
    import json
    torch.manual_seed(seed)
    model = tm.build(arch, **json.loads(size_json))
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_mean"):
                t.uniform_(-0.2, 0.2)
            elif name.endswith("running_var"):
                t.uniform_(0.5, 2.0)
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
    model.eval()
    os.makedirs(out_dir, exist_ok=True)
    torch.save({"model_state_dict": model.state_dict(), "epoch": 0}, os.path.join(out_dir, "checkpoint_latest.pth"))
    c, side = 3, 32
    x = torch.rand(3, c, side, side)
    xt = (x + 0.2 * torch.randn_like(x)).clamp(0, 1)
    with torch.no_grad():
        mu_p, lv_p = model.prior(x)
        z = mu_p + torch.randn_like(mu_p) * torch.exp(0.5 * lv_p)
        mu_q, lv_q = model.recognition(x, xt)
        gen = model.generate(x, z)
    save_tensors({"x": x, "x_perturbed": xt, "z": z}, os.path.join(out_dir, "inputs"))
    save_tensors({"prior_mu": mu_p, "prior_logvar": lv_p, "recog_mu": mu_q, "recog_logvar": lv_q, "generated": gen},
                 os.path.join(out_dir, "outputs"))


if __name__ == "__main__":
    task = sys.argv[1]
    if task == "model":
        run_model(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
    elif task == "sampler":
        run_sampler(sys.argv[2], sys.argv[3])
    elif task == "classifier":
        run_classifier(int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5])
    elif task == "save-state-dict":
        save_state_dict(sys.argv[2], sys.argv[3], sys.argv[4])
    elif task == "random-twin":
        random_twin(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
    else:
        raise SystemExit(f"unknown task {task!r}")
