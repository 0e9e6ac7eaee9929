/**
 * The validation pass run at the end of every epoch: per-example means of the CVAE objective on
 * the validation pairs, in eval mode, with β at the FINAL epoch (as the reference logs it).
 */
import * as tf from '@tensorflow/tfjs';
import { betaAt } from '../config/schedules';
import type { PertsetConfig } from '../config/types';
import type { CVAE } from '../models/types';
import type { PairSource } from '../pairs/source';
import { cvaeLossTerms } from './cvae-step';
import type { LossMeans } from './options';

/**
 * `noiseSeed(i)` seeds the posterior sample of batch `i`; `beforeBatch` may throw to stop
 * (interrupt, abort) between batches.
 */
export async function validationLoss(
  model: CVAE,
  val: PairSource,
  config: PertsetConfig,
  noiseSeed: (batch: number) => number,
  beforeBatch: () => Promise<void>,
): Promise<LossMeans> {
  const beta = betaAt(config.training.beta, config.training.epochs);
  const bs = config.eval.batchSize;
  const sums = { loss: 0, kl: 0, recon: 0, n: 0 };
  const batches = val.batchCount(bs);
  for (let i = 0; i < batches; i++) {
    await beforeBatch();
    const b = val.batch(0, i, bs);
    const out = tf.tidy(() => {
      const { recon, kl } = cvaeLossTerms(model, b, noiseSeed(i), false);
      return tf.stack([tf.sum(recon), tf.sum(kl)]);
    });
    const [r, k] = await out.data();
    out.dispose();
    sums.recon += r;
    sums.kl += k;
    sums.loss += r + beta * k;
    sums.n += b.shape[0];
  }
  return { loss: sums.loss / sums.n, kl: sums.kl / sums.n, recon: sums.recon / sums.n };
}
