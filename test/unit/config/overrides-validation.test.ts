/**
 * Overrides (epochs, batch size, limits, ...) apply to a config only after it validated as written,
 * on every path: `loadConfig`, `fromReferenceConfig`, `applyOverrides` and `Trainer.create`.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { applyOverrides, fromReferenceConfig, loadConfig } from '../../../kernel/api/config';
import { ConfigError } from '../../../kernel/api/errors';
import type { ReferenceConfig } from '../../../kernel/api/config/reference-schema';
import { Trainer } from '../../../kernel/api/train/trainer';

function withoutTraining(): ReferenceConfig {
  const json = JSON.parse(JSON.stringify(loadConfig('mnist_fc_linf').json));
  delete json.training;
  return json;
}

const missingTraining = (e: unknown) => e instanceof ConfigError && /training: missing section/.test((e as Error).message);

test('overrides on a config without a training section report the missing section', async () => {
  assert.throws(() => applyOverrides(withoutTraining(), { epochs: 2 }), missingTraining);
  assert.throws(() => fromReferenceConfig(withoutTraining(), 'x.json', { epochs: 2 }), (e: unknown) => missingTraining(e) && /^x\.json: /.test((e as Error).message));
  assert.throws(() => fromReferenceConfig(withoutTraining(), 'x.json', { batchSize: 8 }), missingTraining);
  assert.throws(() => fromReferenceConfig(withoutTraining(), 'x.json'), missingTraining);
  const valid = loadConfig('mnist_fc_linf');
  const broken = { ...valid, json: withoutTraining() };
  await assert.rejects(Trainer.create(broken, { epochs: 1, persist: false }), missingTraining);
});

test('overrides still apply to a valid config', () => {
  const c = fromReferenceConfig(loadConfig('mnist_fc_linf').json, 'x.json', { epochs: 2, batchSize: 8 });
  assert.equal(c.training.epochs, 2);
  assert.equal(c.training.batchSize, 8);
});
