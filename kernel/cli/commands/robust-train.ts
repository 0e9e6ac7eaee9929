/**
 * `pertset robust-train --config NAME|FILE [--cvae RUN_DIR] [--out DIR] [--epochs N] [--limit N]
 * [--seed S] [--backend B] [--json]`: trains a classifier against a learned perturbation set with
 * a progress bar. Ctrl-C stops between two steps and saves; rerunning the same command resumes.
 */
import { builtinRobustConfigNames } from '../../api/config/robust';
import { RobustTrainer } from '../../api/robust-train/trainer';
import { parse } from '../args';
import type { Command } from '../main';
import { fmt, trainingCommand } from '../progress';
import { TRAINING_OPTIONS, TRAINING_USAGE, trainingOptions } from '../run-options';

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
${TRAINING_USAGE}`;

export const command: Command = {
  summary: 'train a classifier against a learned perturbation set (resumable)',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('robust-train', argv, { ...TRAINING_OPTIONS, cvae: { type: 'string' } });
    const { config, options, json } = trainingOptions('robust-train', values);
    return trainingCommand(json, () => RobustTrainer.create(config, { ...options, cvae: values.cvae as string | undefined }), {
      header(trainer) {
        const c = trainer.config;
        const images = trainer.data.trainImages;
        console.log(`config:  ${c.source} (${c.model.architecture} on ${images.imageShape.join('×')}, ${c.attack.type}, ${c.training.epochs} epochs, batch ${c.training.batchSize}, seed ${c.seed})`);
        for (const w of c.warnings) console.log(`warning: ${w}`);
        if (c.attack.cvae) console.log(`cvae:    ${c.attack.cvae.runDir} (${c.attack.cvae.checkpoint}, ${trainer.cvae!.architecture})`);
        console.log(`data:    ${images.count} training images, ${trainer.data.val.count} validation — ${images.source.description}`);
        if (images.note) console.log(`warning: ${images.note}`);
      },
      format: 'epoch {epoch} [{bar}] {value}/{total} | loss {loss} | acc {acc} | {rate} steps/s | eta {eta_formatted}',
      line: (v, t, f) => `step ${v}/${t} epoch ${f.epoch} loss ${f.loss} acc ${f.acc} lr ${f.lr} ${f.rate} steps/s`,
      fields: (p) => ({ epoch: `${p.epoch + 1}/${p.epochs}`, loss: fmt(p.loss), acc: p.accuracy.toFixed(3), lr: fmt(p.lr, 3), rate: p.stepsPerSecond.toFixed(2) }),
      epochLine: (e) =>
        `epoch ${e.epoch + 1}: train loss ${fmt(e.train.loss)}, accuracy ${e.train.accuracy.toFixed(4)} | validation (clean) accuracy ${e.validation.accuracy.toFixed(4)}, loss ${fmt(e.validation.loss)} | ${e.seconds.toFixed(1)} s`,
    });
  },
};
