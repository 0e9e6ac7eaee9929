/**
 * `pertset robust-eval`, `pertset certify` and `pertset reproduce robust` on real MNIST with tiny
 * runs trained here (a 1-epoch mnist_fc ℓ∞ set on 512 images, MNISTConv classifiers on 1,024):
 * the JSON each prints, latent PGD never above clean accuracy on a standard model, the OOD
 * protocol (12 training / 3 held-out MNIST-C corruptions: canny_edges costs accuracy, the same
 * seed gives the same corrupted images), no certified radius above σ·Φ⁻¹(α^{1/n}), the table end
 * to end with a rerun that skips every stage and gives the same figures, a table evaluated
 * before its corruption stage existed gaining it without retraining, and bad input refused by name.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../../kernel/api/backend';
import { reproduceRobustTable, ROBUST_TABLE_MARKDOWN, type RobustTableBudget, type RobustTableProgress } from '../../../kernel/api/reproduce/robust-table';
import { ROBUST_EVAL_FILE, ROBUST_EVAL_PNG, ROBUST_OOD_FILE, adversarialExamples, certifyFile, corruptTestSet } from '../../../kernel/api/robust-eval';
import { notebookSet } from '../../../kernel/api/reproduce/robust-table';
import { SUITES } from '../../../kernel/api/corruptions';
import { loadDataset } from '../../../kernel/api/data';
import { maxCertifiableRadius } from '../../../kernel/api/robustness';
import { RobustTrainer } from '../../../kernel/api/robust-train/trainer';
import { Trainer } from '../../../kernel/api/train/trainer';
import { DEPENDENCIES, need, REPO_ROOT, sharedDataDir } from '../../helpers/env';

const BIN = path.join(REPO_ROOT, 'bin', 'pertset.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-robust-eval-'));
// Nine classifier runs with optimiser state take about half a gigabyte.
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]) {
  const env = { ...process.env, PERTSET_BACKEND: 'wasm' };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, env, encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let runs: Promise<{ cvae: string; none: string; smoothing: string }> | null = null;

/** The set and two robust runs, trained once per test process. */
function tinyRuns(): Promise<{ cvae: string; none: string; smoothing: string }> {
  runs ??= (async () => {
    await initBackend();
    const dataDir = sharedDataDir();
    const cvae = path.join(tmp, 'cvae');
    const t = await Trainer.create('mnist_fc_linf', { outDir: cvae, epochs: 1, limit: 512, validationLimit: 64, dataDir, seed: 1 });
    try {
      await t.run();
    } finally {
      t.dispose();
    }
    const train = async (config: string, out: string) => {
      const r = await RobustTrainer.create(config, { cvae: config.includes('cvae') ? cvae : undefined, outDir: out, epochs: 1, limit: 1024, validationLimit: 64, dataDir, seed: 1 });
      try {
        await r.run();
      } finally {
        r.dispose();
      }
      return out;
    };
    return {
      cvae,
      none: await train('mnist_linf_conv_none', path.join(tmp, 'none')),
      smoothing: await train('mnist_linf_conv_cvae_smoothing_746', path.join(tmp, 'smoothing')),
    };
  })();
  return runs;
}

