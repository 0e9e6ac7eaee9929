"""In the kernel, `tf` runs on pertset's backend from the first cell (the one `initBackend` picks
in this environment), not on TensorFlow.js's default `cpu` with its "install our node backend"
banner."""
import subprocess

import kernel_env

# What TensorFlow.js prints the first time its cpu backend holds data in Node.js.
BANNER_WORDS = ("node backend", "tfjs-node", "Looks like you are running TensorFlow.js")


def expected_backend() -> str:
    """The backend `initBackend()` picks in a plain Node process with this environment."""
    script = "require(process.argv[1]).initBackend().then((i) => { console.log(i.name); process.exit(0); })"
    r = subprocess.run([kernel_env.node(), "-e", script, str(kernel_env.REPO / "dist" / "kernel" / "api" / "index.js")],
                       check=True, capture_output=True, text=True, timeout=120)
    return r.stdout.strip().splitlines()[-1]


class BackendFromTheFirstCell(kernel_env.LiveKernelCase):
    timeout = 120

    def result(self, code):
        content, outputs = self.run_cell(code)
        self.assertEqual(content["status"], "ok", content)
        self.all_outputs.extend(outputs)
        results = [m["content"]["data"]["text/plain"] for m in outputs if m["msg_type"] == "execute_result"]
        return results[-1] if results else None  # None: the value was undefined

    def test_tf_is_on_pertsets_backend_in_the_first_cell_without_a_banner(self):
        self.all_outputs = []
        want = expected_backend()
        # The kernel's first cell: nothing has called initBackend yet.
        self.assertEqual(self.result("tf.getBackend()"), f"'{want}'")
        self.assertEqual(self.result("pertset.backend.backendInfo()?.name"), f"'{want}'")
        self.assertEqual(self.result("tf.tensor([1, 2, 3]).sum().dataSync()[0]"), "6")
        self.assertEqual(self.result("tf.getBackend()"), f"'{want}'")
        text = " ".join(str(m["content"]) for m in self.all_outputs)
        for words in BANNER_WORDS:
            self.assertNotIn(words, text)


if __name__ == "__main__":
    import unittest
    unittest.main()
