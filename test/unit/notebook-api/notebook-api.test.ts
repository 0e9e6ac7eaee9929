/**
 * What the notebooks call besides the core API: run modes, the paper's claims, comparing sets at
 * one radius, the draws a model sees of one image, and the result tables.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../../kernel/api/backend';
import { loadDataset } from '../../../kernel/api/data/load';
import { claimsTable, evaluationTable } from '../../../kernel/api/display';
import { MIME, MIME_BUNDLE } from '../../../kernel/contract/mime';
import { ArgumentError } from '../../../kernel/api/errors';
import { collapseDiagnostics, compareSets, limitedDataClaims, qualityClaims, type EvaluationReport } from '../../../kernel/api/evaluate';
import { createCVAE } from '../../../kernel/api/models';
import { PerturbationSet } from '../../../kernel/api/models/perturbation-set';
import { createPairSource } from '../../../kernel/api/pairs';
import { createPerturbation } from '../../../kernel/api/perturbations';
import { runMode } from '../../../kernel/api/run-mode';

before(async () => {
  await initBackend();
});

function report(bce: { encoder: number; pgd: number; expected: number }, mse: { encoder: number; pgd: number; identity: number }): EvaluationReport {
  return {
    encoderAE: bce.encoder, pgdAE: bce.pgd, expectedAE: bce.expected, overAE: 0, kl: 10, recon: bce.encoder, identityError: 6.27, entropyFloor: 0.22,
    mse: { encoderAE: mse.encoder, pgdAE: mse.pgd, expectedAE: mse.encoder, identityError: mse.identity }, radius: 14, n: 100,
    sampleSpread: 0.05, collapse: collapseDiagnostics({ kl: 10, encoderAE: bce.encoder, expectedAE: bce.expected, sampleSpread: 0.05 }, 128),
  };
}

test('runMode picks the named preset, adds the mode and refuses unknown or missing modes', () => {
  const presets = { smoke: { steps: 1 }, quick: { steps: 10 }, full: { steps: 100 } };
  assert.deepEqual(runMode(presets, { mode: 'smoke', log: false }), { steps: 1, mode: 'smoke' });
  assert.throws(() => runMode(presets, { mode: 'fast', log: false }), (e: unknown) => e instanceof ArgumentError && /one of smoke, quick, full \(PERTSET_NOTEBOOK_MODE\), got "fast"/.test(e.message));
  assert.throws(() => runMode({ smoke: {}, quick: {} } as never, { mode: 'quick', log: false }), /settings for full are missing/);
});

test('quality claims follow the figures: MSE against identity, EAE against PGD', () => {
  const good = qualityClaims(report({ encoder: 0.3, pgd: 0.25, expected: 0.4 }, { encoder: 0.01, pgd: 0.008, identity: 0.016 }));
  assert.deepEqual(good.map((c) => c.holds), [true, true, true]);
  const collapsed = qualityClaims(report({ encoder: 0.3, pgd: 0.3, expected: 0.29 }, { encoder: 0.02, pgd: 0.017, identity: 0.016 }), { name: 'k = 1' });
  assert.deepEqual(collapsed.map((c) => c.holds), [false, false, false]);
  assert.match(collapsed[0].claim, /^k = 1: /);
  assert.match(collapsed[0].ours, /0\.01700 vs identity 0\.01600/);
  const table = claimsTable(collapsed)[MIME_BUNDLE]().data[MIME.plain] as string;
  assert.match(table, /^not at this budget {2}k = 1: the set contains/m);
});

test('the limited-data ordering: k = 1 > k = 5 ≳ fresh, and k = 1 far below identity', () => {
  const r = (pgd: number, msePgd: number) => report({ encoder: pgd, pgd, expected: pgd + 0.1 }, { encoder: msePgd, pgd: msePgd, identity: 0.07 });
  const paper = limitedDataClaims({ fresh: r(0.06, 0.01), k5: r(0.059, 0.011), k1: r(0.08, 0.02) });
  assert.deepEqual(paper.map((c) => c.holds), [true, true, true], 'k = 5 within 5 % below fresh counts as ≳');
  const inverted = limitedDataClaims({ fresh: r(0.08, 0.02), k5: r(0.07, 0.02), k1: r(0.06, 0.05) });
  assert.deepEqual(inverted.map((c) => c.holds), [false, false, false]);
});

test('compareSets evaluates every set on the same pairs at the largest radius, in order', async () => {
  const ds = loadDataset('embedded', { split: 'test', limit: 8 });
  const pairs = createPairSource(ds, createPerturbation({ type: 'linfinity' }), { shuffle: false });
  const model = createCVAE('mnist_fc', { seed: 3 });
  const rows = await compareSets({ small: new PerturbationSet(model, 2), large: new PerturbationSet(model, 5) }, pairs, { attack: { steps: 2 }, overApproximation: false });
  assert.deepEqual(rows.map((r) => [r.name, r.report.radius, r.report.n]), [['small', 5, 8], ['large', 5, 8]]);
  assert.equal(rows[0].report.pgdAE, rows[1].report.pgdAE, 'the same model at the same radius gives the same figures');
  const text = evaluationTable(rows)[MIME_BUNDLE]().data[MIME.plain] as string;
  assert.match(text, /MSE identity/);
  await assert.rejects(compareSets({}, pairs), /give at least one named PerturbationSet/);
  await assert.rejects(compareSets({ x: {} as PerturbationSet }, pairs), /"x" is not a PerturbationSet/);
  model.dispose();
});

test('tensorDraws shows what a model sees of one image: k = 1 always the same x̃, fresh RTS never', () => {
  const ds = loadDataset('embedded', { split: 'train', limit: 4, padding: 7 });
  const draws = (config: Parameters<typeof createPerturbation>[0]) => {
    const b = createPairSource(ds, createPerturbation(config), { seed: 1 }).tensorDraws(2, 4);
    const clean = tf.unstack(b.x).map((t) => Array.from(t.dataSync()));
    assert.ok(clean.every((r) => r.every((v, i) => v === clean[0][i])), 'x is image 2 every time');
    const rows = tf.unstack(b.xPerturbed).map((t) => Array.from(t.dataSync()));
    tf.dispose([b.x, b.xPerturbed]);
    return rows;
  };
  const k1 = draws({ type: 'rts_limited', k: 1 });
  assert.ok(k1.every((r) => r.every((v, i) => v === k1[0][i])), 'one banked perturbation');
  const fresh = draws({ type: 'rts' });
  assert.ok(fresh.slice(1).every((r) => r.some((v, i) => v !== fresh[0][i])), 'fresh draws differ');
  assert.throws(() => createPairSource(ds, createPerturbation({ type: 'rts' })).tensorDraws(4, 2), /index must be an integer in \[0, 4\), got 4/);
});