test('robust-eval --json: clean, real perturbations and latent PGD at the set radii; PGD never above clean on a standard model', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const r = await tinyRuns();
  const out = cli('robust-eval', '--run', r.none, '--cvae', r.cvae, '--limit', '64', '--data', sharedDataDir(), '--json');
  assert.equal(out.code, 0, out.stderr);
  const result = JSON.parse(out.stdout);
  for (const k of ['clean', 'perturbed', 'pgd', 'n']) assert.ok(k in result, `missing ${k}`);
  assert.equal(result.n, 64);
  assert.match(out.stderr, /radii \(computed\)/, 'the set has no radius.json: the radii are computed and the output says so');
  assert.deepEqual(result.radii.map((x: { name: string }) => x.name), ['p50', 'p75', 'max']);
  assert.deepEqual(Object.keys(result.pgd), result.radii.map((x: { radius: number }) => String(x.radius)));
  assert.ok(result.clean > 0.2, `a trained classifier: clean accuracy ${result.clean}`);
  for (const [radius, acc] of Object.entries(result.pgd) as [string, number][]) {
    assert.ok(acc >= 0 && acc <= result.clean, `latent PGD at ${radius}: ${acc} must not exceed clean ${result.clean}`);
  }
  assert.ok(result.perturbed >= 0 && result.perturbed <= 1);
  const saved = JSON.parse(fs.readFileSync(path.join(r.none, ROBUST_EVAL_FILE), 'utf8'));
  assert.deepEqual(saved.pgd, result.pgd);
  assert.ok(fs.statSync(path.join(r.none, ROBUST_EVAL_PNG)).size > 1000, 'the adversarial-examples picture is written');
  assert.ok(!fs.existsSync(path.join(r.cvae, 'radius.json')), 'nothing is written into the CVAE run');

  const none = cli('robust-eval', '--run', r.none, '--attack', 'none', '--limit', '64', '--data', sharedDataDir(), '--json');
  assert.equal(none.code, 0, none.stderr);
  const clean = JSON.parse(none.stdout);
  assert.deepEqual([clean.clean, clean.perturbed, clean.pgd], [result.clean, result.perturbed, {}], 'the same images and perturbations with and without the attack');

  // The OOD protocol: the suite's 12 training and 3 held-out corruptions at severity 5.
  assert.deepEqual(Object.keys(result.inDistribution.corruptions), SUITES.mnistc.train);
  assert.deepEqual(Object.keys(result.ood.corruptions), SUITES.mnistc.heldOut);
  assert.deepEqual([result.corruptions.suite, result.corruptions.severity], ['mnistc', 5]);
  const mean = (a: Record<string, number>) => Object.values(a).reduce((x, y) => x + y, 0) / Object.keys(a).length;
  assert.ok(Math.abs(result.ood.mean - mean(result.ood.corruptions)) < 1e-12);
  assert.ok(result.ood.corruptions.canny_edges < result.clean, `strokes replaced by their outlines cost accuracy: canny_edges ${result.ood.corruptions.canny_edges}, clean ${result.clean}`);
  assert.deepEqual([clean.inDistribution, clean.ood], [result.inDistribution, result.ood], 'the same seed gives the same corrupted images');
  assert.deepEqual(saved.ood, result.ood);

  const skipped = cli('robust-eval', '--run', r.none, '--attack', 'none', '--limit', '64', '--data', sharedDataDir(), '--skip-corruptions', '--json');
  assert.equal(skipped.code, 0, skipped.stderr);
  const s = JSON.parse(skipped.stdout);
  assert.deepEqual([s.inDistribution, s.ood, s.corruptions, s.clean], [null, null, null, result.clean]);
  const table = cli('robust-eval', '--run', r.none, '--attack', 'none', '--limit', '64', '--data', sharedDataDir());
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /in-distr\.\s+[\d.]+ %  \(mean over the mnistc suite's 12 training corruptions, severity 5\)/);
  assert.match(table.stdout, /OOD\s+[\d.]+ %  \(mean over its 3 held-out corruptions: gaussian_blur [\d.]+, spatter [\d.]+, canny_edges [\d.]+\)/);
});

test('corruptTestSet: seeded per image (the same bytes for the same seed and image, whatever the batch), new noise for a new seed', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const images = loadDataset('mnist', { dir: sharedDataDir(), split: 'test', limit: 16, padding: 7 });
  const a = await corruptTestSet(images, { seed: 5 });
  const again = await corruptTestSet(images, { seed: 5 });
  const first8 = await corruptTestSet(images.take(8), { seed: 5 });
  const other = await corruptTestSet(images, { seed: 6 });
  assert.deepEqual([...a.images.keys()], [...SUITES.mnistc.train, ...SUITES.mnistc.heldOut]);
  assert.deepEqual(a.shape, [42, 42, 1], 'the corruptions apply to the images as the classifier takes them');
  const size = 42 * 42;
  for (const [name, x] of a.images) {
    assert.deepEqual(again.images.get(name), x, `${name}: same seed, same bytes`);
    assert.deepEqual(first8.images.get(name), x.subarray(0, 8 * size), `${name}: an image's corruption does not depend on how many are corrupted`);
    assert.ok(x.every((v) => v >= 0 && v <= 1), `${name}: values in [0, 1]`);
  }
  for (const name of ['shot_noise', 'impulse_noise', 'spatter']) assert.notDeepEqual(other.images.get(name), a.images.get(name), `${name}: a new seed draws new noise`);
  assert.deepEqual(other.images.get('canny_edges'), a.images.get('canny_edges'), 'canny_edges draws no random numbers');
});

