#!/usr/bin/env node
/**
 * Step parity: pertset and the PyTorch twin take the same few training steps from the same initial
 * weights on the same batches with the same reparameterisation noise, and we compare the losses
 * of every step, every parameter's gradient at step 1 and the parameters after the last step.
 * A difference at step 1 is a numerical one (an op's forward or gradient); one that only builds
 * up over many steps is the chaos of training. Run `node scripts/parity/step-parity.mjs --help`.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const TWIN = path.join(REPO, 'scripts', 'torch', 'twin_steps.py');
/** Biases followed by a training-mode batch norm, which subtracts the batch mean: their gradient is 0 up to rounding on both sides. */
const CANCELLED_BY_BATCH_NORM = /block\.conv1\.bias$/;

const USAGE = `usage: node scripts/parity/step-parity.mjs [--config NAME|FILE] [--steps K] [--lr X] [--beta B] [--seed S]
         [--off-identity] [--data DIR] [--out DIR] [--json]

Takes K training steps in pertset and in the PyTorch twin from pertset's initial weights, on the
same batches (drawn by the twin from the first K × batch training images) and the same noise, and
prints per step recon and KL (per example) and the gradient norm on both sides, then the
parameters whose step-1 gradients differ most (leaving out the biases just before a training-mode
batch norm, whose gradient is zero up to rounding).
  --config NAME|FILE   an MNIST config (default mnist_stn_rts)
  --steps K            steps (default 5)
  --lr X               constant learning rate (default the config's peak)
  --beta B             KL weight (default 1)
  --seed S             seed of the initial weights, batches and noise (default the config's)
  --off-identity       move each spatial transformer's initial map a fraction of a pixel off the
                       identity, where the sampled coordinates are whole pixels and the bilinear
                       sampler's gradient is one-sided (see the README, "Training parity")
  --data DIR           folder holding mnist/ (default $PERTSET_DATA)
  --out DIR            output folder (default runs/parity/steps-<config>)
  --json               print the result as JSON`;

function fail(message, code = 2) {
  process.stderr.write(`step-parity: ${message}\n`);
  process.exit(code);
}

