/**
 * The posterior-collapse flag on real models: a CVAE trained with a huge β (q pushed onto p, the
 * generator taught to ignore z) is flagged; the same CVAE trained with a normal β is not.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { calibrateRadius, collapseDiagnostics, evaluatePerturbationSet } from '../../../kernel/api/evaluate';
import { collapseTable, evaluationTable } from '../../../kernel/api/display';
import { MIME, MIME_BUNDLE } from '../../../kernel/contract/mime';
import { PerturbationSet } from '../../../kernel/api/models/perturbation-set';
import { loadDataset } from '../../../kernel/api/data/load';
import { createPairSource } from '../../../kernel/api/pairs';
import { LinfPerturbation } from '../../../kernel/api/perturbations';
import { Trainer } from '../../../kernel/api/train';
import * as path from 'path';
import { builtinConfigDir, fromReferenceConfig, readJsonFile, type ReferenceConfig } from '../../../kernel/api/config';
import { tmpDir } from '../train/fixtures';

/**
 * mnist_fc_linf's own recipe shortened to one epoch on 3,000 embedded (Fashion-MNIST) images
 * (β = 0 in that epoch, as the reference's warm-up), or the same with a constant β = `beta`;
 * evaluated at the calibrated ε on 64 test pairs.
 */
async function trainAndEvaluate(beta?: number) {
  const json = readJsonFile(path.join(builtinConfigDir(), 'mnist_fc_linf.json')) as ReferenceConfig;
  if (beta !== undefined) json.training.beta_schedule = [[0], [beta]];
  const config = fromReferenceConfig(json, 'mnist_fc_linf', { epochs: 1, outDir: tmpDir('collapse') });
  const linf = new LinfPerturbation({ epsilon: 0.3, min: 0, max: 1 });
  const pairs = (split: 'train' | 'test', limit: number, shuffle: boolean) =>
    createPairSource(loadDataset('embedded', { split, limit }), linf, { seed: 1, shuffle, stream: split });
  const data = { train: pairs('train', 3000, true), val: pairs('test', 64, false) };
  const trainer = await Trainer.create(config, { data, persist: false });
  await trainer.run();
  const { radius } = await calibrateRadius(trainer.model, data.val, { passes: 1 });
  const set = new PerturbationSet(trainer.model, radius);
  const report = await evaluatePerturbationSet(set, pairs('test', 64, false), { attack: { steps: 5 }, overApproximation: false, seed: 1 });
  trainer.model.dispose();
  return report;
}

test('the collapse flag fires on a β-huge model and not on a normally trained one', async () => {
  const collapsed = await trainAndEvaluate(100);
  const trained = await trainAndEvaluate();
  console.log(JSON.stringify({ collapsed: collapsed.collapse, trained: trained.collapse }));
  assert.equal(collapsed.collapse.collapsed, true, collapsed.collapse.reason);
  assert.match(collapsed.collapse.reason, /^posterior collapse: /);
  assert.equal(trained.collapse.collapsed, false, trained.collapse.reason);
  assert.ok(collapsed.sampleSpread < trained.sampleSpread / 3, `spread ${collapsed.sampleSpread} vs ${trained.sampleSpread}`);
  const rows = [{ name: 'β = 100', report: collapsed }, { name: 'reference β', report: trained }];
  const table = evaluationTable(rows)[MIME_BUNDLE]().data[MIME.plain] as string;
  assert.match(table, /collapse/);
  assert.match(table, /COLLAPSED/);
  const signals = collapseTable(rows)[MIME_BUNDLE]().data[MIME.plain] as string;
  assert.match(signals, /KL per dim \(fires < 0\.05\)/);
  assert.match(signals, /COLLAPSED +posterior collapse: /);
  assert.match(signals, /β = 100/);
});

test('collapseDiagnostics needs two of three signals and says which fired', () => {
  const one = collapseDiagnostics({ kl: 1, encoderAE: 0.3, expectedAE: 0.4, sampleSpread: 0.05 }, 100);
  assert.equal(one.collapsed, false);
  assert.equal(one.klPerDim.value, 0.01);
  assert.equal(one.klPerDim.fired, true);
  assert.match(one.reason, /^no collapse \(one signal of three: KL per dimension/);
  const two = collapseDiagnostics({ kl: 1, encoderAE: 0.3, expectedAE: 0.303, sampleSpread: 0.05 }, 100);
  assert.equal(two.collapsed, true);
  assert.match(two.reason, /EAE 1\.0 % above the encoder AE \(fires below 5 % above\)/);
  const none = collapseDiagnostics({ kl: 576, encoderAE: 0.2632, expectedAE: 0.3177, sampleSpread: 0.049 }, 784);
  assert.equal(none.collapsed, false, 'the full-schedule ℓ∞ set of the paper is healthy');
  assert.ok(!none.klPerDim.fired && !none.eaeGap.fired && !none.sampleSpread.fired);
  assert.throws(() => collapseDiagnostics({ kl: 1, encoderAE: 1, expectedAE: 1, sampleSpread: 1 }, 0), /latentDim must be a positive integer/);
});
