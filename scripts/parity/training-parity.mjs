#!/usr/bin/env node
/**
 * Training parity: the same recipe and budget in pertset and in the PyTorch twin
 * (scripts/torch/twin_train.py), compared on ε, the latent norms, encoder AE, expected AE, KL,
 * recon and the sample spread. Run `node scripts/parity/training-parity.mjs --help`.
 *
 * pertset's side is `pertset train` (a child process, resumable) followed by the radius
 * calibration and the evaluation through the API, measured exactly as the twin measures them
 * (same images, same number of radius passes, prior samples and members per image).
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);
const TWIN = path.join(REPO, 'scripts', 'torch', 'twin_train.py');
const TOLERANCE = 0.05;

const USAGE = `usage: node scripts/parity/training-parity.mjs --config NAME|FILE --epochs N [--limit N] [--val-limit N]
         [--test-limit N] [--spread-images N] [--data DIR] [--out DIR] [--seed S] [--side both|pertset|pytorch]
         [--same-init] [--json] [--check]

Trains the config with the same recipe and budget in pertset and in the PyTorch twin, calibrates ε
and evaluates both the same way, then prints: metric, pertset, PyTorch, relative difference, within 5 %.
  --config NAME|FILE   a shipped config (mnist_fc_linf, mnist_conv_linf, mnist_stn_rts,
                       mnist_stn_rts_limited_1, mnist_stn_rts_limited_5) or a reference-schema JSON file
  --epochs N           epochs; both sides rescale the schedules' knots to N (default: the config's)
  --limit N            first N training images (default: all 59,000)
  --val-limit N        first N validation images, for training's validation pass and the radius (default: all 1,000)
  --test-limit N       first N test images for the evaluation (default 1000)
  --spread-images N    test images for the sample spread, 8 members each (default 100)
  --data DIR           folder holding mnist/ (default: $PERTSET_DATA, else pertset's data cache)
  --out DIR            output folder (default runs/parity/<config>-e<epochs>[-l<limit>][-s<seed>][-same-init]): pertset/ is
                       pertset's run, pytorch/ the twin's checkpoint, parity.json the result
  --seed S             seed of both sides (default: the config's)
  --side S             run only one side (its JSON is still written); default both
  --same-init          the twin starts from pertset's initial weights and takes pertset's shuffle order
                       every epoch (written to <out>/same-init/), so the two runs differ only in the
                       implementations and in their random perturbations and noise; default out folder
                       gets a -same-init suffix
  --json               print parity.json instead of the table
  --check              exit 1 when a compared metric differs by more than 5 %
Rerunning the same command resumes both trainings (after the last finished epoch for the twin).
PyTorch runs with Debian's /usr/bin/python3 (or $PERTSET_PYTHON), 2 threads, and the OpenMP OpenBLAS when installed.`;

/** The compared figures: [label, path into a side's result]. */
const METRICS = [
  ['ε (max latent norm, rounded up)', (r) => r.radius.radius],
  ['max latent norm', (r) => r.radius.max],
  ['mean latent norm', (r) => r.radius.mean],
  ['encoder AE', (r) => r.eval.encoderAE],
  ['expected AE (EAE)', (r) => r.eval.expectedAE],
  ['KL', (r) => r.eval.kl],
  ['recon', (r) => r.eval.recon],
  ['sample spread', (r) => r.sampleSpread],
  ['encoder AE (MSE)', (r) => r.eval.mse.encoderAE],
  ['identity error (data check)', (r) => r.eval.identityError],
];

class UsageError extends Error {}

function fail(message, code = 2) {
  process.stderr.write(`training-parity: ${message}\n`);
  process.exit(code);
}

