"""The Jupyter protocol against our kernel: jupyter_kernel_test's 12 standard tests plus the
fixes over stock tslab (kernel_info status, comm_info_reply, no abort window, the API preloaded
and typed under tslab's TypeScript 5.0)."""
import unittest

import kernel_env

try:
    import jupyter_kernel_test as jkt
except ImportError:  # pragma: no cover - depends on the machine
    jkt = None

TIMEOUT = 60

if jkt is None:

    class MissingJupyter(unittest.TestCase):
        def test_jupyter_kernel_test_installed(self):
            kernel_env.need_module("jupyter_kernel_test", "jupyter_kernel_test", "apt-get install python3-jupyter-kernel-test jupyter-client")

else:

    class PertsetKernelTests(jkt.KernelTests):
        """The standard suite. All 12 tests are configured, so none is skipped."""

        kernel_name = "pertset"
        language_name = "typescript"
        file_extension = ".ts"

        @classmethod
        def setUpClass(cls):
            kernel_env.install_kernelspec()
            super().setUpClass()
            # The first cell waits for the preamble (TypeScript program + API types): warm it up
            # here so the per-message timeouts of the standard tests measure the protocol.
            reply = cls.kc.execute_interactive("1", timeout=TIMEOUT, output_hook=lambda m: None)
            assert reply["content"]["status"] == "ok", reply["content"]

        code_hello_world = 'console.log("hello, world")'
        code_stderr = 'console.error("something on stderr")'
        completion_samples = [
            {"text": "Math.fl", "matches": {"floor"}},
            {"text": "pertset.display.clearO", "matches": {"clearOutput"}},
        ]
        complete_code_samples = ["1 + 1", "const a = 1;", "function f() { return 1; }"]
        incomplete_code_samples = ["function f() {", "const xs = [1,"]
        invalid_code_samples = ["const = ;", "1 +* 2"]
        code_page_something = "pertset.display.imageGrid?"
        code_generate_error = 'throw new Error("boom")'
        code_execute_result = [
            {"code": "6*7", "result": "42"},
            {"code": "[1, 2, 3].length", "result": "3"},
            {"code": "'ab' + 'c'", "result": "'abc'"},
        ]
        code_display_data = [
            {"code": 'display(pertset.display.html("<b>hi</b>"))', "mime": "text/html"},
            {"code": "display(pertset.display.imageGrid([[[0, 1], [1, 0]]]))", "mime": "application/vnd.pertset.image-grid+json"},
            {"code": "display(pertset.display.lineChart({loss: [3, 2, 1]}))", "mime": "application/vnd.plotly.v1+json"},
        ]
        code_history_pattern = "6*7"
        supported_history_operations = ("tail", "range", "search")
        code_inspect_sample = "pertset.display.imageGrid"
        code_clear_output = "pertset.display.clearOutput()"

    class PertsetKernelExtras(kernel_env.LiveKernelCase):
        """What stock tslab gets wrong or lacks, beyond the standard suite."""

        timeout = TIMEOUT

        def test_kernel_info_reports_status_and_versions(self):
            self.kc.kernel_info()
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            content = reply["content"]
            self.assertEqual(content["status"], "ok")
            self.assertEqual(content["implementation"], "pertset")
            self.assertRegex(content["implementation_version"], r"^\d+\.\d+\.\d+")
            self.assertEqual(content["language_info"]["version"], "5.0.4")

        def test_comm_info_reply_has_the_right_type(self):
            msg_id = self.kc.comm_info()
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
            self.assertEqual(reply["msg_type"], "comm_info_reply")
            self.assertEqual(reply["content"], {"status": "ok", "comms": {}})

        def test_cell_sent_right_after_an_error_runs(self):
            # Both requests are queued before the first reply: stock tslab aborts the second.
            first = self.kc.execute('throw new TypeError("first")')
            second = self.kc.execute("40 + 2")
            replies = {}
            while len(replies) < 2:
                msg = self.kc.get_shell_msg(timeout=TIMEOUT)
                replies[msg["parent_header"]["msg_id"]] = msg["content"]
            self.assertEqual(replies[first]["status"], "error")
            self.assertEqual(replies[first]["ename"], "TypeError")
            self.assertEqual(replies[first]["evalue"], "first")
            self.assertEqual(replies[second]["status"], "ok")

        def test_state_persists_and_execution_counts_increase(self):
            a, _ = self.run_cell("const persisted = 40")
            b, outputs = self.run_cell("persisted + 2")
            self.assertEqual(b["execution_count"], a["execution_count"] + 1)
            results = [m for m in outputs if m["msg_type"] == "execute_result"]
            self.assertEqual(len(results), 1)
            self.assertEqual(results[0]["content"]["data"]["text/plain"], "42")
            self.assertEqual(results[0]["content"]["execution_count"], b["execution_count"])

        def test_type_error_is_reported_by_name(self):
            content, outputs = self.run_cell("const n: number = 'not a number'")
            self.assertEqual(content["status"], "error")
            self.assertEqual(content["ename"], "TypeScriptError")
            self.assertIn("not assignable to type 'number'", content["evalue"])
            self.assertEqual([m["msg_type"] for m in outputs], ["error"])

        def test_tf_is_preloaded_and_typed(self):
            # Cells build tensors without an import: `tf` is the same TensorFlow.js the API uses.
            content, outputs = self.run_cell("const t: tf.Tensor1D = tf.tensor1d([1, 2, 3.5]);\nt.sum().arraySync()")
            self.assertEqual(content["status"], "ok", content)
            results = [m for m in outputs if m["msg_type"] == "execute_result"]
            self.assertEqual(results[0]["content"]["data"]["text/plain"], "6.5")
            content, _ = self.run_cell("pertset.tf === tf")
            self.assertEqual(content["status"], "ok")

        def test_shorthand_property_of_an_earlier_cell_variable(self):
            # tslab 1.0.22 alone throws "shorty is not defined" here.
            self.run_cell("const shorty = 5")
            content, outputs = self.run_cell("({ shorty })")
            self.assertEqual(content["status"], "ok", content)
            results = [m for m in outputs if m["msg_type"] == "execute_result"]
            self.assertEqual(results[0]["content"]["data"]["text/plain"], "{ shorty: 5 }")

        def test_api_misuse_is_a_type_error(self):
            content, _ = self.run_cell("pertset.display.imageGrid(42)")
            self.assertEqual(content["status"], "error")
            self.assertEqual(content["ename"], "TypeScriptError")

        def test_displayable_result_carries_its_mime_bundle(self):
            content, outputs = self.run_cell("pertset.display.metricsTable([{model: 'fc', recon: 0.125}])")
            self.assertEqual(content["status"], "ok")
            data = [m for m in outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]
            self.assertIn("<table", data["text/html"])
            self.assertIn("0.125", data["text/plain"])

        def test_display_handle_updates_in_place(self):
            content, outputs = self.run_cell("const h = display('step 1'); h.update('step 2')")
            self.assertEqual(content["status"], "ok")
            types = [m["msg_type"] for m in outputs]
            self.assertEqual(types, ["display_data", "update_display_data"])
            ids = {m["content"]["transient"]["display_id"] for m in outputs}
            self.assertEqual(len(ids), 1)
            self.assertEqual(outputs[1]["content"]["data"]["text/plain"], "step 2")

        def test_inspect_shows_the_api_signature(self):
            code = "pertset.display.imageGrid"
            self.kc.inspect(code, len(code))
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            self.assertTrue(reply["content"]["found"])
            self.assertIn("imageGrid(images: ImageBatch", reply["content"]["data"]["text/plain"])

        def test_whole_public_surface_type_checks_under_typescript_5_0(self):
            surface = kernel_env.api_surface()
            namespaces = [ns for ns in surface if ns]
            for ns in ("backend", "data", "perturbations", "models", "train", "evaluate", "display", "config", "interop", "interrupt"):
                self.assertIn(ns, namespaces)
            cell = kernel_env.surface_cell(surface)
            content, outputs = self.run_cell(cell)
            errors = [m["content"] for m in outputs if m["msg_type"] == "error"]
            self.assertEqual(content["status"], "ok", f"TypeScript 5.0 rejects the API surface: {errors}")
            result = [m for m in outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"]
            self.assertGreater(int(result), 20)


if __name__ == "__main__":
    unittest.main()
