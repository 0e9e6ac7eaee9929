/**
 * `pertset robust-train --config NAME|FILE [--cvae RUN_DIR] [--out DIR] [--epochs N] [--limit N]
 * [--seed S] [--backend B] [--json]`: trains a classifier against a learned perturbation set with
 * a progress bar. Ctrl-C stops between two steps and saves; rerunning the same command resumes.
 */
import { builtinRobustConfigNames } from '../../api/config/robust';
import { ConfigError, InterruptedError } from '../../api/errors';
import { RobustTrainer } from '../../api/robust-train/trainer';
import { intOption, parse } from '../args';
import type { Command } from '../main';
import { createProgress, interruptible, withStdoutReserved } from '../progress';
import { backendOption } from '../run-options';

function shippedNames(): string {
  try {
    return builtinRobustConfigNames().join(', ');
  } catch {
    return 'none found';
  }
}

const USAGE = `usage: pertset robust-train --config NAME|FILE [--cvae RUN_DIR] [--out DIR] [--epochs N] [--limit N]
                            [--val-limit N] [--batch-size N] [--data DIR] [--seed S] [--backend B]
                            [--checkpoint-steps N] [--json]

Train a classifier against a learned perturbation set, from a config in the reference
repository's configs_robust schema (attack.type none, sample_aug, cvae_aug, cvae_attack, cvae_gaussian).
  --config NAME|FILE  a shipped robust config (${shippedNames()}) or a JSON file
  --cvae RUN_DIR      the CVAE's run folder (from \`pertset train\`) instead of attack.checkpoint;
                      a checkpoint folder inside it (RUN_DIR/checkpoints/best) picks that checkpoint
  --out DIR           run directory (default: <output_dir>/<model_dir>, e.g. ./robustness_experiments/<name>)
  --epochs N          train N epochs; the LR schedule is rescaled to N epochs
  --limit N           use only the first N training images
  --val-limit N       use only the first N validation images
  --batch-size N      minibatch size (default: the config's training.batch_size)
  --data DIR          folder with the dataset files (default: $PERTSET_DATA, the cache, the embedded subset)
  --seed S            seed of initialisation, shuffling, perturbations, attack starts and noise (default: config, 1)
  --backend B         auto, wasm, cpu or tensorflow (default $PERTSET_BACKEND or auto)
  --checkpoint-steps N  also save the "latest" checkpoint every N steps
  --json              print one JSON object at the end: {status, epochs, globalStep, runDir, history}

Ctrl-C stops after the current step and saves; run the same command again to resume.
Writes <out>/run.json, <out>/config.json and <out>/checkpoints/{latest,best,epoch-NNN}/.`;

function fmt(v: number, digits = 4): string {
  return Number.isFinite(v) ? v.toPrecision(digits) : String(v);
}

export const command: Command = {
  summary: 'train a classifier against a learned perturbation set (resumable)',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('robust-train', argv, {
      config: { type: 'string' },
      cvae: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      epochs: { type: 'string' },
      limit: { type: 'string' },
      'val-limit': { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      seed: { type: 'string' },
      'checkpoint-steps': { type: 'string' },
      json: { type: 'boolean' },
    });
    const config = values.config as string | undefined;
    if (!config) throw new ConfigError('--config NAME|FILE is required (see `pertset robust-train --help`)');
    const json = values.json === true;
    const out = await withStdoutReserved(json, async () => {
      const trainer = await RobustTrainer.create(config, {
        cvae: values.cvae as string | undefined,
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
        const images = trainer.data.trainImages;
        console.log(`config:  ${c.source} (${c.model.architecture} on ${images.imageShape.join('×')}, ${c.attack.type}, ${c.training.epochs} epochs, batch ${c.training.batchSize}, seed ${c.seed})`);
        for (const w of c.warnings) console.log(`warning: ${w}`);
        if (c.attack.cvae) console.log(`cvae:    ${c.attack.cvae.runDir} (${c.attack.cvae.checkpoint}, ${trainer.cvae!.architecture})`);
        console.log(`data:    ${images.count} training images, ${trainer.data.val.count} validation — ${images.source.description}`);
        if (images.note) console.log(`warning: ${images.note}`);
        console.log(`backend: ${trainer.backend?.name ?? 'unknown'}`);
        console.log(`run:     ${trainer.runDir}`);
        const stale = trainer.runLock?.tookOver;
        if (stale) console.log(`note:    took over the run's lock from \`${stale.command}\` (pid ${stale.pid}, started ${stale.startedAt}), which is no longer running`);
        const summary = () => ({ status: trainer.finished ? 'finished' : 'paused', epochs: trainer.history.length, globalStep: trainer.globalStep, runDir: trainer.runDir, history: trainer.history });
        if (trainer.finished) {
          console.log(`the run is already complete (${trainer.history.length}/${c.training.epochs} epochs, ${trainer.globalStep} steps); use another --out to train again`);
          return { code: 0, summary: summary() };
        }
        if (trainer.globalStep > 0) console.log(`resuming at epoch ${trainer.epoch + 1}, step ${trainer.step}/${trainer.stepsPerEpoch} (global step ${trainer.globalStep})`);
        const progress = createProgress({
          total: c.training.epochs * trainer.stepsPerEpoch,
          stream: json ? 'stderr' : 'stdout',
          format: 'epoch {epoch} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {rate} steps/s | eta {eta_formatted}',
          line: (v, t, f) => `step ${v}/${t} epoch ${f.epoch} loss ${f.loss} acc ${f.acc} lr ${f.lr} ${f.rate} steps/s`,
        });
        try {
          await interruptible('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)', () => trainer.run({ callbacks: {
            onBatchEnd: (p) => progress.update(p.globalStep, {
              epoch: `${p.epoch + 1}/${p.epochs}`, loss: fmt(p.loss), acc: p.accuracy.toFixed(3), lr: fmt(p.lr, 3), rate: p.stepsPerSecond.toFixed(2),
            }),
            onEpochEnd: (e) => progress.log(
              `epoch ${e.epoch + 1}: train loss ${fmt(e.train.loss)}, accuracy ${e.train.accuracy.toFixed(4)} | validation (clean) accuracy ${e.validation.accuracy.toFixed(4)}, loss ${fmt(e.validation.loss)} | ${e.seconds.toFixed(1)} s`,
            ),
          } }));
          progress.stop();
          console.log(`done: ${trainer.globalStep} steps; checkpoints in ${trainer.latestCheckpoint} (best: ${trainer.bestCheckpoint})`);
          return { code: 0, summary: summary() };
        } catch (e) {
          progress.stop();
          if (e instanceof InterruptedError) {
            console.error(e.message);
            return { code: 130, summary: null };
          }
          throw e;
        }
      } finally {
        trainer.dispose();
      }
    });
    if (json && out.summary) process.stdout.write(`${JSON.stringify(out.summary)}\n`);
    return out.code;
  },
};