test('adversarialExamples: the first test images and the attack that robust-eval runs; notebookSet names the notebook to run', async (t) => {
  const nowhere = fs.mkdtempSync(path.join(tmp, 'cwd-'));
  assert.throws(() => notebookSet('rts', nowhere), /the learned RTS set .*experiments\/mnist_stn_rts is missing: run notebook 02-mnist-rts-stn first/);
  assert.throws(() => notebookSet('linf', nowhere), /run notebook 01-mnist-linf-perturbation-set first/);
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const r = await tinyRuns();
  fs.mkdirSync(path.join(nowhere, 'experiments'));
  fs.symlinkSync(r.cvae, path.join(nowhere, 'experiments', 'mnist_fc_linf'));
  assert.equal(notebookSet('linf', nowhere), path.join(nowhere, 'experiments', 'mnist_fc_linf'));
  const e = await adversarialExamples(r.none, { cvae: r.cvae, radius: 27, count: 6, dataDir: sharedDataDir() });
  try {
    assert.deepEqual(e.x.shape, [6, 28, 28, 1]);
    assert.deepEqual(e.adversarial.shape, e.x.shape);
    const test = loadDataset('mnist', { dir: sharedDataDir(), split: 'test', limit: 6 });
    assert.deepEqual(e.labels, Array.from(test.labels));
    assert.equal(e.correct, e.predicted.filter((p, i) => p === e.labels[i]).length);
    assert.ok(e.correct <= e.clean.filter((p, i) => p === e.labels[i]).length, 'the attack never helps');
    assert.equal(e.steps, 50);
  } finally {
    e.x.dispose();
    e.adversarial.dispose();
  }
});

test('certify --json: the summary, and no certified radius above σ·Φ⁻¹(α^(1/n))', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const r = await tinyRuns();
  const out = cli('certify', '--run', r.smoothing, '--sigma', '7.46', '--n', '200', '--n0', '20', '--limit', '6', '--batch', '100', '--data', sharedDataDir(), '--json');
  assert.equal(out.code, 0, out.stderr);
  const s = JSON.parse(out.stdout);
  for (const k of ['sigma', 'n', 'alpha', 'certifiedAccuracy', 'averageRadius', 'abstain', 'maxRadius']) assert.ok(k in s, `missing ${k}`);
  assert.deepEqual([s.sigma, s.n, s.alpha, s.count], [7.46, 200, 0.001, 6]);
  const ceiling = maxCertifiableRadius(7.46, 200, 0.001);
  assert.ok(Math.abs(s.maxRadius - ceiling) < 1e-9);
  assert.equal(s.certifiedAccuracy.length, 11);
  assert.equal(s.certifiedAccuracy[10].radius, s.maxRadius);
  for (const e of s.examples) assert.ok(e.radius >= 0 && e.radius <= ceiling + 1e-9, `radius ${e.radius} > ${ceiling}`);
  assert.ok(s.certifiedAccuracy.every((c: { accuracy: number }, i: number, a: { accuracy: number }[]) => i === 0 || c.accuracy <= a[i - 1].accuracy), 'certified accuracy never rises with the radius');
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(r.smoothing, certifyFile(7.46)), 'utf8')).averageRadius, s.averageRadius);
});

