/**
 * `pertset import-torch --weights DIR_OR_FILE --out RUN_DIR [--arch NAME] [--config NAME|FILE]
 * [--backend B] [--json]`: a PyTorch CVAE checkpoint → a pertset run directory.
 */
import { initBackend } from '../../api/backend';
import { ConfigError } from '../../api/errors';
import { importTorchCheckpoint } from '../../api/interop/import-torch';
import { parse } from '../args';
import type { Command } from '../main';
import { backendOption } from '../run-options';

const USAGE = `usage: pertset import-torch --weights DIR_OR_FILE --out RUN_DIR [--arch NAME] [--config NAME|FILE] [--backend B] [--json]

Import a PyTorch CVAE (the reference implementation's checkpoint_*.pth, or a state_dict) as a
pertset run directory: RUN_DIR/checkpoints/latest (TensorFlow.js model.json + weights.bin),
config.json and run.json. Then \`pertset radius --run RUN_DIR\` and \`pertset eval --run RUN_DIR\`.

  --weights   a directory written by scripts/torch/export_state_dict.py (manifest.json +
              weights.bin, PyTorch names and layouts), its manifest.json, or a .pth/.pt file
              (converted with that script; needs Python with torch: $PERTSET_PYTHON or python3)
  --arch      mnist_fc | mnist_conv | mnist_stn | cifar10_rectangle (default: inferred from the
              state_dict keys; cifar10_rectangle's sizes from its shapes)
  --config    config recorded with the run (default: mnist_fc_linf, mnist_conv_linf, mnist_stn_rts or
              cifar10_c_rectangle; its sizes must match the weights')
  --backend   auto | wasm | cpu | tensorflow (default $PERTSET_BACKEND or auto)
  --json      print one JSON object {architecture, tensors, params, out, checkpointDir, config}`;

export const command: Command = {
  summary: 'import a PyTorch CVAE checkpoint as a run directory',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('import-torch', argv, {
      weights: { type: 'string' },
      out: { type: 'string' },
      arch: { type: 'string' },
      config: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
    });
    const weights = values.weights as string | undefined;
    const out = values.out as string | undefined;
    if (!weights) throw new ConfigError('--weights DIR_OR_FILE is required (see `pertset import-torch --help`)');
    if (!out) throw new ConfigError('--out RUN_DIR is required (see `pertset import-torch --help`)');
    await initBackend({ backend: backendOption(values) });
    const result = await importTorchCheckpoint({
      weights, out, architecture: values.arch as string | undefined, config: values.config as string | undefined,
    });
    if (values.json) {
      console.log(JSON.stringify(result));
    } else {
      console.log(`imported ${result.architecture} (${result.tensors} tensors, ${result.params} parameters) into ${result.checkpointDir}`);
      console.log(`config: ${result.config}; next: pertset radius --run ${out}`);
    }
    return 0;
  },
};
