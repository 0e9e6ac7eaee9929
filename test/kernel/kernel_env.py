"""Shared setup for the kernel's Python suites: a temporary JUPYTER_PATH holding the `pertset`
kernelspec written by `pertset kernel install --jupyter-path`, and a live kernel per test class.
A missing Jupyter client goes through test/helpers/needs.py (a failure under CI=true, else a skip)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test" / "helpers"))
from needs import need, need_module, need_path  # noqa: E402,F401

LAUNCHER = REPO / "dist" / "kernel" / "jupyter" / "launcher.js"


def node() -> str:
    return shutil.which("node") or "/usr/bin/node"


def install_kernelspec() -> str:
    """Installs the kernelspec into a fresh directory and points JUPYTER_PATH at it."""
    if not LAUNCHER.exists():
        raise AssertionError(f"{LAUNCHER} is missing: run `npm run build:ts` first")
    jupyter_path = tempfile.mkdtemp(prefix="pertset-jupyter-")
    subprocess.run(
        [node(), str(REPO / "bin" / "pertset.js"), "kernel", "install", "--jupyter-path", jupyter_path],
        check=True, capture_output=True, text=True,
    )
    os.environ["JUPYTER_PATH"] = jupyter_path
    return jupyter_path


def api_surface() -> dict:
    """Every runtime export of the API, by namespace: {"display": ["imageGrid", ...], "": [top-level names]}."""
    script = r"""
const api = require(process.argv[1]);
const out = { '': [] };
for (const [k, v] of Object.entries(api)) {
  if (k === 'tf') continue; // TensorFlow.js itself, re-exported for convenience: not our surface
  if (v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === null || (v && v[Symbol.toStringTag] === 'Module')) out[k] = Object.keys(v);
  else if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error) && Object.keys(v).length && Object.values(v).some((x) => typeof x === 'function')) out[k] = Object.keys(v);
  else out[''].push(k);
}
console.log(JSON.stringify(out));
"""
    r = subprocess.run([node(), "-e", script, str(REPO / "dist" / "kernel" / "api" / "index.js")],
                       check=True, capture_output=True, text=True)
    return json.loads(r.stdout)


IDENT = __import__("re").compile(r"^[A-Za-z_$][\w$]*$")


def surface_cell(surface: dict) -> str:
    """A cell that names every export's type (type-only: nothing runs), so a TS 5.0 type-check touches all of it."""
    lines = []
    for ns, names in sorted(surface.items()):
        for name in sorted(names):
            if not IDENT.match(name) or (ns and not IDENT.match(ns)):
                continue
            ref = f"pertset.{ns}.{name}" if ns else f"pertset.{name}"
            lines.append(f"type _S{len(lines)} = typeof {ref};")
    lines.append(f"{len(lines)}")
    return "\n".join(lines)


class LiveKernelCase(unittest.TestCase):
    """One running `pertset` kernel per test class (from a temporary kernelspec), and `run_cell`."""

    timeout = 60

    @classmethod
    def setUpClass(cls):
        manager = need_module("jupyter_client.manager", "Jupyter's client", "apt-get install jupyter-client python3-ipykernel")
        start_new_kernel = manager.start_new_kernel
        install_kernelspec()
        cls.km, cls.kc = start_new_kernel(kernel_name="pertset")

    @classmethod
    def tearDownClass(cls):
        cls.kc.stop_channels()
        cls.km.shutdown_kernel()

    def run_cell(self, code):
        """Executes `code`; returns the reply content and the iopub outputs (status and execute_input left out)."""
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=self.timeout, output_hook=outputs.append)
        return reply["content"], [m for m in outputs if m["msg_type"] not in ("status", "execute_input")]
