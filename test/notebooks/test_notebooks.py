"""
The shipped notebooks (notebooks/01-*.ipynb, 02-*.ipynb) executed by Debian's nbclient on the
`pertset` kernel in smoke mode (PERTSET_NOTEBOOK_MODE=smoke: tiny subset, one short epoch, few
PGD steps) against the shared MNIST (PERTSET_DATA=../shared/data), with assertions on the
executed notebook: every cell ran, no errors, our MIME bundles with fallbacks, real MNIST was
used, and the sanity checks that hold by construction (PGD AE <= encoder AE) passed.

Needs a build (`npx tsc -p tsconfig.json`). Under CI=true a missing nbclient, launcher or data
folder is a failure; elsewhere the tests are skipped with the reason.
The executed notebooks are kept in test-artifacts/notebooks/ for inspection.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test" / "helpers"))
from needs import need_module, need_path  # noqa: E402
NOTEBOOKS = REPO / "notebooks"
LAUNCHER = REPO / "dist" / "kernel" / "jupyter" / "launcher.js"
SHARED_DATA = Path(os.environ.get("PERTSET_SHARED_DATA", REPO.parent / "shared" / "data")).resolve()
ARTIFACTS = REPO / "test-artifacts" / "notebooks"
CELL_TIMEOUT_S = 300

LINF = "01-mnist-linf-perturbation-set.ipynb"
RTS = "02-mnist-rts-stn.ipynb"
SHIPPED = [LINF, RTS]

MIME_IMAGE_GRID = "application/vnd.pertset.image-grid+json"
MIME_TRAVERSAL = "application/vnd.pertset.latent-traversal+json"
MIME_PLOTLY = "application/vnd.plotly.v1+json"
CHECK_LINE = re.compile(r"^check (PASS|FAIL) \| (.+?) \| (.*)$", re.M)




def stdout_of(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream" and o.get("name") == "stdout")


def outputs_of(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def checks_of(nb):
    """{id: (passed, detail)} from the notebook's `check PASS | id | detail` lines."""
    return {m.group(2): (m.group(1) == "PASS", m.group(3)) for m in CHECK_LINE.finditer(stdout_of(nb))}


class ShippedNotebooksAreClean(unittest.TestCase):
    """The notebooks are saved without outputs, for our kernel, and small."""

    def test_clean_small_and_for_the_pertset_kernel(self):
        for name in SHIPPED:
            path = NOTEBOOKS / name
            with self.subTest(notebook=name):
                self.assertTrue(path.exists(), f"{path} is missing")
                self.assertLess(path.stat().st_size, 1_000_000)
                nb = json.loads(path.read_text(encoding="utf-8"))
                self.assertEqual(nb["metadata"]["kernelspec"]["name"], "pertset")
                code = [c for c in nb["cells"] if c["cell_type"] == "code"]
                self.assertGreater(len(code), 5)
                for c in code:
                    self.assertEqual(c["outputs"], [], f"{name}: a code cell was saved with outputs")
                    self.assertIsNone(c["execution_count"], f"{name}: a code cell was saved with an execution count")
                first = "".join(code[0]["source"])
                self.assertIn("PERTSET_NOTEBOOK_MODE", first, f"{name}: the first code cell must be the settings cell")