function relDiff(a, b) {
  let d = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    d += (a[i] - b[i]) ** 2;
    n += b[i] * b[i];
  }
  return Math.sqrt(d) / Math.max(Math.sqrt(n), 1e-30);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string' }, steps: { type: 'string' }, lr: { type: 'string' }, beta: { type: 'string' }, seed: { type: 'string' },
        'off-identity': { type: 'boolean' }, data: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`${e.message}\n${USAGE}`);
  }
  if (values.help) return void process.stdout.write(USAGE + '\n');
  const num = (name, fallback, ok) => {
    if (values[name] === undefined) return fallback;
    const v = Number(values[name]);
    if (!ok(v)) fail(`--${name}: invalid value "${values[name]}"`);
    return v;
  };
  const dist = path.join(REPO, 'dist', 'kernel', 'api');
  if (!fs.existsSync(path.join(dist, 'index.js'))) fail(`${dist} not found: build pertset first (npm run build:ts)`);
  const api = require(path.join(dist, 'index.js'));
  const { createAdam } = require(path.join(dist, 'train', 'optimizer.js'));
  const { permute4d, torchKeyOf, toTorchLayout } = require(path.join(dist, 'interop', 'torch-names.js'));
  const { tf, interop, models } = api;
  const configName = values.config ?? 'mnist_stn_rts';
  let config;
  try {
    config = api.loadConfig(configName);
  } catch (e) {
    fail(e.message);
  }
  const arch = config.model.architecture;
  if (!arch.startsWith('mnist_')) fail(`${configName}: the twin covers the MNIST CVAEs only, not ${arch}`);
  const steps = num('steps', 5, (v) => Number.isInteger(v) && v >= 1);
  const lr = num('lr', Math.max(...config.training.lr.values), (v) => v >= 0);
  const beta = num('beta', 1, (v) => v >= 0);
  const seed = num('seed', config.seed, (v) => Number.isInteger(v) && v >= 0);
  const data = values.data ?? process.env.PERTSET_DATA;
  if (!data) fail('no data folder: pass --data DIR (a folder holding mnist/) or set PERTSET_DATA');
  const configFile = fs.existsSync(configName) ? path.resolve(configName) : path.join(REPO, 'kernel', 'configs', `${configName}.json`);
  const out = path.resolve(values.out ?? path.join('runs', 'parity', `steps-${path.basename(configName, '.json')}`));
  fs.mkdirSync(out, { recursive: true });

  await api.initBackend();
  const model = models.createCVAE(arch, { seed, size: config.model.size });
  try {
    if (values['off-identity']) {
      // A shift of 0.0013·(k+1) and −0.0007·(k+1) in normalised units: 0.03–0.15 px on the 42-px canvas.
      for (const [name, v] of model.variables) {
        const m = /^generator\/stns\/(\d+)\/fc\/bias$/.exec(name);
        if (!m) continue;
        const k = Number(m[1]) + 1;
        const b = v.dataSync().slice();
        b[2] += 0.0013 * k;
        b[5] -= 0.0007 * k;
        v.assign(tf.tensor(b, v.shape));
      }
    }
    const initDir = path.join(out, 'init');
    interop.writeTorchWeights(initDir, interop.modelToTorchTensors(model));
    const python = process.env.PERTSET_PYTHON ?? '/usr/bin/python3';
    const twinOut = path.join(out, 'pytorch');
    const r = spawnSync(python, [TWIN, '--config', configFile, '--data', data, '--weights', initDir, '--out', twinOut, '--steps', String(steps),
      '--lr', String(lr), '--beta', String(beta), '--seed', String(seed), '--limit', String(steps * config.training.batchSize)], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.error || r.status !== 0) fail(`twin_steps.py failed (${r.error?.message ?? `exit ${r.status}`})`, 1);
    const batches = interop.readTorchWeights(path.join(twinOut, 'batches'));
    const theirLog = JSON.parse(fs.readFileSync(path.join(twinOut, 'steps.json'), 'utf8'));
    const theirGrad1 = interop.readTorchWeights(path.join(twinOut, 'grad1'));
    const nhwc = (t) => {
      const [b, c, h, w] = t.shape;
      return tf.tensor4d(permute4d(t.data, [b, c, h, w], [0, 2, 3, 1]), [b, h, w, c]);
    };
    const latent = (t) => tf.tensor2d(interop.latentFromTorch(model, t), [t.shape[0], model.latentDim]);
    const vars = model.trainableVariables();
    const names = new Map([...model.variables].map(([n, v]) => [v.name, n]));
    const varNames = vars.map((v) => names.get(v.name));
    const adam = createAdam(vars, varNames);
    const wd = config.training.weightDecay;
    const rows = [];
    const grad1 = [];
    for (let s = 0; s < steps; s++) {
      const x = nhwc(batches.get(`x/${s}`));
      const xt = nhwc(batches.get(`x_perturbed/${s}`));
      const noise = latent(batches.get(`noise/${s}`));
      let terms;
      const { grads } = tf.variableGrads(() => {
        const p = model.prior(x, true);
        const q = model.recognition(x, xt, true);
        const z = tf.add(q.mu, tf.mul(tf.exp(tf.mul(q.logvar, 0.5)), noise));
        const recon = models.reconstructionFromLogits(model.generateLogits(x, z, true), xt, model.outputDistribution);
        const kl = models.klDiagonalGaussian(q, p);
        terms = tf.keep(tf.stack([tf.mean(recon), tf.mean(kl)]));
        return tf.add(tf.sum(recon), tf.mul(tf.sum(kl), beta));
      }, vars);
      const ordered = vars.map((v) => grads[v.name]);
      let g2 = 0;
      ordered.forEach((g, i) => {
        const d = g.dataSync();
        for (let j = 0; j < d.length; j++) g2 += d[j] * d[j];
        if (s > 0) return;
        const key = torchKeyOf(varNames[i]);
        const theirs = theirGrad1.get(key);
        if (theirs && !CANCELLED_BY_BATCH_NORM.test(key)) grad1.push({ parameter: key, relativeDifference: relDiff(toTorchLayout(varNames[i], g.shape, d).data, theirs.data) });
      });
      const applied = wd > 0 ? ordered.map((g, i) => tf.tidy(() => tf.add(g, tf.mul(vars[i], wd)))) : ordered;
      adam.apply(applied, lr);
      tf.dispose(ordered);
      if (applied !== ordered) tf.dispose(applied);
      const [recon, kl] = terms.dataSync();
      const t = theirLog[s];
      rows.push({ step: s + 1, recon: [recon, t.recon], kl: [kl, t.kl], gradNorm: [Math.sqrt(g2), t.gradNorm] });
      tf.dispose([x, xt, noise, terms]);
    }
    const theirAfter = interop.readTorchWeights(path.join(twinOut, 'after'));
    const init = interop.readTorchWeights(initDir);
    const ours = interop.modelToTorchTensors(model);
    const moved = [...ours].filter(([k]) => !k.includes('running_') && !CANCELLED_BY_BATCH_NORM.test(k)).map(([k, v]) => {
      const a = v.data.map((x, i) => x - init.get(k).data[i]);
      const b = theirAfter.get(k).data.map((x, i) => x - init.get(k).data[i]);
      return { parameter: k, relativeDifference: relDiff(a, b) };
    });
    grad1.sort((a, b) => b.relativeDifference - a.relativeDifference);
    moved.sort((a, b) => b.relativeDifference - a.relativeDifference);
    const result = { config: configName, architecture: arch, steps, lr, beta, seed, offIdentity: Boolean(values['off-identity']), rows, grad1, moved };
    fs.writeFileSync(path.join(out, 'steps.json'), JSON.stringify(result, null, 1) + '\n');
    if (values.json) return void process.stdout.write(JSON.stringify(result, null, 1) + '\n');
    const f = (v) => v.toPrecision(6);
    process.stdout.write(`${configName} (${arch}), ${steps} steps, lr ${lr}, β ${beta}, seed ${seed}${result.offIdentity ? ', transformers off the identity' : ''}\n`);
    process.stdout.write('step  recon (pertset / PyTorch)      KL (pertset / PyTorch)        gradient norm (pertset / PyTorch)\n');
    for (const row of rows) process.stdout.write(`${String(row.step).padStart(4)}  ${f(row.recon[0])} / ${f(row.recon[1])}   ${f(row.kl[0])} / ${f(row.kl[1])}   ${f(row.gradNorm[0])} / ${f(row.gradNorm[1])}\n`);
    process.stdout.write('\nstep-1 gradients, largest relative differences (L2):\n');
    for (const g of grad1.slice(0, 8)) process.stdout.write(`  ${g.relativeDifference.toExponential(2)}  ${g.parameter}\n`);
    process.stdout.write(`\nparameter change after ${steps} steps, largest relative differences (L2):\n`);
    for (const g of moved.slice(0, 5)) process.stdout.write(`  ${g.relativeDifference.toExponential(2)}  ${g.parameter}\n`);
    process.stdout.write(`written: ${path.join(out, 'steps.json')}\n`);
  } finally {
    model.dispose();
  }
}

await main();
