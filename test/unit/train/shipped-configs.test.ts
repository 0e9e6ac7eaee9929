/**
 * Every shipped config trains: its real dataset (the embedded subset here, so the test needs no
 * downloads), its real perturbations (ℓ∞, RTS, the limited RTS bank) and its architecture take
 * an optimiser step with a finite loss.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { initBackend } from '../../../kernel/api/backend';
import { builtinConfigNames } from '../../../kernel/api/config';
import { Trainer } from '../../../kernel/api/train';
import { tmpDir } from './fixtures';

const empty = tmpDir('nodata');

// mnist_stn_rts_limited_1 differs from _5 only in k (checked by the config tests).
for (const name of ['mnist_fc_linf', 'mnist_conv_linf', 'mnist_stn_rts', 'mnist_stn_rts_limited_5']) {
  test(`${name}: one step on its own data and perturbations`, async () => {
    assert.ok(builtinConfigNames().includes(name));
    process.env.PERTSET_DATA = empty;
    process.env.PERTSET_CACHE = empty;
    await initBackend();
    const t = await Trainer.create(name, { limit: 16, persist: false });
    const train = t.data.train.describe() as any;
    assert.equal(train.images.name, 'embedded');
    const side = name.includes('stn') ? 42 : 28;
    assert.deepEqual(t.data.train.imageShape, [side, side, 1]);
    assert.equal(train.perturbation.type, name.includes('limited') ? 'rts_limited' : name.includes('rts') ? 'rts' : 'linfinity');
    // Batches of 128 over 16 images: one step, no validation pass.
    const losses: number[] = [];
    await t.run({ steps: 1, callbacks: { onBatchEnd: (p) => { losses.push(p.loss); } } });
    assert.equal(t.globalStep, 1);
    assert.ok(losses.every((l) => Number.isFinite(l) && l > 0), `losses ${losses}`);
    t.dispose();
  });
}
