import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initBackend } from '../../../kernel/api/backend';
import {
  createPerturbation,
  perturbationsForConfig,
  referencePerturbations,
  REFERENCE_PERTURBATIONS,
  LimitedRtsPerturbation,
  LinfPerturbation,
  RtsPerturbation,
  IdentityPerturbation,
} from '../../../kernel/api/perturbations';
import { ArgumentError } from '../../../kernel/api/errors';

before(async () => {
  await initBackend();
});

test('registry: reference config names and perturbation types', () => {
  assert.deepEqual(Object.keys(REFERENCE_PERTURBATIONS), ['mnist_fc_linf', 'mnist_conv_linf', 'mnist_stn_rts', 'mnist_stn_rts_limited_1', 'mnist_stn_rts_limited_5']);
  const fc = referencePerturbations('mnist_fc_linf');
  assert.ok(fc.train instanceof LinfPerturbation && fc.test instanceof LinfPerturbation);
  assert.equal((fc.train as LinfPerturbation).epsilon, 0.3);
  assert.equal(fc.padding, 0);
  const stn = referencePerturbations('mnist_stn_rts');
  assert.ok(stn.train instanceof RtsPerturbation && stn.padding === 7);
  const lim = referencePerturbations('mnist_stn_rts_limited_5');
  assert.ok(lim.train instanceof LimitedRtsPerturbation && (lim.train as LimitedRtsPerturbation).k === 5);
  assert.ok(lim.test instanceof RtsPerturbation && !(lim.test instanceof LimitedRtsPerturbation));
  assert.throws(() => referencePerturbations('cifar10_c_rectangle'), /no reference perturbation for config "cifar10_c_rectangle"/);

  assert.ok(createPerturbation({ type: 'linf', epsilon: 0.1 }) instanceof LinfPerturbation);
  assert.ok(createPerturbation({ type: 'none' }) instanceof IdentityPerturbation);
  const snake = createPerturbation({ type: 'rts', crop_sz: 42, padding: 7, angle: 30 }) as RtsPerturbation;
  assert.deepEqual([snake.cropSize, snake.angle], [42, 30]);
  assert.throws(() => createPerturbation({ type: 'blur' } as never), (e: unknown) => e instanceof ArgumentError && /unknown perturbation type "blur"/.test(e.message));
});

test('perturbationsForConfig: "dataloader" becomes the limited RTS bank with the test parameters and dataset.k', () => {
  const rts = { type: 'rts' as const, angle: 45, scale: [0.7, 1.3] as [number, number], cropSize: 42, padding: 7 };
  const { train, test: testP } = perturbationsForConfig({ perturbation: { train: { type: 'dataloader' }, test: rts }, dataset: { k: 1 } });
  assert.ok(train instanceof LimitedRtsPerturbation);
  assert.deepEqual([train.k, train.angle, train.padding], [1, 45, 7]);
  assert.ok(testP instanceof RtsPerturbation);
  assert.throws(() => perturbationsForConfig({ perturbation: { train: { type: 'dataloader' }, test: rts }, dataset: { k: null } }), /needs a dataset with a bank/);
  const linf = perturbationsForConfig({ perturbation: { train: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 }, test: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 } } });
  assert.deepEqual(linf.train.describe(), { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 });
});