function intArg(values, name, fallback) {
  const v = values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be an integer >= 1, got "${v}"`);
  return n;
}

function loadApi() {
  const entry = path.join(REPO, 'dist', 'kernel', 'api', 'index.js');
  if (!fs.existsSync(entry)) throw new UsageError(`${entry} not found: build pertset first (npm run build:ts)`);
  return {
    api: require(entry),
    configPairs: require(path.join(REPO, 'dist', 'kernel', 'api', 'pairs', 'config-pairs.js')),
    torchReference: require(path.join(REPO, 'dist', 'kernel', 'bench', 'torch-reference.js')),
    random: require(path.join(REPO, 'dist', 'kernel', 'api', 'random.js')),
  };
}

/** The data root both sides read: it must hold MNIST (never the embedded Fashion-MNIST fallback). */
function dataRoot(api, given) {
  const candidates = given ? [given] : [process.env.PERTSET_DATA, api.data.cacheDir()].filter(Boolean);
  const reasons = [];
  for (const dir of candidates) {
    try {
      api.data.locateDataset('mnist', { dir, fallback: false });
      return path.resolve(dir);
    } catch (e) {
      reasons.push(`${dir}: ${e.message}`);
    }
  }
  throw new UsageError(
    `no MNIST for the parity run (${reasons.join('; ') || 'no --data and no PERTSET_DATA'}); pass --data DIR (a folder holding mnist/) ` +
      'or run `npx pertset data download mnist`',
  );
}

function torchCheck(python) {
  const r = spawnSync(python, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
  if (r.error) throw new UsageError(`${python} cannot run (${r.error.code ?? r.error.message}); set PERTSET_PYTHON to a Python with PyTorch`);
  if (r.status !== 0) {
    const why = (r.stderr || '').trim().split('\n').pop();
    throw new UsageError(`${python} cannot import torch and numpy (${why}); install them (Debian: apt-get install python3-torch) or set PERTSET_PYTHON`);
  }
  return r.stdout.trim();
}

/** Runs a child process with its progress on our stderr; resolves to its stdout and wall seconds. */
function run(cmd, args, options = {}) {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', options.captureStdout ? 'pipe' : process.stderr, 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d) => (out += d));
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve({ stdout: out, seconds: (Date.now() - t0) / 1000 });
      else reject(new Error(`${path.basename(cmd)} ${args.slice(0, 2).join(' ')} ... failed (${signal ?? `exit ${code}`}); see the messages above`));
    });
  });
}

/** Mean over images and pixels of the per-pixel standard deviation (population) across `k` members of S(x). */
async function sampleSpread(api, set, pairs, images, k, seed) {
  const { tf } = api;
  let total = 0;
  let count = 0;
  const bs = 16;
  for (let b = 0; b * bs < Math.min(images, pairs.count); b++) {
    const batch = pairs.tensorBatch(0, b, bs);
    const n = Math.min(batch.x.shape[0], images - b * bs);
    const x = n < batch.x.shape[0] ? tf.slice(batch.x, 0, n) : batch.x;
    const s = tf.tidy(() => {
      const samples = tf.reshape(set.sample(x, k, { seed: seed + b }), [n, k, -1]);
      return tf.sum(tf.mean(tf.sqrt(tf.moments(samples, 1).variance), 1));
    });
    total += (await s.data())[0];
    count += n;
    tf.dispose([batch.x, batch.xPerturbed, x, s]);
  }
  return total / count;
}

async function pertsetSide(lib, o) {
  const { api, configPairs } = lib;
  const runDir = path.join(o.out, 'pertset');
  const trainArgs = [path.join(REPO, 'bin', 'pertset.js'), 'train', '--config', o.config, '--out', runDir, '--data', o.data];
  if (o.epochs) trainArgs.push('--epochs', String(o.epochs));
  if (o.limit) trainArgs.push('--limit', String(o.limit));
  if (o.valLimit) trainArgs.push('--val-limit', String(o.valLimit));
  if (o.seed !== undefined) trainArgs.push('--seed', String(o.seed));
  process.stderr.write(`[pertset] ${['pertset', ...trainArgs.slice(1)].join(' ')}\n`);
  const trained = await run(process.execPath, trainArgs);
  const backend = await api.initBackend();
  const t1 = Date.now();
  const radius = await api.evaluate.calibrateRun(runDir, { limit: o.valLimit, passes: o.passes });
  const t2 = Date.now();
  const opened = api.runs.openRun(runDir);
  try {
    const cfg = opened.config;
    const pairs = configPairs.testPairs(cfg, { recorded: configPairs.recordedData(cfg, opened.record.dataset), limit: o.testLimit });
    const set = new api.PerturbationSet(opened.model, radius.radius);
    // PGD is not part of the comparison: 0 steps, and no over-approximation.
    const report = await api.evaluatePerturbationSet(set, pairs, { attack: { steps: 0 }, overApproximation: false, samples: o.samples, seed: cfg.seed });
    const spread = await sampleSpread(api, set, pairs, o.spreadImages, o.spreadSamples, cfg.seed);
    const t3 = Date.now();
    const state = api.runs.readTrainerState(opened.checkpointDir);
    const history = (state?.history ?? []).map((e) => ({ epoch: e.epoch, loss: e.train.loss, kl: e.train.kl, recon: e.train.recon, validationLoss: e.validation?.loss }));
    const { pgdAE, overAE, ...kept } = report;
    void pgdAE;
    void overAE;
    return {
      side: 'pertset',
      config: cfg.name,
      architecture: cfg.model.architecture,
      budget: {
        epochs: cfg.training.epochs,
        limit: opened.record.dataset?.train?.images?.count ?? null,
        valLimit: radius.n / radius.passes,
        testLimit: report.n,
        passes: radius.passes,
        samples: o.samples,
        spreadImages: Math.min(o.spreadImages, pairs.count),
        spreadSamples: o.spreadSamples,
        batchSize: cfg.training.batchSize,
        seed: cfg.seed,
      },
      schedules: { lr: [cfg.training.lr.knots, cfg.training.lr.values], beta: [cfg.training.beta.knots, cfg.training.beta.values] },
      radius: { mean: radius.mean, std: radius.std, p25: radius.p25, p50: radius.p50, p75: radius.p75, p999: radius.p999, max: radius.max, n: radius.n, passes: radius.passes, radius: radius.radius },
      eval: { ...kept, mse: { encoderAE: report.mse.encoderAE, expectedAE: report.mse.expectedAE } },
      sampleSpread: spread,
      history,
      seconds: { train: (state?.history ?? []).reduce((s, e) => s + (e.seconds ?? 0), 0), trainThisCall: trained.seconds, radius: (t2 - t1) / 1000, eval: (t3 - t2) / 1000 },
      versions: { node: process.version, pertset: require(path.join(REPO, 'package.json')).version, tfjs: api.tf.version_core, backend },
      runDir,
    };
  } finally {
    opened.model.dispose();
  }
}

async function pytorchSide(lib, o) {
  const args = [TWIN, '--config', o.configFile, '--data', o.data, '--out', path.join(o.out, 'pytorch'), '--test-limit', String(o.testLimit),
    '--passes', String(o.passes), '--samples', String(o.samples), '--spread-images', String(o.spreadImages), '--spread-samples', String(o.spreadSamples)];
  if (o.epochs) args.push('--epochs', String(o.epochs));
  if (o.limit) args.push('--limit', String(o.limit));
  if (o.valLimit) args.push('--val-limit', String(o.valLimit));
  if (o.seed !== undefined) args.push('--seed', String(o.seed));
  if (o.sameInit) args.push('--init', o.sameInit.weights, '--orders', o.sameInit.orders);
  const blas = lib.torchReference.findOpenmpOpenblas();
  const env = { ...process.env };
  if (blas) env.LD_LIBRARY_PATH = [blas, process.env.LD_LIBRARY_PATH].filter(Boolean).join(path.delimiter);
  process.stderr.write(`[pytorch] ${o.python} ${args.join(' ')}\n`);
  const r = await run(o.python, args, { env, captureStdout: true });
  let result;
  try {
    result = JSON.parse(r.stdout);
  } catch (e) {
    throw new Error(`twin_train.py printed no JSON (${e.message})`);
  }
  result.versions.blas = blas;
  result.seconds.wall = r.seconds;
  return result;
}

/**
 * For --same-init: pertset's initial weights for the config's architecture and seed (what
 * `pertset train` starts from) in the exchange format, and its shuffle order of every epoch
 * (int32 little-endian, epochs × training images), for the twin to start from and follow.
 */
function writeSameInit(lib, config, o) {
  const { api, configPairs } = lib;
  const dir = path.join(o.out, 'same-init');
  const weights = path.join(dir, 'weights');
  const orders = path.join(dir, 'orders.bin');
  const model = api.models.createCVAE(config.model.architecture, { seed: config.seed, size: config.model.size });
  try {
    api.interop.writeTorchWeights(weights, api.interop.modelToTorchTensors(model));
  } finally {
    model.dispose();
  }
  const data = configPairs.trainingData(config, { dataDir: o.data, limit: o.limit });
  const count = data.train.count;
  const all = new Int32Array(config.training.epochs * count);
  for (let e = 0; e < config.training.epochs; e++) all.set(lib.random.epochPermutation(count, data.train.seed, e, 'train'), e * count);
  const tmp = `${orders}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, Buffer.from(all.buffer));
  fs.renameSync(tmp, orders);
  return { weights, orders };
}

