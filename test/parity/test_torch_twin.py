"""The PyTorch twin and the export script on their own: parameter counts from paper.md §2,
reference state_dict keys, and the exchange format round trip (DataParallel prefixes, integer
buffers, reference-style checkpoint dicts)."""
import os
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPTS = os.path.join(HERE, "..", "..", "scripts", "torch")
sys.path.insert(0, HERE)
sys.path.insert(0, SCRIPTS)
sys.path.insert(0, os.path.join(HERE, "..", "helpers"))
from needs import need_module  # noqa: E402

torch = tm = load_tensors = None


def setUpModule():
    """Every test here needs PyTorch: a skip without it (a failure under CI=true)."""
    global torch, tm, load_tensors
    torch = need_module("torch", "PyTorch", "apt-get install python3-torch")
    import twin_models
    from pertset_weights import load_tensors as load
    tm, load_tensors = twin_models, load


def count(module):
    return sum(p.numel() for p in module.parameters())


class TwinArchitectures(unittest.TestCase):
    def test_parameter_counts_match_the_paper_notes(self):
        # paper.md §2: mnist_fc 6.15 M (prior 1.85, recognition 2.46, generator 1.85), mnist_conv 0.43 M,
        # mnist_stn 6.44 M (generator 5.08 M).
        fc, conv, stn = tm.build("mnist_fc"), tm.build("mnist_conv"), tm.build("mnist_stn")
        self.assertAlmostEqual(count(fc) / 1e6, 6.15, delta=0.005)
        self.assertAlmostEqual(count(fc.recognition) / 1e6, 2.46, delta=0.005)
        self.assertAlmostEqual(count(conv) / 1e6, 0.43, delta=0.005)
        self.assertAlmostEqual(count(stn) / 1e6, 6.44, delta=0.005)
        self.assertAlmostEqual(count(stn.generator) / 1e6, 5.08, delta=0.005)

    def test_cifar10_rectangle_count_keys_and_logvar_range(self):
        # paper.md §2: 34.3 M, each encoder 16.9 M, generator 0.60 M; no conv biases, no shortcut convs.
        model = tm.build("cifar10_rectangle")
        self.assertAlmostEqual(count(model) / 1e6, 34.33, delta=0.005)
        self.assertAlmostEqual(count(model.prior) / 1e6, 16.86, delta=0.005)
        self.assertAlmostEqual(count(model.generator) / 1e6, 0.60, delta=0.005)
        keys = set(model.state_dict())
        for k in ["prior.encoder.0.weight", "prior.encoder.4.conv2.weight", "prior.encoder.5.running_var",
                  "prior.encoder.7.weight", "prior.encoder.8.bias", "recognition.fc2.bias", "generator.fc.weight",
                  "generator.decoder.1.bn1.weight", "generator.decoder.7.weight"]:
            self.assertIn(k, keys)
        self.assertNotIn("prior.encoder.0.bias", keys)
        small = tm.build("cifar10_rectangle", big_ch=8, small_ch=4, latent_dim=16, nblocks=1).eval()
        x = torch.rand(2, 3, 32, 32)
        with torch.no_grad():
            small.prior.fc2.bias.fill_(-100.0)
            _, logvar = small.prior(x)
        self.assertTrue(torch.allclose(logvar, torch.full_like(logvar, tm.LOGVAR_UPPER)))  # mirrored: a → −∞ gives ln 10
        self.assertEqual(tuple(small.generate(x, torch.randn(2, 16)).shape), (2, 3, 32, 32))
        with self.assertRaises(ValueError):
            tm.build("mnist_fc", big_ch=8)

    def test_reference_keys_and_identity_transformers(self):
        keys = set(tm.build("mnist_stn").state_dict())
        for k in ["prior.block.bn1.running_var", "recognition.fc31.weight", "generator.stns.4.localization.3.bias",
                  "generator.stns.0.fc.weight", "generator.block.conv2.weight", "generator.conv.bias"]:
            self.assertIn(k, keys)
        stn = tm.build("mnist_stn").generator.stns[0]
        x = torch.rand(2, 1, 42, 42)
        # Identity up to float32 rounding of the grid coordinates.
        self.assertLess((stn(x, torch.rand(2, 1, 42, 42)) - x).abs().max().item(), 1e-5)

    def test_shapes(self):
        x = torch.rand(3, 1, 28, 28)
        model = tm.build("mnist_conv").eval()
        mu, logvar = model.prior(x)
        self.assertEqual(tuple(mu.shape), (3, 128, 7, 7))
        self.assertEqual(tuple(model.generate(x, mu).shape), (3, 1, 28, 28))


class ExportScript(unittest.TestCase):
    def test_reference_checkpoint_with_dataparallel_keys(self):
        model = tm.build("mnist_stn")
        state = {k.replace("prior.", "prior.module.", 1): v for k, v in model.state_dict().items()}
        with tempfile.TemporaryDirectory() as d:
            ckpt = os.path.join(d, "checkpoint_latest.pth")
            torch.save({"model_state_dict": state, "optimizer_state_dict": {}, "epoch": 3}, ckpt)
            r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "export_state_dict.py"), ckpt, os.path.join(d, "out")],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            tensors = load_tensors(os.path.join(d, "out"))
        float_keys = [k for k, v in model.state_dict().items() if v.is_floating_point()]
        self.assertEqual(list(tensors), float_keys)  # module. removed, num_batches_tracked skipped, order kept
        for k in float_keys:
            self.assertTrue(torch.equal(tensors[k], model.state_dict()[k]), k)

    def test_not_a_checkpoint(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.pth")
            torch.save({"epoch": 1}, bad)
            r = subprocess.run([sys.executable, os.path.join(SCRIPTS, "export_state_dict.py"), bad, os.path.join(d, "o")],
                               capture_output=True, text=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no state_dict found", r.stderr)


if __name__ == "__main__":
    unittest.main()