test('bad input is refused by name', async (t) => {
  const cases: [string[], RegExp][] = [
    [['robust-eval', '--run', path.join(tmp, 'missing')], /the run folder .*missing does not exist/],
    [['robust-eval'], /--run DIR is required/],
    [['robust-eval', '--run', tmp, '--attack', 'fgsm'], /--attack must be one of pgd, none, got "fgsm"/],
    [['robust-eval', '--run', tmp, '--radius', '0'], /--radius must be a number > 0, got "0"/],
    [['certify', '--run', tmp, '--sigma', '0'], /--sigma must be a number > 0, got "0"/],
    [['certify', '--run', tmp, '--sigma=-2'], /--sigma must be a number > 0/],
    [['certify', '--run', tmp], /--sigma S is required/],
    [['certify', '--run', path.join(tmp, 'missing'), '--sigma', '1'], /the run folder .*missing does not exist/],
    [['certify', '--run', tmp, '--sigma', '1'], /is not a robust training run/],
    [['reproduce', 'robust'], /--set is required: one of linf, rts/],
    [['reproduce', 'robust', '--set', 'cifar'], /--set must be one of linf, rts, got "cifar"/],
    [['reproduce', 'robust', '--set', 'linf', '--budget', 'full'], /--budget must be one of quick, compressed, got "full"/],
    [['reproduce', 'robust', '--set', 'linf'], /experiments\/reproduce-mnist-compressed\/mnist_fc_linf does not exist; create it with `pertset reproduce mnist --only mnist_fc_linf`/],
    [['reproduce', 'robust', '--set', 'linf', '--only', 'none,fgsm'], /--only: unknown method "fgsm"; expected some of none, sample_aug, cvae_aug, cvae_attack, cvae_gaussian/],
    [['reproduce', 'robust', '--set', 'linf', '--only', ','], /--only: give at least one method: some of none, sample_aug/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 1, `${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const r = await tinyRuns();
  const noSet = cli('robust-eval', '--run', r.none, '--limit', '8', '--data', sharedDataDir());
  assert.equal(noSet.code, 1);
  assert.match(noSet.stderr, /trained with attack.type "none", which uses no perturbation set; pass --cvae RUN_DIR/);
});

test('reproduce robust: every method trained, evaluated and certified; a rerun skips every stage with the same figures', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const r = await tinyRuns();
  const budget: RobustTableBudget = { name: 'test', epochs: 1, limit: 256, validationLimit: 64, evalImages: 8, certifyImages: 2, certifyN: 100, certifyN0: 10, alpha: 0.001 };
  const outDir = path.join(tmp, 'table');
  const run = async () => {
    const events: RobustTableProgress[] = [];
    const table = await reproduceRobustTable({ set: 'linf', budget, cvae: r.cvae, outDir, dataDir: sharedDataDir(), callbacks: { onProgress: (p) => events.push(p) } });
    return { table, events };
  };
  const first = await run();
  const rows = first.table.rows;
  assert.deepEqual(rows.map((x) => x.method), ['none', 'sample_aug', 'cvae_aug', 'cvae_attack', 'cvae_gaussian', 'cvae_gaussian', 'cvae_gaussian']);
  assert.deepEqual(rows.slice(4).map((x) => x.sigma), [7.46, 7.63, 8.48]);
  for (const row of rows) {
    assert.equal(row.n, 8);
    assert.equal(row.pgd.length, 3);
    assert.ok([row.clean, row.perturbed, ...row.pgd].every((v) => v >= 0 && v <= 1));
    assert.equal(row.trainImages, 256);
  }
  assert.equal(first.table.certification.length, 3);
  for (const c of first.table.certification) {
    assert.equal(c.images, 2);
    assert.ok(c.certifiedAccuracy.some((x) => x.radius === 0));
    assert.ok(c.averageRadius <= c.maxRadius);
  }
  for (const row of rows) {
    assert.ok([row.inDistribution, row.ood].every((v) => v >= 0 && v <= 1));
    assert.deepEqual(Object.keys(row.corruptions.ood.corruptions), ['gaussian_blur', 'spatter', 'canny_edges']);
    assert.ok(fs.existsSync(path.join(row.runDir, ROBUST_OOD_FILE)));
  }
  assert.equal(first.events.filter((e) => e.stage === 'corrupt' && e.done === e.of).length, 1, 'the test images are corrupted once for all seven classifiers');
  assert.equal(first.table.claims.length, 4);
  assert.match(first.table.claims[2].claim, /at least as good as real-data augmentation on OOD/);
  assert.ok(first.events.some((e) => !e.skipped), 'the first call does the work');
  const md = fs.readFileSync(path.join(outDir, ROBUST_TABLE_MARKDOWN), 'utf8');
  assert.match(md, /\| CVAE adversarial training \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|/);
  assert.match(md, /\| method \| shot_noise \|.*\| \*\*canny_edges\*\* \|/);
  assert.match(md, /\| 7\.46 \| [\d.]+ \|/);

  const second = await run();
  const stages = second.events.filter((e) => e.done === e.of);
  assert.ok(second.events.length > 0 && second.events.every((e) => e.skipped), `every stage skipped on the rerun: ${JSON.stringify(second.events.filter((e) => !e.skipped).slice(0, 3))}`);
  assert.equal(stages.length, 7 * 3 + 3, 'train, eval and ood for 7 methods, certify for 3');
  assert.deepEqual(second.table.rows, first.table.rows);
  assert.deepEqual(second.table.certification, first.table.certification);
  assert.deepEqual(second.table.claims, first.table.claims);

  // A table evaluated before the corruption stage existed: only that stage runs, nothing retrains.
  for (const row of rows) fs.rmSync(path.join(row.runDir, ROBUST_OOD_FILE));
  const mtimes = rows.map((row) => fs.statSync(path.join(row.runDir, ROBUST_EVAL_FILE)).mtimeMs);
  const third = await run();
  const ran = third.events.filter((e) => !e.skipped);
  assert.deepEqual([...new Set(ran.map((e) => e.stage))].sort(), ['corrupt', 'ood'], 'train, eval and certify are reused');
  assert.deepEqual(rows.map((row) => fs.statSync(path.join(row.runDir, ROBUST_EVAL_FILE)).mtimeMs), mtimes, 'robust-eval.json untouched');
  assert.deepEqual(third.table.rows.map((x) => ({ ...x, oodSeconds: 0 })), first.table.rows.map((x) => ({ ...x, oodSeconds: 0 })), 'the same corrupted images give the same accuracies');

  // One method at a time keeps the other rows of the folder's table.
  fs.rmSync(path.join(rows[0].runDir, ROBUST_OOD_FILE));
  const events: RobustTableProgress[] = [];
  const one = await reproduceRobustTable({ set: 'linf', budget, cvae: r.cvae, outDir, dataDir: sharedDataDir(), methods: ['none'], callbacks: { onProgress: (p) => events.push(p) } });
  assert.deepEqual([...new Set(events.map((e) => e.config))], ['mnist_linf_conv_none']);
  assert.equal(one.rows.length, 7);
  assert.equal(one.certification.length, 3);
  assert.deepEqual(one.rows[0].ood, first.table.rows[0].ood);
});

test('reproduce robust --only: the CLI runs just the methods named', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const r = await tinyRuns();
  const outDir = path.join(tmp, 'only');
  const out = cli('reproduce', 'robust', '--set', 'linf', '--budget', 'quick', '--only', 'none', '--cvae', r.cvae, '--out', outDir, '--data', sharedDataDir(), '--json');
  assert.equal(out.code, 0, out.stderr);
  const table = JSON.parse(out.stdout) as { rows: { config: string; method: string }[]; certification: unknown[] };
  assert.deepEqual(table.rows.map((x) => x.config), ['mnist_linf_conv_none']);
  assert.deepEqual(table.certification, [], 'no smoothing run was asked for');
  assert.match(out.stderr, /\[1\/1\] mnist_linf_conv_none/);
  assert.doesNotMatch(out.stderr, /sample_aug|cvae_attack|smoothing_/);
  assert.deepEqual(fs.readdirSync(outDir).filter((f) => f.startsWith('mnist_')), ['mnist_linf_conv_none'], 'only that run folder is written');
});
