"""A fixture notebook executed by Debian's `jupyter nbconvert --execute --allow-errors` with our
kernel, from a folder without node_modules; the assertions read the saved .ipynb."""
import json
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

import kernel_env

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "kernel-demo.ipynb"
JUPYTER = "/usr/bin/jupyter"
PERTSET_TYPES = ("application/vnd.pertset.image-grid+json", "application/vnd.pertset.latent-traversal+json")


def outputs_of(cell, output_type=None):
    return [o for o in cell["outputs"] if output_type is None or o["output_type"] == output_type]


def stream_text(cell):
    return "".join(o["text"] if isinstance(o["text"], str) else "".join(o["text"]) for o in outputs_of(cell, "stream"))


def joined(v):
    return v if isinstance(v, str) else "".join(v)


class ExecutedNotebook(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        kernel_env.need_path(JUPYTER, "Jupyter's nbconvert", "apt-get install jupyter-nbconvert jupyter-client python3-ipykernel")
        kernel_env.install_kernelspec()
        cls.workdir = tempfile.mkdtemp(prefix="pertset-nb-")
        src = Path(cls.workdir) / "demo.ipynb"
        shutil.copy(FIXTURE, src)
        out = Path(cls.workdir) / "executed.ipynb"
        r = subprocess.run(
            [JUPYTER, "nbconvert", "--to", "notebook", "--execute", "--allow-errors",
             "--ExecutePreprocessor.timeout=120", "--output", str(out), str(src)],
            capture_output=True, text=True, cwd=cls.workdir,
        )
        if r.returncode != 0:
            raise AssertionError(f"nbconvert failed ({r.returncode}):\n{r.stderr[-3000:]}")
        cls.nb = json.loads(out.read_text())
        cls.cells = cls.nb["cells"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.workdir, ignore_errors=True)

    def test_every_cell_has_its_execution_count(self):
        self.assertEqual([c["execution_count"] for c in self.cells], list(range(1, len(self.cells) + 1)))

    def test_last_expression_is_an_execute_result(self):
        results = outputs_of(self.cells[1], "execute_result")
        self.assertEqual(len(results), 1)
        self.assertEqual(results[0]["execution_count"], 2)
        self.assertEqual(joined(results[0]["data"]["text/plain"]), "6")
        self.assertEqual(stream_text(self.cells[1]), "")

    def test_image_grid_bundle_has_payload_and_fallbacks(self):
        data = outputs_of(self.cells[2], "execute_result")[0]["data"]
        payload = data["application/vnd.pertset.image-grid+json"]
        self.assertEqual((payload["count"], payload["height"], payload["width"], payload["channels"], payload["columns"]), (2, 2, 2, 1, 2))
        self.assertEqual(payload["captions"], ["a <b>", "b"])
        html = joined(data["text/html"])
        self.assertEqual(html.count("data:image/png;base64,"), 2)
        self.assertIn("a &lt;b&gt;", html)
        self.assertNotIn("a <b>", html)
        self.assertIn("ImageGrid 2 images", joined(data["text/plain"]))

    def test_display_mid_cell_shows_a_plotly_chart_before_later_output(self):
        outs = self.cells[3]["outputs"]
        self.assertEqual([o["output_type"] for o in outs], ["display_data", "stream"])
        data = outs[0]["data"]
        self.assertEqual(data["application/vnd.plotly.v1+json"]["data"][0]["y"], [3, 2, 1])
        self.assertIn("<svg", joined(data["text/html"]))
        self.assertIn("loss", joined(data["text/plain"]))

    def test_latent_traversal_bundle(self):
        data = outputs_of(self.cells[4], "execute_result")[0]["data"]
        payload = data["application/vnd.pertset.latent-traversal+json"]
        self.assertEqual(payload["radii"], [-1, 0, 1])
        self.assertEqual([d["name"] for d in payload["directions"]], ["z0"])
        self.assertEqual(joined(data["text/html"]).count("data:image/png;base64,"), 4)
        self.assertIn("LatentTraversal 1 direction(s) x 3 radii", joined(data["text/plain"]))

    def test_every_pertset_bundle_has_html_and_plain_fallbacks(self):
        seen = 0
        for cell in self.cells:
            for o in cell["outputs"]:
                data = o.get("data", {})
                if any(t in data for t in PERTSET_TYPES) or "application/vnd.plotly.v1+json" in data:
                    seen += 1
                    self.assertIn("text/html", data)
                    self.assertIn("text/plain", data)
        self.assertGreaterEqual(seen, 4)

    def test_error_cell_names_the_error(self):
        errors = outputs_of(self.cells[5], "error")
        self.assertEqual(len(errors), 1)
        self.assertEqual(errors[0]["ename"], "ArgumentError")
        self.assertEqual(errors[0]["evalue"], 'bad argument "k"')
        self.assertTrue(any("ArgumentError" in line for line in errors[0]["traceback"]))

    def test_cell_after_the_error_runs(self):
        self.assertEqual(stream_text(self.cells[6]), "after the error 3\n")
        self.assertEqual(joined(outputs_of(self.cells[6], "execute_result")[0]["data"]["text/plain"]), "6")

    def test_live_training_display_keeps_the_final_state(self):
        outs = outputs_of(self.cells[7], "display_data")
        # One progress line and one chart, updated in place rather than appended.
        self.assertEqual(len(outs), 2)
        line = joined(outs[0]["data"]["text/plain"])
        self.assertIn("step 5/5 (global 5)", line)
        self.assertIn("<progress", joined(outs[0]["data"]["text/html"]))
        figure = outs[1]["data"]["application/vnd.plotly.v1+json"]
        self.assertEqual(figure["data"][0]["name"], "loss")
        self.assertEqual(figure["data"][0]["y"], [10, 9, 8, 7, 6])

    def test_metrics_table(self):
        data = outputs_of(self.cells[8], "execute_result")[0]["data"]
        self.assertIn("<caption>reconstruction</caption>", joined(data["text/html"]))
        self.assertIn("0.1235", joined(data["text/plain"]))


if __name__ == "__main__":
    unittest.main()
