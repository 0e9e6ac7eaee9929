/**
 * `pertset reproduce mnist`: bad arguments are refused by name before anything runs (with no
 * target, `reproduce` runs the notebooks: test/report/); on real
 * MNIST the quick budget trains, calibrates and evaluates, writes the table, and a second call
 * resumes from the run folder (every stage already done, the same figures), keeping the rows of
 * configs an earlier call ran; `mnistTableRow` reads that run folder again without training (what
 * notebook 03 does), reusing what is current and recomputing what is not. The limited-data
 * ordering's verdict is checked on its own.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../../../kernel/api/backend';
import { ConfigError } from '../../../kernel/api/errors';
import { limitedDataOrdering, mnistTableRow, MNIST_TABLE_FILE, MNIST_TABLE_MARKDOWN, type MnistTable, type MnistTableRow } from '../../../kernel/api/reproduce/mnist-table';
import { DEPENDENCIES, need, REPO_ROOT, sharedDataDir } from '../../helpers/env';

const BIN = path.join(REPO_ROOT, 'bin', 'pertset.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-reproduce-'));

function cli(...args: string[]) {
  const env = { ...process.env, PERTSET_BACKEND: 'wasm' };
  const r = spawnSync(process.execPath, [BIN, 'reproduce', ...args], { cwd: tmp, env, encoding: 'utf8', timeout: 300_000, killSignal: 'SIGKILL' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('bad arguments are refused by name, before any training', () => {
  const cases: [string[], RegExp][] = [
    [['--budget', 'quick'], /--budget belongs to "pertset reproduce mnist\|robust"; the notebooks take/],
    [['cifar'], /expected no target \(the notebooks\), "mnist" or "robust".*got "cifar"/],
    [['mnist', '--quick'], /--quick belongs to the notebooks/],
    [['mnist', '--budget', 'huge'], /--budget must be one of quick, compressed, full, got "huge"/],
    [['mnist', '--only', 'mnist_fc_linf,mnist_fc_rts'], /--only: unknown config "mnist_fc_rts"/],
    [['mnist', '--epochs', '3'], /Unknown option '--epochs'/],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 1, `reproduce ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
    assert.match(r.stderr, message);
    assert.ok(!fs.existsSync(path.join(tmp, 'experiments')), 'nothing may be written for refused arguments');
  }
});

test('the quick budget on real MNIST writes the table, and a second call resumes with every stage done', (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const out = path.join(tmp, 'quick');
  const args = ['mnist', '--budget', 'quick', '--only', 'mnist_fc_linf', '--out', out, '--data', sharedDataDir(), '--json'];
  const first = cli(...args);
  assert.equal(first.code, 0, first.stderr);
  const table = JSON.parse(first.stdout) as MnistTable;
  assert.equal(table.budget, 'quick');
  assert.equal(table.rows.length, 1);
  const row = table.rows[0];
  assert.equal(row.config, 'mnist_fc_linf');
  assert.equal(row.referenceRadius, 28);
  assert.deepEqual([row.budget.epochs, row.budget.trainImages, row.eval.n], [1, 2000, 200]);
  assert.equal(row.eval.radius, 28, 'rows are evaluated at the reference config\u2019s ε');
  assert.ok(row.calibratedRadius === Math.ceil(row.maxLatentNorm) && row.maxLatentNorm > 0);
  for (const v of [row.eval.encoderAE, row.eval.pgdAE, row.eval.expectedAE, row.eval.kl, row.eval.mse.pgdAE]) assert.ok(Number.isFinite(v) && v > 0);
  assert.equal(table.limitedData, null, 'no ordering without the three RTS rows');
  const md = fs.readFileSync(path.join(out, MNIST_TABLE_MARKDOWN), 'utf8');
  assert.match(md, /\| ℓ∞ FC \| \d+ \(\d+\.\d\d\) \| 28 \|/);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(out, MNIST_TABLE_FILE), 'utf8')).rows[0].eval.pgdAE, row.eval.pgdAE);

  // A row another call wrote (--only another config) is kept, in the table's order.
  const written = JSON.parse(fs.readFileSync(path.join(out, MNIST_TABLE_FILE), 'utf8')) as MnistTable;
  written.rows.unshift({ ...written.rows[0], config: 'mnist_stn_rts' });
  fs.writeFileSync(path.join(out, MNIST_TABLE_FILE), JSON.stringify(written));

  const second = cli(...args);
  assert.equal(second.code, 0, second.stderr);
  for (const stage of ['train', 'radius', 'eval']) assert.match(second.stderr, new RegExp(`${stage}: already done in the run folder`));
  const again = JSON.parse(second.stdout) as MnistTable;
  assert.deepEqual(again.rows.map((r) => r.config), ['mnist_fc_linf', 'mnist_stn_rts']);
  assert.match(fs.readFileSync(path.join(out, MNIST_TABLE_MARKDOWN), 'utf8'), /\| RTS \| /);
  assert.equal(again.rows[0].eval.pgdAE, row.eval.pgdAE);
  assert.equal(again.rows[0].maxLatentNorm, row.maxLatentNorm);
});

test('mnistTableRow reads a trained run folder: reuses current files, recomputes stale ones, refuses another config', async (t) => {
  if (!need(t, DEPENDENCIES.sharedMnist)) return;
  const runDir = path.join(tmp, 'quick', 'mnist_fc_linf');
  if (!fs.existsSync(path.join(runDir, 'eval.json'))) return t.skip('the quick-budget test above did not leave its run folder');
  await initBackend();
  const table = JSON.parse(fs.readFileSync(path.join(tmp, 'quick', MNIST_TABLE_FILE), 'utf8')) as MnistTable;
  const stages = (events: string[]) => ({ onProgress: (stage: string, done: number, of: number, skipped?: boolean) => void (skipped ? events.push(`${stage} reused`) : done === of && events.push(`${stage} computed`)) });

  // Everything current, and fewer test pairs wanted than eval.json holds: both files reused.
  const reused: string[] = [];
  const row = await mnistTableRow('mnist_fc_linf', runDir, { evalLimit: 100, dataDir: sharedDataDir(), ...stages(reused) });
  assert.deepEqual(reused, ['radius reused', 'eval reused']);
  assert.equal(row.eval.pgdAE, table.rows.find((r) => r.config === 'mnist_fc_linf')?.eval.pgdAE);
  assert.deepEqual([row.budget.epochs, row.budget.trainImages, row.eval.n, row.referenceRadius], [1, 2000, 200, 28]);

  // Norms missing and more test pairs wanted: calibrated and evaluated again, the files rewritten.
  fs.rmSync(path.join(runDir, 'radius-norms.json'));
  const redone: string[] = [];
  const fresh = await mnistTableRow('mnist_fc_linf', runDir, { evalLimit: 256, attackSteps: 2, validationLimit: 100, radiusPasses: 1, dataDir: sharedDataDir(), ...stages(redone) });
  assert.deepEqual(redone, ['radius computed', 'eval computed']);
  assert.equal(fresh.eval.n, 256);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'eval.json'), 'utf8')).n, 256);
  assert.equal(JSON.parse(fs.readFileSync(path.join(runDir, 'radius-norms.json'), 'utf8')).n, 100);

  await assert.rejects(mnistTableRow('mnist_stn_rts', runDir), (e: Error) => e instanceof ConfigError && /is a run of mnist_fc_linf, not of mnist_stn_rts/.test(e.message));
  await assert.rejects(mnistTableRow('mnist_fc_linf', path.join(tmp, 'nowhere')), /run directory .*nowhere does not exist/);
});

test('the limited-data ordering: k = 1 above k = 5, and k = 5 at least roughly fresh', () => {
  const rows = (fresh: number, k5: number, k1: number) =>
    ([['mnist_stn_rts', fresh], ['mnist_stn_rts_limited_5', k5], ['mnist_stn_rts_limited_1', k1]] as const).map(
      ([config, pgdAE]) => ({ config, eval: { pgdAE } }) as unknown as MnistTableRow,
    );
  assert.equal(limitedDataOrdering(rows(0.05, 0.06, 0.08))?.holds, true);
  assert.equal(limitedDataOrdering(rows(0.05, 0.049, 0.08))?.holds, true, '≳ allows k = 5 slightly below fresh');
  assert.equal(limitedDataOrdering(rows(0.05, 0.04, 0.08))?.holds, false, 'k = 5 well below fresh');
  assert.equal(limitedDataOrdering(rows(0.05, 0.06, 0.055))?.holds, false, 'k = 1 below k = 5');
  assert.equal(limitedDataOrdering(rows(0.05, 0.06, 0.08).slice(1)), null);
});
