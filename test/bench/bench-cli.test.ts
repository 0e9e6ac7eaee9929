/**
 * `pertset bench --json` end to end, tiny (1 timed step, no warm-up): checks the JSON contract
 * and that the memory figures are consistent, never speed. The CVAE-model workloads and the
 * robustness ones (robust-training step, certification throughput) run in separate tests.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { DEPENDENCIES, need, REPO_ROOT } from '../helpers/env';

const MODEL_WORKLOADS = [
  'mnist_fc_cvae_train_step', 'conv_classifier_train_step', 'latent_pgd_step',
  'mnist_conv_cvae_train_step', 'mnist_stn_cvae_train_step', 'mnist_stn_latent_pgd_step',
];
const ROBUSTNESS_WORKLOADS = ['mnist_conv_cvae_attack_train_step', 'mnist_conv_cvae_attack_linf_train_step', 'certification_throughput'];
/** Every workload, in the order `pertset bench` runs them by default. */
const WORKLOADS = [...MODEL_WORKLOADS, ...ROBUSTNESS_WORKLOADS];
const TINY = ['--steps', '1', '--warmup', '0'];
const MiB = 2 ** 20;

interface Workload {
  name: string; ms: unknown; torchMs: unknown; ratio: unknown;
  samplesPerStep: unknown; samplesPerSecond: unknown; torchSamplesPerSecond: unknown;
  peakRssBytes: unknown; tfjsPeakBytes: unknown; tfjsBytes: unknown; wasmHeapBytes: unknown; torchPeakRssBytes: unknown;
}

