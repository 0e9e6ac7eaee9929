/**
 * Acceptance (issue 2, "Done means"): train `mnist_fc_linf` on real MNIST for 1 epoch on 10k
 * images (wasm), calibrate the radius on validation pairs, evaluate on 500 held-out test pairs,
 * and check the paper's orderings: PGD AE ≤ encoder AE < identity error, and EAE > PGD AE.
 * Prints the figures. The longest test of the suite (about a minute on 2 cores).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../kernel/api/backend';
import { calibrateRun, evaluateRun } from '../../kernel/api/evaluate';
import { Trainer } from '../../kernel/api/train';
import { requirePath, sharedDataDir } from '../helpers/env';

test('mnist_fc_linf, 1 epoch on 10k MNIST images: PGD AE ≤ encoder AE < identity error and EAE > PGD AE', async (t) => {
  const mnist = path.join(sharedDataDir(), 'mnist');
  if (!requirePath(t, mnist, 'shared MNIST')) return;
  const backend = await initBackend({ backend: 'wasm' });
  assert.equal(backend.name, 'wasm');
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-acceptance-'));
  const started = Date.now();
  const trainer = await Trainer.create('mnist_fc_linf', { dataDir: mnist, outDir: out, epochs: 1, limit: 10000 });
  assert.equal(trainer.data.train.count, 10000);
  const result = await trainer.run();
  const trained = Date.now();
  assert.equal(result.status, 'finished');
  assert.equal(trainer.globalStep, 79);
  const epoch = trainer.history[0];
  trainer.dispose();

  const radius = await calibrateRun(out, { passes: 5 });
  const calibrated = Date.now();
  const report = await evaluateRun(out, { limit: 500 });
  const done = Date.now();

  const f = (v: number) => v.toFixed(4);
  console.log(`[acceptance] data: ${(report.dataset as any).images.source.description}; backend ${backend.name}`);
  console.log(`[acceptance] train 1 epoch: loss ${f(epoch.train.loss)} (KL ${f(epoch.train.kl)}, recon ${f(epoch.train.recon)}), validation loss ${f(epoch.validation!.loss)}`);
  console.log(`[acceptance] latent norms (5 × 1000 validation pairs): mean ${f(radius.mean)} std ${f(radius.std)} p25 ${f(radius.p25)} p50 ${f(radius.p50)} p75 ${f(radius.p75)} p99.9 ${f(radius.p999)} max ${f(radius.max)} → radius ${radius.radius}`);
  console.log(`[acceptance] test n=${report.n} radius ${report.radius}: encoder AE ${f(report.encoderAE)}, PGD AE ${f(report.pgdAE)}, expected AE ${f(report.expectedAE)}, over AE ${f(report.overAE)}, KL ${f(report.kl)}, recon ${f(report.recon)}, identity ${f(report.identityError)}`);
  console.log(`[acceptance] seconds: train ${((trained - started) / 1000).toFixed(1)}, radius ${((calibrated - trained) / 1000).toFixed(1)}, eval ${((done - calibrated) / 1000).toFixed(1)}`);

  assert.equal(report.n, 500);
  assert.equal(report.radiusSource, 'calibrated');
  assert.equal(report.radius, radius.radius);
  assert.ok(report.pgdAE <= report.encoderAE, `PGD AE ${report.pgdAE} > encoder AE ${report.encoderAE}`);
  assert.ok(report.encoderAE < report.identityError, `encoder AE ${report.encoderAE} >= identity ${report.identityError}`);
  assert.ok(report.expectedAE > report.pgdAE, `EAE ${report.expectedAE} <= PGD AE ${report.pgdAE}`);
  assert.ok(report.overAE > report.pgdAE, 'maximising inside the ball finds worse members than minimising');
  fs.rmSync(out, { recursive: true, force: true });
});
