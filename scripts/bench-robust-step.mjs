#!/usr/bin/env node
// One `cvae_attack` robust-training step (MNISTConv, batch 128, latent PGD 7 steps at α = ε/5,
// per-example max(clean, adversarial) CE, Adam) against an mnist_fc and an mnist_stn CVAE:
// median ms of timed steps after warm-up, ours and PyTorch's twin (scripts/torch/robust_step_bench.py)
// interleaved in rounds, since the machine's load drifts. Usage: node scripts/bench-robust-step.mjs [rounds]
// (BENCH_STEPS, BENCH_WARMUP: timed and warm-up steps, default 5 and 2; BENCH_ARCHS: default mnist_fc,mnist_stn)
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const p = require(path.join(root, 'dist/kernel/api'));
const { createAdam } = require(path.join(root, 'dist/kernel/api/train/optimizer'));
const { tf } = p;
const rounds = Number(process.argv[2] ?? 3);
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

const STEPS = Number(process.env.BENCH_STEPS ?? 5);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const ARCHS = (process.env.BENCH_ARCHS ?? 'mnist_fc,mnist_stn').split(',');

async function ours(arch, steps = STEPS, warmup = WARMUP) {
  const side = arch === 'mnist_stn' ? 42 : 28;
  const config = p.config.loadRobustConfig(arch === 'mnist_stn' ? 'mnist_rts_conv_cvae_attack' : 'mnist_linf_conv_cvae_attack');
  const cvae = p.models.createCVAE(arch, { seed: 1 });
  const clf = p.classifiers.createClassifier({ architecture: 'mnist_conv', inputShape: [side, side, 1] }, { seed: 1 });
  const vars = clf.trainableVariables();
  const adam = createAdam(vars, vars.map((v, i) => String(i)));
  const batch = { x: tf.randomUniform([128, side, side, 1], 0, 1, 'float32', 1), y: tf.randomUniform([128], 0, 10, 'int32', 2) };
  batch.xPerturbed = batch.x;
  const times = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    const s = await p.robustTrain.robustGradients(config, clf, cvae, vars, batch, i);
    adam.apply(s.grads, 1e-3);
    tf.dispose(s.grads);
    await vars[0].data();
    if (i >= warmup) times.push(performance.now() - t0);
  }
  tf.dispose([batch.x, batch.y]);
  adam.dispose(); clf.dispose(); cvae.dispose();
  return median(times);
}

function torchTwin(arch) {
  const py = process.env.PERTSET_PYTHON ?? '/usr/bin/python3';
  const r = spawnSync(py, [path.join(root, 'scripts/torch/robust_step_bench.py'), arch, String(STEPS), String(WARMUP)], { encoding: 'utf8' });
  if (r.status !== 0) return { error: r.stderr.trim().split('\n').pop() };
  return JSON.parse(r.stdout);
}

const info = await p.initBackend();
const results = { backend: info.name, rounds: [] };
for (let r = 0; r < rounds; r++) {
  for (const arch of ARCHS) {
    const mine = await ours(arch);
    const twin = torchTwin(arch);
    results.rounds.push({ arch, oursMs: Math.round(mine), torchMs: twin.ms === undefined ? twin : Math.round(twin.ms) });
    console.error(JSON.stringify(results.rounds.at(-1)));
  }
}
for (const arch of ARCHS) {
  const rs = results.rounds.filter((x) => x.arch === arch);
  results[arch] = { oursMedianMs: median(rs.map((x) => x.oursMs)), torchMedianMs: median(rs.map((x) => x.torchMs).filter((x) => typeof x === 'number')) };
}
console.log(JSON.stringify(results));
process.exit(0);