class _ExecutedNotebook(unittest.TestCase):
    """Executes one notebook in smoke mode once for the class; subclasses assert on the result."""

    notebook = ""
    nb = None
    _env_backup = None
    _tmp = None

    @classmethod
    def setUpClass(cls):
        for module in ("nbclient", "nbformat"):
            need_module(module, "Jupyter's nbclient", "apt-get install python3-nbclient jupyter-client python3-ipykernel")
        if not LAUNCHER.exists():
            raise AssertionError(f"kernel launcher {LAUNCHER} not built: run `npm run build:ts`")
        need_path(SHARED_DATA / "mnist", "the shared MNIST files", "put the data in ../shared/data or set PERTSET_SHARED_DATA")
        node = os.environ.get("PERTSET_NODE") or shutil.which("node")
        if node is None:
            raise AssertionError("node not found on PATH (set PERTSET_NODE)")

        cls._tmp = tempfile.mkdtemp(prefix="pertset-notebooks-")
        subprocess.run([node, str(REPO / "bin" / "pertset.js"), "kernel", "install", "--jupyter-path", cls._tmp],
                       check=True, capture_output=True, text=True)
        # The kernel inherits this environment: the spec dir, smoke mode and the shared MNIST.
        overrides = {"JUPYTER_PATH": cls._tmp, "PERTSET_NOTEBOOK_MODE": "smoke", "PERTSET_DATA": str(SHARED_DATA)}
        cls._env_backup = {k: os.environ.get(k) for k in overrides}
        os.environ.update(overrides)
        try:
            cls.nb = cls.execute(NOTEBOOKS / cls.notebook)
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def execute(cls, path):
        import nbclient
        import nbformat
        nb = nbformat.read(str(path), as_version=4)
        client = nbclient.NotebookClient(
            nb, kernel_name="pertset", timeout=CELL_TIMEOUT_S, allow_errors=True,
            resources={"metadata": {"path": str(NOTEBOOKS)}},
        )
        client.execute()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, str(ARTIFACTS / path.name.replace(".ipynb", ".smoke.ipynb")))
        return nb

    @classmethod
    def tearDownClass(cls):
        for k, v in (cls._env_backup or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if cls._tmp:
            shutil.rmtree(cls._tmp, ignore_errors=True)

    # --- shared assertions ---

    def test_every_code_cell_ran_in_order(self):
        counts = [c.execution_count for c in self.nb.cells if c.cell_type == "code"]
        self.assertEqual(counts, list(range(1, len(counts) + 1)))

    def test_no_error_outputs(self):
        errors = [f"{o.ename}: {o.evalue}" for o in outputs_of(self.nb) if o.output_type == "error"]
        self.assertEqual(errors, [])

    def test_smoke_mode_on_the_shared_mnist(self):
        out = stdout_of(self.nb)
        self.assertIn("mode smoke:", out)
        self.assertIn(f"dataset: MNIST from {SHARED_DATA / 'mnist'} (env)", out)

    def test_rich_outputs_carry_fallbacks(self):
        rich = [o for o in outputs_of(self.nb) if o.output_type in ("display_data", "execute_result")]
        mimes = {m for o in rich for m in o.data}
        for mime in self.expected_mimes:
            self.assertIn(mime, mimes)
        for o in rich:
            if MIME_IMAGE_GRID in o.data or MIME_TRAVERSAL in o.data or MIME_PLOTLY in o.data:
                self.assertIn("text/html", o.data)
                self.assertIn("text/plain", o.data)
        grid = next(o.data[MIME_IMAGE_GRID] for o in rich if MIME_IMAGE_GRID in o.data)
        self.assertEqual(grid["version"], 1)
        self.assertGreater(grid["count"], 0)

    def test_every_check_printed_and_must_checks_pass(self):
        checks = checks_of(self.nb)
        self.assertEqual(sorted(checks), sorted(self.expected_checks))
        for cid in self.must_checks:
            passed, detail = checks[cid]
            self.assertTrue(passed, f"{cid}: {detail}")

    def test_pgd_ae_not_above_encoder_ae(self):
        # Independent of the notebook's own verdict: read both figures from each must-check line.
        checks = checks_of(self.nb)
        for cid in self.must_checks:
            m = re.search(r"PGD AE ([0-9.]+) ≤ encoder AE ([0-9.]+)", checks[cid][1])
            self.assertIsNotNone(m, checks[cid][1])
            self.assertLessEqual(float(m.group(1)), float(m.group(2)))


class LinfNotebook(_ExecutedNotebook):
    notebook = LINF
    expected_mimes = [MIME_IMAGE_GRID, MIME_PLOTLY, MIME_TRAVERSAL, "text/html"]
    expected_checks = ["pgd-le-encoder", "encoder-lt-identity", "pgd-near-floor", "eae-gt-pgd", "oae-ge-pgd", "mean-norm-le-sqrt-2kl"]
    must_checks = ["pgd-le-encoder"]

    def test_sample_grids_have_the_papers_layout(self):
        grids = [o.data[MIME_IMAGE_GRID] for o in outputs_of(self.nb) if "data" in o and MIME_IMAGE_GRID in o.data]
        titles = {g.get("title", ""): g for g in grids}
        repeat = next(g for t, g in titles.items() if "repeat" in t)
        self.assertEqual((repeat["count"], repeat["columns"]), (72, 9))  # 8 inputs: x + 8 samples each
        strips = next(g for t, g in titles.items() if "reconstruction" in t)
        self.assertEqual(strips["rowLabels"], ["x", "x̃", "reconstruction"])
        self.assertEqual((strips["height"], strips["width"]), (28, 28))


class RtsNotebook(_ExecutedNotebook):
    notebook = RTS
    expected_mimes = [MIME_IMAGE_GRID, MIME_PLOTLY, "text/html"]
    models = ["fresh RTS", "k = 5", "k = 1"]
    expected_checks = [f"pgd-le-encoder/{m}" for m in models] + [f"eae-gt-pgd/{m}" for m in models] + \
        ["k1-gt-k5", "k5-gtrsim-fresh", "k1-lt-identity"]
    must_checks = [f"pgd-le-encoder/{m}" for m in models]

    def test_ablation_table_has_the_three_models(self):
        tables = [o.data["text/plain"] for o in outputs_of(self.nb)
                  if o.output_type == "execute_result" and "identity d(x, x̃)" in o.data.get("text/plain", "")]
        self.assertEqual(len(tables), 1)
        for m in self.models:
            self.assertIn(m, tables[0])


del _ExecutedNotebook  # only the subclasses are test cases

if __name__ == "__main__":
    unittest.main()