function compare(ours, theirs) {
  return METRICS.map(([metric, get]) => {
    const a = ours ? get(ours) : null;
    const b = theirs ? get(theirs) : null;
    const rel = a !== null && b !== null ? Math.abs(a - b) / Math.max(Math.abs(b), 1e-12) : null;
    return { metric, pertset: a, pytorch: b, relativeDifference: rel, within5pct: rel === null ? null : rel <= TOLERANCE };
  });
}

function table(rows) {
  const fmt = (v) => (v === null || v === undefined ? '—' : Math.abs(v) >= 100 ? v.toFixed(1) : v.toPrecision(4));
  const lines = [['metric', 'pertset', 'PyTorch', 'rel. diff', 'within 5 %']];
  for (const r of rows) lines.push([r.metric, fmt(r.pertset), fmt(r.pytorch), r.relativeDifference === null ? '—' : `${(100 * r.relativeDifference).toFixed(1)} %`, r.within5pct === null ? '—' : r.within5pct ? 'yes' : 'no']);
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines.map((l) => l.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ')).join('\n');
}

function writeJsonAtomic(file, value) {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(value, null, 1) + '\n');
  fs.renameSync(tmp, file);
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        config: { type: 'string' }, epochs: { type: 'string' }, limit: { type: 'string' }, 'val-limit': { type: 'string' },
        'test-limit': { type: 'string' }, 'spread-images': { type: 'string' }, data: { type: 'string' }, out: { type: 'string' },
        seed: { type: 'string' }, side: { type: 'string' }, 'same-init': { type: 'boolean' }, json: { type: 'boolean' }, check: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    fail(`${e.message}\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(USAGE + '\n');
    return;
  }
  try {
    if (!values.config) throw new UsageError('--config NAME|FILE is required (see --help)');
    const side = values.side ?? 'both';
    if (!['both', 'pertset', 'pytorch'].includes(side)) throw new UsageError(`--side must be both, pertset or pytorch, got "${side}"`);
    let seed;
    if (values.seed !== undefined) {
      seed = Number(values.seed);
      if (!Number.isInteger(seed) || seed < 0) throw new UsageError(`--seed must be an integer >= 0, got "${values.seed}"`);
    }
    const lib = loadApi();
    const { api } = lib;
    const configFile = fs.existsSync(values.config) ? path.resolve(values.config) : path.join(REPO, 'kernel', 'configs', `${values.config}.json`);
    const config = api.loadConfig(values.config); // validates it and names the problem
    if (!config.model.architecture.startsWith('mnist_')) throw new UsageError(`${values.config}: the PyTorch twin covers the MNIST CVAEs only, not ${config.model.architecture}`);
    const o = {
      config: values.config,
      configFile,
      epochs: intArg(values, 'epochs', undefined),
      limit: intArg(values, 'limit', undefined),
      valLimit: intArg(values, 'val-limit', undefined),
      testLimit: intArg(values, 'test-limit', 1000),
      spreadImages: intArg(values, 'spread-images', 100),
      spreadSamples: 8,
      passes: 5,
      samples: 5,
      seed,
      python: process.env.PERTSET_PYTHON ?? '/usr/bin/python3',
    };
    const name = path.basename(values.config, '.json');
    const suffix = `${o.limit ? `-l${o.limit}` : ''}${seed !== undefined ? `-s${seed}` : ''}${values['same-init'] ? '-same-init' : ''}`;
    o.out = path.resolve(values.out ?? path.join('runs', 'parity', `${name}-e${o.epochs ?? config.training.epochs}${suffix}`));
    o.data = dataRoot(api, values.data);
    const torchVersion = side === 'pertset' ? null : torchCheck(o.python);
    fs.mkdirSync(o.out, { recursive: true });
    const started = new Date().toISOString();
    // One side after the other: on a shared 2-core machine running both at once would slow both.
    if (values['same-init'] && side !== 'pertset') {
      // The config as `pertset train` runs it (epochs, seed), for the weights and orders it starts from.
      const trained = api.loadConfig(values.config, { epochs: o.epochs, seed, limit: o.limit });
      o.sameInit = writeSameInit(lib, trained, o);
    }
    const ours = side === 'pytorch' ? null : await pertsetSide(lib, o);
    const theirs = side === 'pertset' ? null : await pytorchSide(lib, o);
    const comparison = compare(ours, theirs);
    const result = {
      config: name,
      started,
      finished: new Date().toISOString(),
      tolerance: TOLERANCE,
      sameInit: Boolean(values['same-init']),
      budget: { epochs: o.epochs ?? config.training.epochs, limit: o.limit ?? null, valLimit: o.valLimit ?? null, testLimit: o.testLimit, spreadImages: o.spreadImages, spreadSamples: o.spreadSamples, passes: o.passes, samples: o.samples, seed: seed ?? config.seed },
      data: o.data,
      comparison,
      pertset: ours,
      pytorch: theirs,
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg(), torch: torchVersion },
    };
    const file = path.join(o.out, 'parity.json');
    writeJsonAtomic(file, result);
    if (values.json) process.stdout.write(JSON.stringify(result, null, 1) + '\n');
    else {
      const secs = (r) => (r ? `train ${r.seconds.train.toFixed(0)} s, radius ${r.seconds.radius.toFixed(0)} s, eval ${r.seconds.eval.toFixed(0)} s` : 'not run');
      process.stdout.write(`${name}, ${result.budget.epochs} epochs, ${ours?.budget.limit ?? theirs?.budget.limit} training images, ε from ${result.budget.valLimit ?? 1000} validation images × 5 passes, ${o.testLimit} test images\n\n`);
      process.stdout.write(table(comparison) + '\n\n');
      process.stdout.write(`pertset: ${secs(ours)}\nPyTorch: ${secs(theirs)}\nwritten: ${file}\n`);
    }
    if (values.check && comparison.some((r) => r.within5pct === false)) process.exit(1);
  } catch (e) {
    if (e instanceof UsageError || e?.name === 'ConfigError' || e?.name === 'DataFormatError') fail(e.message);
    fail(e?.stack ?? String(e), 1);
  }
}

await main();