function bench(args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'bench', '--json', ...args], {
    cwd: REPO_ROOT, encoding: 'utf8', timeout: 10 * 60_000,
  });
  assert.equal(r.status, 0, `pertset bench failed (status ${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1, `stdout must be exactly one JSON line, got:\n${r.stdout}`);
  return JSON.parse(lines[0]) as Record<string, unknown>;
}

function positiveFinite(x: unknown, what: string): void {
  assert.equal(typeof x, 'number', `${what} is not a number: ${String(x)}`);
  assert.ok(Number.isFinite(x as number) && (x as number) > 0, `${what} must be positive and finite, got ${String(x)}`);
}

function checkBackend(out: Record<string, unknown>): void {
  assert.equal(typeof out.backend, 'string');
  assert.equal(typeof out.accelerator, 'string');
  assert.ok(Number.isInteger(out.threads) && (out.threads as number) >= 1, `threads ${String(out.threads)}`);
  assert.ok('native' in out, 'native status is reported');
  if (out.backend === 'wasm') assert.equal(typeof (out.native as { active: unknown }).active, 'boolean');
}

/** Memory figures: RSS between 50 MiB and 16 GiB; the step's tfjs peak at least its live tensors. */
function checkMemory(w: Workload, out: Record<string, unknown>): void {
  for (const key of ['peakRssBytes', 'tfjsPeakBytes', 'tfjsBytes'] as const) positiveFinite(w[key], `${w.name}.${key}`);
  assert.ok((w.peakRssBytes as number) > 50 * MiB && (w.peakRssBytes as number) < 16384 * MiB, `${w.name}.peakRssBytes ${String(w.peakRssBytes)}`);
  assert.ok((w.tfjsPeakBytes as number) >= (w.tfjsBytes as number), `${w.name}: tfjs peak below the live bytes`);
  // The RSS holds every live tensor (on the wasm heap or in JS memory).
  assert.ok((w.peakRssBytes as number) > (w.tfjsBytes as number), `${w.name}: peak RSS below the live tensor bytes`);
  if (out.backend === 'wasm') {
    positiveFinite(w.wasmHeapBytes, `${w.name}.wasmHeapBytes`);
    assert.ok((w.wasmHeapBytes as number) >= (w.tfjsBytes as number), `${w.name}: wasm heap smaller than the live tensors`);
  } else {
    assert.equal(w.wasmHeapBytes, null);
  }
}

/** Time, ratio and memory of a workload run on both sides; a rate's samples/s agree with its ms/step. */
function checkBothSides(w: Workload, out: Record<string, unknown>): void {
  positiveFinite(w.ms, `${w.name}.ms`);
  positiveFinite(w.torchMs, `${w.name}.torchMs`);
  positiveFinite(w.ratio, `${w.name}.ratio`);
  assert.ok(Math.abs((w.ratio as number) - (w.ms as number) / (w.torchMs as number)) < 1e-9 * (w.ratio as number));
  checkMemory(w, out);
  positiveFinite(w.torchPeakRssBytes, `${w.name}.torchPeakRssBytes`);
  assert.ok((w.torchPeakRssBytes as number) > 50 * MiB, `${w.name}.torchPeakRssBytes ${String(w.torchPeakRssBytes)}`);
  if (w.samplesPerStep === null) {
    assert.equal(w.samplesPerSecond, null, `${w.name}: a rate without samples per step`);
    assert.equal(w.torchSamplesPerSecond, null, `${w.name}: a PyTorch rate without samples per step`);
    return;
  }
  positiveFinite(w.samplesPerStep, `${w.name}.samplesPerStep`);
  for (const [rate, ms] of [[w.samplesPerSecond, w.ms], [w.torchSamplesPerSecond, w.torchMs]] as const) {
    positiveFinite(rate, `${w.name} samples/s`);
    const expected = (w.samplesPerStep as number) / ((ms as number) / 1000);
    assert.ok(Math.abs((rate as number) - expected) <= 1e-9 * expected, `${w.name}: ${String(rate)} samples/s, expected ${expected}`);
  }
}

test('pertset bench --json: the CVAE-model workloads, ours and PyTorch, time and memory', (t) => {
  if (!need(t, DEPENDENCIES.torch)) return;
  const out = bench([...TINY, '--only', MODEL_WORKLOADS.join(',')]);
  checkBackend(out);
  assert.equal(typeof out.peakRssPerWorkload, 'boolean');
  const workloads = out.workloads as Workload[];
  assert.deepEqual(workloads.map((w) => w.name), MODEL_WORKLOADS);
  for (const w of workloads) {
    checkBothSides(w, out);
    assert.equal(w.samplesPerStep, null, `${w.name} is timed per step, not as a rate`);
  }
  // A larger model holds more: the STN CVAE's parameters and Adam state exceed mnist_fc's.
  const live = (name: string) => workloads.find((w) => w.name === name)!.tfjsPeakBytes as number;
  assert.ok(live('mnist_stn_cvae_train_step') > live('latent_pgd_step'), 'STN training step peaks above the mnist_fc PGD step');
});

test('pertset bench --json: the robust-training steps and certification throughput, ours and PyTorch', (t) => {
  if (!need(t, DEPENDENCIES.torch)) return;
  const out = bench([...TINY, '--only', ROBUSTNESS_WORKLOADS.join(',')]);
  checkBackend(out);
  const workloads = out.workloads as Workload[];
  assert.deepEqual(workloads.map((w) => w.name), ROBUSTNESS_WORKLOADS);
  for (const w of workloads) checkBothSides(w, out);
  const byName = (name: string) => workloads.find((w) => w.name === name)!;
  // Certification is a rate: 500 decoded-and-classified samples a step (smoothing's default batch).
  assert.equal(byName('certification_throughput').samplesPerStep, 500);
  assert.equal(byName('mnist_conv_cvae_attack_train_step').samplesPerStep, null);
  // Seven PGD steps through the STN generator cost more than through mnist_fc's two dense layers.
  assert.ok((byName('mnist_conv_cvae_attack_train_step').ms as number) > (byName('mnist_conv_cvae_attack_linf_train_step').ms as number),
    'the RTS (mnist_stn) robust step is slower than the l-inf (mnist_fc) one');
});

test('pertset bench --no-torch reports null torchMs and ratio', () => {
  const out = bench([...TINY, '--no-torch', '--only', 'latent_pgd_step']);
  checkBackend(out);
  const workloads = out.workloads as Workload[];
  assert.equal(workloads.length, 1);
  assert.equal(workloads[0].name, 'latent_pgd_step');
  positiveFinite(workloads[0].ms, 'ms');
  assert.equal(workloads[0].torchMs, null);
  assert.equal(workloads[0].ratio, null);
  assert.equal(workloads[0].torchPeakRssBytes, null);
  checkMemory(workloads[0], out);
});

test('pertset bench --only rejects an unknown workload, naming every known one', () => {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'bench', '--only', 'mnist_conv_cvae_train_step,nope'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  const m = /unknown workload "nope"; expected (.*)$/m.exec(r.stderr);
  assert.ok(m, `no list of workloads in: ${r.stderr}`);
  assert.deepEqual(m[1].split(', '), WORKLOADS);
});

test('pertset bench rejects a bad option with a message naming it', () => {
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'bin', 'pertset.js'), 'bench', '--steps', 'zero'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--steps must be an integer >= 1, got "zero"/);
});
