"""SIGINT (the kernelspec's interrupt_mode "signal") stops a training cell between steps; the
kernel, the trainer and its model survive, and training continues from the same step."""
import time
import unittest

import kernel_env

TIMEOUT = 120

# Small random pairs so a step is quick; many epochs so the run outlasts the test by far.
SETUP = """
const n = 8, size = 28 * 28;
const x = new Float32Array(n * size).map((_, i) => (i % 13) / 13);
const xPerturbed = x.map((v) => 1 - v);
const pairs = pertset.pairs.pairsFromArrays(x, xPerturbed, [n, 28, 28, 1]);
const trainer = await pertset.train.Trainer.create('mnist_fc_linf', { data: { train: pairs, val: pairs }, persist: false, epochs: 100000 });
const live = pertset.display.liveTraining({ intervalMs: 0 });
trainer.globalStep
"""


class InterruptTraining(kernel_env.LiveKernelCase):
    timeout = TIMEOUT

    def result_of(self, code):
        content, outputs = self.run_cell(code)
        self.assertEqual(content["status"], "ok", content)
        results = [m for m in outputs if m["msg_type"] == "execute_result"]
        return results[-1]["content"]["data"]["text/plain"]

    def interrupt_when(self, code, ready):
        """Sends `code`, interrupts once an iopub message satisfies `ready`, returns the reply content."""
        msg_id = self.kc.execute(code)
        deadline = time.time() + TIMEOUT
        while time.time() < deadline:
            msg = self.kc.get_iopub_msg(timeout=TIMEOUT)
            if msg["parent_header"].get("msg_id") == msg_id and ready(msg):
                break
        self.km.interrupt_kernel()
        while True:
            reply = self.kc.get_shell_msg(timeout=TIMEOUT)
            if reply["parent_header"].get("msg_id") == msg_id:
                return reply["content"]

    def test_1_interrupted_training_keeps_the_model_and_continues(self):
        self.assertEqual(self.result_of(SETUP), "0")
        # Interrupt once the live display shows progress (the first training step is done).
        content = self.interrupt_when(
            "await trainer.run({ callbacks: live })",
            lambda m: m["msg_type"] in ("display_data", "update_display_data"),
        )
        self.assertEqual(content["status"], "error")
        self.assertEqual(content["ename"], "InterruptedError")
        # Stopped cooperatively by the trainer between steps, not by aborting the cell's await.
        self.assertIn("training interrupted at", content["evalue"])
        steps = int(self.result_of("trainer.globalStep"))
        self.assertGreaterEqual(steps, 1)
        self.assertIn(f"(global step {steps})", content["evalue"])
        # The kernel and the trainer survived: two more steps continue from the same counter.
        after = self.result_of("await trainer.run({ steps: 2 });\ntrainer.globalStep")
        self.assertEqual(int(after), steps + 2)

    def test_2_interrupt_aborts_a_plain_await_and_keeps_state(self):
        self.assertEqual(self.result_of("const kept = 41; kept"), "41")
        # The marker is printed after the cell's synchronous part: Node's breakOnSigint watchdog,
        # active while that part runs, can swallow a SIGINT that lands just as it ends.
        content = self.interrupt_when(
            "await new Promise((r) => setTimeout(r, 10));\nconsole.log('waiting');\nawait new Promise((r) => setTimeout(r, 600000))",
            lambda m: m["msg_type"] == "stream",
        )
        self.assertEqual(content["ename"], "InterruptedError")
        self.assertEqual(self.result_of("kept + 1"), "42")

    def test_3_interrupt_breaks_a_busy_loop(self):
        content = self.interrupt_when(
            "console.log('spinning'); while (true) {}",
            lambda m: m["msg_type"] == "stream",
        )
        self.assertEqual(content["status"], "error")
        self.assertEqual(content["ename"], "InterruptedError")
        self.assertEqual(self.result_of("kept * 2"), "82")


if __name__ == "__main__":
    unittest.main()
