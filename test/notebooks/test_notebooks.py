"""
Every shipped notebook (notebooks/NN-*.ipynb, found by glob so a new one is picked up) executed by
Debian's nbclient on the installed `pertset` kernelspec in smoke mode (PERTSET_NOTEBOOK_MODE=smoke:
tiny subset, one short epoch, few PGD steps) against the shared MNIST (PERTSET_DATA=../shared/data),
in order and in ONE working directory, as `pertset reproduce` runs them: the run folders 01 and 02
write (experiments/<config>) are the ones the later notebooks open. Assertions on the executed
notebooks: every cell ran, no errors, our MIME bundles with their text/plain and text/html fallbacks,
real MNIST was used, and the sanity checks that hold by construction (PGD AE <= encoder AE).

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
SHIPPED = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))

MIME_IMAGE_GRID = "application/vnd.pertset.image-grid+json"
MIME_TRAVERSAL = "application/vnd.pertset.latent-traversal+json"
MIME_PLOTLY = "application/vnd.plotly.v1+json"
OURS = (MIME_IMAGE_GRID, MIME_TRAVERSAL, MIME_PLOTLY)




def stdout_of(nb):
    return "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                   if o.output_type == "stream" and o.get("name") == "stdout")


def outputs_of(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def rich_of(nb):
    return [o for o in outputs_of(nb) if o.output_type in ("display_data", "execute_result")]


def grids_of(nb):
    return [o.data[MIME_IMAGE_GRID] for o in rich_of(nb) if MIME_IMAGE_GRID in o.data]


def table_of(nb, title_start):
    """The one metrics table whose title starts with `title_start`, as a list of {column: text} rows
    read from its text/plain form (columns are separated by two or more spaces)."""
    found = [o.data["text/plain"] for o in rich_of(nb) if o.data.get("text/plain", "").startswith(title_start)]
    if len(found) != 1:
        raise AssertionError(f"expected one table titled {title_start!r}, found {len(found)}")
    lines = found[0].split("\n")
    header = re.split(r"\s{2,}", lines[1].strip())
    rows = [re.split(r"\s{2,}", line.strip()) for line in lines[3:] if line.strip()]
    for r in rows:
        if len(r) != len(header):
            raise AssertionError(f"cannot split the row {r} into the columns {header}")
    return [dict(zip(header, r)) for r in rows]


class _Executed:
    """Every shipped notebook, executed once per test run in order in one shared working directory."""
    notebooks = None
    tmp = None
    env_backup = None

    failure = None

    @classmethod
    def all(cls):
        if cls.notebooks is not None:
            return cls.notebooks
        if cls.failure is not None:  # one failed run fails every class, without running again
            raise cls.failure
        try:
            cls.notebooks = cls.execute()
        except BaseException as e:
            cls.failure = e
            raise
        return cls.notebooks

    @classmethod
    def execute(cls):
        for module in ("nbclient", "nbformat"):
            need_module(module, "Jupyter's nbclient", "apt-get install python3-nbclient jupyter-client python3-ipykernel")
        if not LAUNCHER.exists():
            raise AssertionError(f"kernel launcher {LAUNCHER} not built: run `npm run build:ts`")
        need_path(SHARED_DATA / "mnist", "the shared MNIST files", "put the data in ../shared/data or set PERTSET_SHARED_DATA")
        node = os.environ.get("PERTSET_NODE") or shutil.which("node")
        if node is None:
            raise AssertionError("node not found on PATH (set PERTSET_NODE)")
        cls.tmp = Path(tempfile.mkdtemp(prefix="pertset-notebooks-"))
        spec_dir, work = cls.tmp / "jupyter", cls.tmp / "work"
        work.mkdir()
        subprocess.run([node, str(REPO / "bin" / "pertset.js"), "kernel", "install", "--jupyter-path", str(spec_dir)],
                       check=True, capture_output=True, text=True)
        # The kernel inherits this environment: the spec dir, smoke mode and the shared MNIST.
        overrides = {"JUPYTER_PATH": str(spec_dir), "PERTSET_NOTEBOOK_MODE": "smoke", "PERTSET_DATA": str(SHARED_DATA)}
        cls.env_backup = {k: os.environ.get(k) for k in overrides}
        os.environ.update(overrides)
        import nbclient
        import nbformat
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        done = {}
        for name in SHIPPED:
            nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
            client = nbclient.NotebookClient(
                nb, kernel_name="pertset", timeout=CELL_TIMEOUT_S, allow_errors=True,
                resources={"metadata": {"path": str(work)}},
            )
            client.execute()
            nbformat.write(nb, str(ARTIFACTS / name.replace(".ipynb", ".smoke.ipynb")))
            done[name] = nb
        return done

    @classmethod
    def cleanup(cls):
        for k, v in (cls.env_backup or {}).items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if cls.tmp:
            shutil.rmtree(cls.tmp, ignore_errors=True)


def tearDownModule():
    _Executed.cleanup()


class ShippedNotebooksAreClean(unittest.TestCase):
    """The notebooks are for our kernel and of a reasonable size; saved outputs, if any, hold no errors."""

    def test_clean_small_and_for_the_pertset_kernel(self):
        self.assertIn(LINF, SHIPPED)
        self.assertIn(RTS, SHIPPED)
        for name in SHIPPED:
            path = NOTEBOOKS / name
            with self.subTest(notebook=name):
                self.assertLess(path.stat().st_size, 10_000_000)
                nb = json.loads(path.read_text(encoding="utf-8"))
                self.assertEqual(nb["metadata"]["kernelspec"]["name"], "pertset")
                code = [c for c in nb["cells"] if c["cell_type"] == "code"]
                self.assertGreater(len(code), 4)
                for c in code:
                    errors = [o for o in c["outputs"] if o["output_type"] == "error"]
                    self.assertEqual(errors, [], f"{name}: a code cell was saved with an error output")
                first = "".join(code[0]["source"])
                self.assertIn("pertset.runMode(", first, f"{name}: the first code cell must be the settings cell")
                # The text speaks of the paper and of this repository only.
                text = "".join("".join(c["source"]) for c in nb["cells"])
                for outside in ("../shared", "research note", "§", "paper.md"):
                    self.assertNotIn(outside, text, f"{name} refers to material outside the repository")


class EveryNotebookInSmokeMode(unittest.TestCase):
    """Every notebooks/NN-*.ipynb, run in order in one working directory: no errors, our MIME types with fallbacks."""

    @classmethod
    def setUpClass(cls):
        cls.nbs = _Executed.all()

    def test_every_notebook_ran_every_cell_without_an_error(self):
        self.assertEqual(list(self.nbs), SHIPPED)
        for name, nb in self.nbs.items():
            with self.subTest(notebook=name):
                counts = [c.execution_count for c in nb.cells if c.cell_type == "code"]
                self.assertEqual(counts, list(range(1, len(counts) + 1)))
                errors = [f"{o.ename}: {o.evalue}" for o in outputs_of(nb) if o.output_type == "error"]
                self.assertEqual(errors, [])

    def test_every_notebook_shows_our_mime_types_with_their_fallbacks(self):
        for name, nb in self.nbs.items():
            with self.subTest(notebook=name):
                ours = [o for o in rich_of(nb) if any(m.startswith("application/vnd.") for m in o.data)]
                self.assertTrue(any(m in o.data for o in ours for m in OURS), f"{name} shows none of {OURS}")
                for o in ours:
                    self.assertIn("text/plain", o.data, sorted(o.data))
                    self.assertIn("text/html", o.data, sorted(o.data))
                    self.assertTrue(o.data["text/plain"].strip(), "an empty text/plain fallback")

    def test_the_sets_of_01_and_02_are_in_the_shared_run_folders(self):
        # What the later notebooks open: experiments/<config> in the working directory, with ε in radius.json.
        for config in ("mnist_fc_linf", "mnist_stn_rts", "mnist_stn_rts_limited_5", "mnist_stn_rts_limited_1"):
            radius = _Executed.tmp / "work" / "experiments" / config / "radius.json"
            self.assertTrue(radius.exists(), f"{radius} missing")
            self.assertGreater(json.loads(radius.read_text())["radius"], 0)


class _ExecutedNotebook(unittest.TestCase):
    """One notebook of the shared smoke run; subclasses assert on its outputs."""

    notebook = ""
    nb = None

    @classmethod
    def setUpClass(cls):
        cls.nb = _Executed.all()[cls.notebook]

    # --- shared assertions ---

    def test_smoke_mode_on_the_shared_mnist(self):
        self.assertIn("mode smoke:", stdout_of(self.nb))
        titles = [g.get("title", "") for g in grids_of(self.nb)]
        self.assertTrue(any(f"mnist from {SHARED_DATA / 'mnist'}" in t for t in titles), titles)

    def test_rich_outputs_carry_fallbacks(self):
        rich = rich_of(self.nb)
        mimes = {m for o in rich for m in o.data}
        for mime in self.expected_mimes:
            self.assertIn(mime, mimes)
        for o in rich:
            if MIME_IMAGE_GRID in o.data or MIME_TRAVERSAL in o.data or MIME_PLOTLY in o.data:
                self.assertIn("text/html", o.data)
                self.assertIn("text/plain", o.data)
        for grid in grids_of(self.nb):
            self.assertEqual(grid["version"], 1)
            self.assertGreater(grid["count"], 0)

    def test_no_cell_reaches_outside_the_library(self):
        # Notebooks call the library: no imports, no hand-written helpers or checks.
        for c in self.nb.cells:
            if c.cell_type != "code":
                continue
            self.assertNotRegex(c.source, r"(?m)^\s*import\s", "a cell imports a module (tf and pertset are preloaded)")
            self.assertNotRegex(c.source, r"(?m)^\s*(function|interface|class)\s", "a cell defines a helper")
            self.assertNotIn("console.log(`check", c.source)

    def test_evaluation_table_pgd_not_above_encoder(self):
        # Best-iterate PGD starts at the encoder's point: PGD AE <= encoder AE must hold, per model.
        rows = table_of(self.nb, self.evaluation_title)
        self.assertEqual([r["model"] for r in rows], self.models)
        for r in rows:
            self.assertLessEqual(float(r["PGD AE"]), float(r["encoder AE"]), r)
            self.assertGreater(float(r["MSE identity"]), 0, r)  # the MSE baseline is reported beside BCE

    def test_collapse_flag_is_shown_for_every_model(self):
        rows = table_of(self.nb, "posterior collapse:")
        self.assertEqual([r["model"] for r in rows], self.models)
        for r in rows:
            self.assertIn(r["collapsed"], ("COLLAPSED", "no"), r)
            self.assertRegex(r["reason"], r"^(posterior collapse|no collapse)", r)
            self.assertGreaterEqual(float(r["sample spread (fires < 0.01)"]), 0, r)
        for r in table_of(self.nb, self.evaluation_title):
            self.assertEqual(r["collapse"], next(c["collapsed"] for c in rows if c["model"] == r["model"]), r)

    def test_claims_table_gives_a_verdict_for_each_claim(self):
        rows = table_of(self.nb, "the paper’s claims and our figures")
        self.assertEqual(len(rows), self.claims)
        for r in rows:
            self.assertIn(r["verdict"], ("holds", "not at this budget"), r)
            self.assertRegex(r["ours"], r"[0-9]")


class LinfNotebook(_ExecutedNotebook):
    notebook = LINF
    expected_mimes = [MIME_IMAGE_GRID, MIME_PLOTLY, MIME_TRAVERSAL, "text/html"]
    evaluation_title = "64 test pairs at ε"
    models = ["mnist_fc ℓ∞"]
    claims = 3

    def test_sample_grids_have_the_papers_layout(self):
        grids = {g.get("title", ""): g for g in grids_of(self.nb)}
        samples = next(g for t, g in grids.items() if "members of S(x) per input" in t)
        self.assertEqual((samples["count"], samples["columns"]), (72, 9))  # 8 inputs: x + 8 samples each
        strips = next(g for t, g in grids.items() if t.startswith("reconstructions"))
        self.assertEqual(strips["rowLabels"], ["x", "x̃", "reconstruction"])
        self.assertEqual((strips["height"], strips["width"], strips["count"]), (28, 28, 24))

    def test_latent_interpolation_grid(self):
        grid = next(g for g in grids_of(self.nb) if g.get("title", "").startswith("g(x, z) between the encodings"))
        self.assertEqual((grid["count"], grid["columns"], grid["height"]), (105, 10, 28))  # 10 × 10, then x and x̃₁..x̃₄
        caps = grid["captions"]
        self.assertEqual([caps[0], caps[9], caps[90], caps[99]], ["z₁", "z₂", "z₃", "z₄"])

    def test_latent_norm_histogram_marks_epsilon(self):
        charts = [o.data[MIME_PLOTLY] for o in rich_of(self.nb) if MIME_PLOTLY in o.data]
        hist = [c for c in charts if any(t.get("type") == "histogram" for t in c["data"])]
        self.assertEqual(len(hist), 1)
        self.assertEqual(hist[0]["data"][0].get("histnorm"), "probability density")
        labels = [a.get("text", "") for a in hist[0]["layout"].get("annotations", [])]
        self.assertTrue(any(label.startswith("ε") for label in labels), labels)


class RtsNotebook(_ExecutedNotebook):
    notebook = RTS
    expected_mimes = [MIME_IMAGE_GRID, MIME_PLOTLY, "text/html"]
    evaluation_title = "mnist_stn on 16 fresh-RTS test pairs"
    models = ["fresh RTS", "bank k = 5", "bank k = 1"]
    claims = 3 + 3 * 3

    def test_training_draws_show_each_models_perturbations(self):
        draws = next(g for g in grids_of(self.nb) if g.get("title", "").startswith("eight training draws"))
        self.assertEqual(draws["rowLabels"], self.models)
        self.assertEqual((draws["count"], draws["columns"], draws["height"]), (24, 8, 42))

    def test_every_model_is_evaluated_at_one_radius(self):
        rows = table_of(self.nb, self.evaluation_title)
        self.assertEqual(len({r["ε"] for r in rows}), 1, rows)

    def test_affine_spread_of_the_rts_sets(self):
        for r in table_of(self.nb, self.evaluation_title):
            for column in ("angle std °", "scale std", "shift std px", "affine fit MSE"):
                self.assertGreaterEqual(float(r[column]), 0, r)


del _ExecutedNotebook  # only the subclasses are test cases

if __name__ == "__main__":
    unittest.main()
