/**
 * `pertset train --config NAME|FILE [--data DIR] [--out DIR] [--epochs N] [--limit N]
 * [--backend B] [--seed S] [--checkpoint-steps N] [--batch-size N] [--val-limit N]`: trains a CVAE with a progress bar. Ctrl-C
 * stops between two steps and saves; rerunning the same command (same --out) resumes.
 */
import { builtinConfigNames } from '../../api/config/load';
import { ConfigError, InterruptedError } from '../../api/errors';
import { Trainer } from '../../api/train/trainer';
import { intOption, parse } from '../args';
import type { Command } from '../main';
import { createProgress, interruptible } from '../progress';
import { backendOption } from '../run-options';

function shippedNames(): string {
  try {
    return builtinConfigNames().join(', ');
  } catch {
    return 'none found';
  }
}

const USAGE = `usage: pertset train --config NAME|FILE [--data DIR] [--out DIR] [--epochs N] [--limit N]
                     [--backend B] [--seed S] [--checkpoint-steps N] [--batch-size N] [--val-limit N]

Train a CVAE perturbation set from a config in the reference repository's JSON schema.
  --config NAME|FILE  a shipped config (${shippedNames()}) or a JSON file
  --data DIR          folder with the dataset files (default: $PERTSET_DATA, then the cache,
                      then the embedded Fashion-MNIST subset); the data used is printed and recorded
  --out DIR           run directory (default: <output_dir>/<model_dir>, e.g. ./experiments/mnist_fc_linf)
  --epochs N          train N epochs; the LR and beta schedules are rescaled to N epochs
  --limit N           use only the first N training images
  --val-limit N       use only the first N validation images
  --batch-size N      minibatch size (default: the config's training.batch_size)
  --backend B         auto, wasm, cpu or tensorflow (default $PERTSET_BACKEND or auto)
  --seed S            seed of initialisation, shuffling, perturbations and noise (default: config, 1)
  --checkpoint-steps N  also save the "latest" checkpoint every N steps

Ctrl-C stops after the current step and saves; run the same command again to resume.
Writes <out>/run.json, <out>/config.json and <out>/checkpoints/{latest,best,epoch-NNN}/.`;

function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toPrecision(digits) : String(v);
}

export const command: Command = {
  summary: 'train a CVAE perturbation set from a config (resumable)',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('train', argv, {
      config: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      limit: { type: 'string' },
      'val-limit': { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      'checkpoint-steps': { type: 'string' },
    });
    const config = values.config as string | undefined;
    if (!config) throw new ConfigError('--config NAME|FILE is required (see `pertset train --help`)');
    const trainer = await Trainer.create(config, {
      dataDir: values.data as string | undefined,
      outDir: values.out as string | undefined,
      epochs: intOption('epochs', values.epochs as string | undefined, 1),
      limit: intOption('limit', values.limit as string | undefined, 1),
      validationLimit: intOption('val-limit', values['val-limit'] as string | undefined, 1),
      batchSize: intOption('batch-size', values['batch-size'] as string | undefined, 1),
      seed: intOption('seed', values.seed as string | undefined, -2147483648),
      backend: backendOption(values),
      checkpointSteps: intOption('checkpoint-steps', values['checkpoint-steps'] as string | undefined, 0),
    });
    try {
      const c = trainer.config;
      const train = trainer.data.train.describe() as { images?: { source?: { description?: string }; note?: string; count?: number } };
      console.log(`config:  ${c.source} (${c.model.architecture}, ${c.training.epochs} epochs, batch ${c.training.batchSize}, seed ${c.seed})`);
      for (const w of c.warnings) console.log(`warning: ${w}`);
      console.log(`data:    ${train.images?.count ?? trainer.data.train.count} training pairs, ${trainer.data.val.count} validation — ${train.images?.source?.description ?? 'custom data'}`);
      if (train.images?.note) console.log(`warning: ${train.images.note}`);
      console.log(`backend: ${trainer.backend?.name ?? 'unknown'}`);
      console.log(`run:     ${trainer.runDir}`);
      const stale = trainer.runLock?.tookOver;
      if (stale) console.log(`note:    took over the run's lock from \`${stale.command}\` (pid ${stale.pid}, started ${stale.startedAt}), which is no longer running`);
      if (trainer.finished) {
        console.log(`the run is already complete (${trainer.history.length}/${c.training.epochs} epochs, ${trainer.globalStep} steps); use another --out to train again`);
        return 0;
      }
      if (trainer.globalStep > 0) console.log(`resuming at epoch ${trainer.epoch + 1}, step ${trainer.step}/${trainer.stepsPerEpoch} (global step ${trainer.globalStep})`);
      const total = c.training.epochs * trainer.stepsPerEpoch;
      const progress = createProgress({
        total,
        stream: 'stdout',
        format: 'epoch {epoch} [{bar}] {value}/{total} | loss {loss} | KL {kl} | recon {recon} | {rate} steps/s | eta {eta_formatted}',
        line: (v, t, f) => `step ${v}/${t} epoch ${f.epoch} loss ${f.loss} KL ${f.kl} recon ${f.recon} lr ${f.lr} beta ${f.beta} ${f.rate} steps/s`,
      });
      try {
        const result = await interruptible('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)', () => trainer.run({ callbacks: {
          onBatchEnd: (p) =>
            progress.update(p.globalStep, {
              epoch: `${p.epoch + 1}/${p.epochs}`,
              loss: fmt(p.loss),
              kl: fmt(p.kl),
              recon: fmt(p.recon),
              lr: fmt(p.lr, 3),
              beta: fmt(p.beta, 3),
              rate: p.stepsPerSecond.toFixed(2),
            }),
          onEpochEnd: (e) =>
            progress.log(
              `epoch ${e.epoch + 1}: train loss ${fmt(e.train.loss)} (KL ${fmt(e.train.kl)}, recon ${fmt(e.train.recon)})` +
                (e.validation ? ` | validation loss ${fmt(e.validation.loss)} (KL ${fmt(e.validation.kl)}, recon ${fmt(e.validation.recon)})` : '') +
                ` | ${e.seconds.toFixed(1)} s`,
            ),
        } }));
        progress.stop();
        console.log(`done: ${result.globalStep} steps; checkpoints in ${trainer.latestCheckpoint} (best: ${trainer.bestCheckpoint})`);
        console.log(`next: pertset radius --run ${trainer.runDir} && pertset eval --run ${trainer.runDir}`);
        return 0;
      } catch (e) {
        progress.stop();
        if (e instanceof InterruptedError) {
          console.error(e.message);
          return 130;
        }
        throw e;
      }
    } finally {
      trainer.dispose();
    }
  },
};
