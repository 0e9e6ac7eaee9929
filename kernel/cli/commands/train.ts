/**
 * `pertset train --config NAME|FILE [--data DIR] [--out DIR] [--epochs N] [--limit N]
 * [--backend B] [--seed S] [--checkpoint-steps N] [--batch-size N] [--val-limit N] [--json]`:
 * trains a CVAE with a progress bar. Ctrl-C stops between two steps and saves; rerunning the
 * same command (same --out) resumes.
 */
import { builtinConfigNames } from '../../api/config/load';
import { Trainer } from '../../api/train/trainer';
import { parse } from '../args';
import type { Command } from '../main';
import { fmt, trainingCommand } from '../progress';
import { TRAINING_OPTIONS, TRAINING_USAGE, trainingOptions } from '../run-options';

function shippedNames(): string {
  try {
    return builtinConfigNames().join(', ');
  } catch {
    return 'none found';
  }
}

const USAGE = `usage: pertset train --config NAME|FILE [--data DIR] [--out DIR] [--epochs N] [--limit N]
                     [--backend B] [--seed S] [--checkpoint-steps N] [--batch-size N] [--val-limit N] [--json]

Train a CVAE perturbation set from a config in the reference repository's JSON schema.
  --config NAME|FILE  a shipped config (${shippedNames()}) or a JSON file
${TRAINING_USAGE}`;

export const command: Command = {
  summary: 'train a CVAE perturbation set from a config (resumable)',
  usage: USAGE,
  async run(argv) {
    const { config, options, json } = trainingOptions('train', parse('train', argv, TRAINING_OPTIONS).values);
    return trainingCommand(json, () => Trainer.create(config, options), {
      header(trainer) {
        const c = trainer.config;
        const train = trainer.data.train.describe() as { images?: { source?: { description?: string }; note?: string; count?: number } };
        console.log(`config:  ${c.source} (${c.model.architecture}, ${c.training.epochs} epochs, batch ${c.training.batchSize}, seed ${c.seed})`);
        for (const w of c.warnings) console.log(`warning: ${w}`);
        console.log(`data:    ${train.images?.count ?? trainer.data.train.count} training pairs, ${trainer.data.val.count} validation — ${train.images?.source?.description ?? 'custom data'}`);
        if (train.images?.note) console.log(`warning: ${train.images.note}`);
      },
      format: 'epoch {epoch} [{bar}] {value}/{total} | loss {loss} | KL {kl} | recon {recon} | {rate} steps/s | eta {eta_formatted}',
      line: (v, t, f) => `step ${v}/${t} epoch ${f.epoch} loss ${f.loss} KL ${f.kl} recon ${f.recon} lr ${f.lr} beta ${f.beta} ${f.rate} steps/s`,
      fields: (p) => ({
        epoch: `${p.epoch + 1}/${p.epochs}`,
        loss: fmt(p.loss),
        kl: fmt(p.kl),
        recon: fmt(p.recon),
        lr: fmt(p.lr, 3),
        beta: fmt(p.beta, 3),
        rate: p.stepsPerSecond.toFixed(2),
      }),
      epochLine: (e) =>
        `epoch ${e.epoch + 1}: train loss ${fmt(e.train.loss)} (KL ${fmt(e.train.kl)}, recon ${fmt(e.train.recon)})` +
        (e.validation ? ` | validation loss ${fmt(e.validation.loss)} (KL ${fmt(e.validation.kl)}, recon ${fmt(e.validation.recon)})` : '') +
        ` | ${e.seconds.toFixed(1)} s`,
      next: (trainer) => `pertset radius --run ${trainer.runDir} && pertset eval --run ${trainer.runDir}`,
    });
  },
};
