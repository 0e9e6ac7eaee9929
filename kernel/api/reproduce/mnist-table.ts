/**
 * The paper's MNIST quality table in one call: train the five MNIST configs (ℓ∞ FC, ℓ∞ conv, RTS,
 * RTS limited k = 5 and k = 1), calibrate each set's ε from validation latent norms, evaluate every
 * set at the reference configs' ε (28 / 29 / 14) on test pairs, and tabulate encoder / PGD /
 * expected / over-approximation AE, KL, reconstruction and the identity baseline, with the
 * limited-data ordering PGD AE(k = 1) > PGD AE(k = 5) ≳ PGD AE(fresh).
 *
 * Every stage resumes from what the run folders already hold: training from its checkpoint,
 * calibration and evaluation are skipped when their files match the trained step and budget.
 */
import * as fs from 'fs';
import * as path from 'path';
import { formatDuration } from '../display/html';
import { CheckpointError, ConfigError } from '../errors';
import { loadConfig } from '../config/load';
import { LIMITED_DATA_TOLERANCE } from '../evaluate/claims';
import { calibrateRun, evaluateRun, type EvalResult, type RadiusResult } from '../evaluate/run';
import { fromReferenceConfig } from '../config/from-reference';
import { readJsonOrNull, readTrainerState } from '../runs/checkpoint';
import { EVAL_FILE, RADIUS_FILE, RADIUS_NORMS_FILE } from '../runs/open-run';
import { readRunRecord, type RunRecord } from '../runs/run-record';
import { writeFileAtomic } from '../runs/atomic-dir';
import type { TrainCallbacks } from '../train/events';
import { Trainer } from '../train/trainer';
import type { BackendName } from '../backend';

/** The five configs of the paper's MNIST table, in its row order. */
export const MNIST_TABLE_CONFIGS = [
  'mnist_fc_linf',
  'mnist_conv_linf',
  'mnist_stn_rts',
  'mnist_stn_rts_limited_5',
  'mnist_stn_rts_limited_1',
] as const;
export type MnistTableConfig = (typeof MNIST_TABLE_CONFIGS)[number];

export const MNIST_TABLE_BUDGETS = ['quick', 'compressed', 'full'] as const;
export type MnistTableBudget = (typeof MNIST_TABLE_BUDGETS)[number];

/** How much one config trains and evaluates under a budget (undefined: the config's own). */
export interface ConfigBudget {
  epochs?: number;
  /** Training images (first N). */
  limit?: number;
  /** Validation images, for the per-epoch validation loss and the radius calibration. */
  validationLimit?: number;
  /** Test images evaluated. */
  evalLimit?: number;
}

/**
 * Epochs of the compressed STN schedule: the reference's 100-epoch LR and β schedules with their
 * knots scaled to this many epochs (same shape), about an hour per config on 2 CPU cores.
 */
export const STN_COMPRESSED_EPOCHS = 20;

/**
 * - `full`: every config's own schedule (ℓ∞: 20 epochs; RTS: 100), all 10,000 test images.
 * - `compressed`: ℓ∞ configs in full; RTS configs on the compressed schedule; 2,000 test images.
 * - `quick`: 1 epoch on 2,000 images, for trying the pipeline (minutes); not a result.
 */
export function budgetFor(config: MnistTableConfig, budget: MnistTableBudget): ConfigBudget {
  const stn = config.startsWith('mnist_stn');
  switch (budget) {
    case 'full':
      return {};
    case 'compressed':
      return stn ? { epochs: STN_COMPRESSED_EPOCHS, evalLimit: 2000 } : { evalLimit: 2000 };
    case 'quick':
      return { epochs: 1, limit: 2000, validationLimit: 500, evalLimit: 200 };
  }
}

export type MnistTableStage = 'train' | 'radius' | 'eval';

/** Where the reproduction is: `stage` of config `index` (0-based) of `total`. */
export interface MnistTableProgress {
  config: MnistTableConfig;
  index: number;
  total: number;
  stage: MnistTableStage;
  /** Position within the stage: steps, batches or pairs done of `of`. */
  done: number;
  of: number;
  /** True when the stage was already complete in the run folder. */
  skipped?: boolean;
}

export interface MnistTableOptions {
  budget?: MnistTableBudget;
  /** Folder holding one run folder per config (default `experiments/reproduce-mnist-<budget>`). */
  outDir?: string;
  /** Only these configs (default all five). */
  only?: readonly MnistTableConfig[];
  /** Where the MNIST files are (default: the data search path). */
  dataDir?: string;
  backend?: BackendName;
  signal?: AbortSignal;
  callbacks?: {
    onProgress?: (p: MnistTableProgress) => void;
    /** Training's own callbacks (a live chart, say), for every config. */
    training?: TrainCallbacks;
  };
}

export interface MnistTableRow {
  config: MnistTableConfig;
  architecture: string;
  runDir: string;
  budget: ConfigBudget & { epochs: number; trainImages: number };
  /** Wall time of the training, summed over its epochs (across resumes). */
  trainSeconds: number;
  /** Our ε: the maximum validation latent norm, and that rounded up (the paper's convention). */
  maxLatentNorm: number;
  calibratedRadius: number;
  /** The reference config's ε (`ae.max_dist`), at which the row is evaluated. */
  referenceRadius: number;
  eval: EvalResult;
}

export interface LimitedDataOrdering {
  /** PGD AE at ε = 14 for fresh perturbations, k = 5 and k = 1. */
  fresh: number;
  k5: number;
  k1: number;
  /** PGD AE(k = 1) > PGD AE(k = 5) ≳ PGD AE(fresh), "≳" allowing 5 % below. */
  holds: boolean;
}

export interface MnistTable {
  budget: MnistTableBudget;
  outDir: string;
  rows: MnistTableRow[];
  /** Present when the three RTS rows are. */
  limitedData: LimitedDataOrdering | null;
  seconds: number;
}

export const MNIST_TABLE_FILE = 'mnist-table.json';
export const MNIST_TABLE_MARKDOWN = 'mnist-table.md';

export function limitedDataOrdering(rows: readonly MnistTableRow[]): LimitedDataOrdering | null {
  const pgd = (c: MnistTableConfig) => rows.find((r) => r.config === c)?.eval.pgdAE;
  const fresh = pgd('mnist_stn_rts');
  const k5 = pgd('mnist_stn_rts_limited_5');
  const k1 = pgd('mnist_stn_rts_limited_1');
  if (fresh === undefined || k5 === undefined || k1 === undefined) return null;
  return { fresh, k5, k1, holds: k1 > k5 && k5 >= fresh * (1 - LIMITED_DATA_TOLERANCE) };
}

export interface MnistTableRowOptions {
  /** Validation images for a calibration that has to be done (default all 1,000). */
  validationLimit?: number;
  /** Passes over the validation images for a calibration that has to be done (default 5). */
  radiusPasses?: number;
  /** Test images to evaluate (default all 10,000). */
  evalLimit?: number;
  /** Steps of the PGD and over-approximation attacks of an evaluation that has to be done (default the config's, 50). */
  attackSteps?: number;
  /** Where the MNIST files are (default: the data search path). */
  dataDir?: string;
  signal?: AbortSignal;
  /** Progress of the radius and eval stages; `skipped` when the run folder's file was reused. */
  onProgress?: (stage: Exclude<MnistTableStage, 'train'>, done: number, of: number, skipped?: boolean) => void;
}

/**
 * One row of the MNIST table from a trained run folder, without training. ε comes from
 * radius.json when it and radius-norms.json are from the run's latest checkpoint, else the radius
 * is calibrated now (rewriting both). The evaluation, at the reference config's ε with the
 * reference protocol (PGD scored at its final iterate), comes from eval.json when that is for the
 * same checkpoint and ε and at least `evalLimit` test pairs, else it is run now (rewriting
 * eval.json and samples.png).
 */
export async function mnistTableRow(config: MnistTableConfig, runDir: string, options: MnistTableRowOptions = {}): Promise<MnistTableRow> {
  if (!MNIST_TABLE_CONFIGS.includes(config)) throw new ConfigError(`unknown MNIST table config "${config}"; expected one of ${MNIST_TABLE_CONFIGS.join(', ')}`);
  const dir = path.resolve(runDir);
  const reference = loadConfig(config);
  const referenceRadius = reference.eval.radius;
  if (referenceRadius === null) throw new ConfigError(`${config} has no ae.max_dist to evaluate at`);
  const record = readRunRecord(dir);
  if (record.name !== reference.name) throw new ConfigError(`${dir} is a run of ${record.name}, not of ${config}`);
  const state = readTrainerState(path.join(dir, 'checkpoints', 'latest'));
  if (!state) throw new CheckpointError(`${dir} has no "latest" checkpoint yet; train at least one epoch first`);
  const at = options.onProgress ?? (() => undefined);

  // ε from validation latent norms, unless radius.json and its norms are from this very checkpoint.
  let radius = readJsonOrNull<RadiusResult>(path.join(dir, RADIUS_FILE));
  const norms = readJsonOrNull<{ globalStep?: number }>(path.join(dir, RADIUS_NORMS_FILE));
  if (radius && radius.globalStep === state.globalStep && norms?.globalStep === state.globalStep) at('radius', 1, 1, true);
  else {
    radius = await calibrateRun(dir, {
      limit: options.validationLimit,
      passes: options.radiusPasses,
      dataDir: options.dataDir,
      signal: options.signal,
      callbacks: { onBatchEnd: (p) => at('radius', p.pass * p.batches + p.batch, p.passes * p.batches) },
    });
  }

  // Evaluation at the reference's ε with its protocol (PGD scored at its final iterate).
  let evaluation = readJsonOrNull<EvalResult>(path.join(dir, EVAL_FILE));
  const evalLimit = options.evalLimit ?? 10000;
  const current = evaluation && evaluation.globalStep === state.globalStep && evaluation.radius === referenceRadius && evaluation.n >= evalLimit;
  if (evaluation && current) at('eval', evaluation.n, evaluation.n, true);
  else {
    const steps = options.attackSteps;
    evaluation = await evaluateRun(dir, {
      radius: referenceRadius,
      limit: evalLimit,
      attack: { keepBest: false, ...(steps !== undefined ? { steps } : {}) },
      ...(steps !== undefined ? { overApproximation: { steps } } : {}),
      dataDir: options.dataDir,
      signal: options.signal,
      callbacks: { onBatchEnd: (p) => at('eval', p.examples, p.total) },
    });
  }
  const saved = fromReferenceConfig(record.config, record.configSource, { outDir: dir });
  const history = state.history as Array<{ seconds?: number }>;
  return {
    config,
    architecture: reference.model.architecture,
    runDir: dir,
    budget: { epochs: saved.training.epochs, trainImages: trainImagesOf(record), evalLimit },
    trainSeconds: history.reduce((sum, e) => sum + (e.seconds ?? 0), 0),
    maxLatentNorm: radius.max,
    calibratedRadius: radius.radius,
    referenceRadius,
    eval: evaluation,
  };
}

/** Training images of a run, from the dataset description its record keeps. */
function trainImagesOf(record: RunRecord): number {
  const count = (record.dataset?.train as { images?: { count?: unknown } } | undefined)?.images?.count;
  return typeof count === 'number' ? count : NaN;
}

/** Trains, calibrates and evaluates the MNIST configs, resuming from what `outDir` holds. */
export async function reproduceMnistTable(options: MnistTableOptions = {}): Promise<MnistTable> {
  const budget = options.budget ?? 'compressed';
  if (!MNIST_TABLE_BUDGETS.includes(budget)) {
    throw new ConfigError(`unknown budget "${budget}"; expected one of ${MNIST_TABLE_BUDGETS.join(', ')}`);
  }
  for (const c of options.only ?? []) {
    if (!MNIST_TABLE_CONFIGS.includes(c)) throw new ConfigError(`unknown MNIST table config "${c}"; expected some of ${MNIST_TABLE_CONFIGS.join(', ')}`);
  }
  const configs = MNIST_TABLE_CONFIGS.filter((c) => !options.only || options.only.includes(c));
  const outDir = path.resolve(options.outDir ?? path.join('experiments', `reproduce-mnist-${budget}`));
  const started = Date.now();
  const rows: MnistTableRow[] = [];
  for (const [index, config] of configs.entries()) {
    const b = budgetFor(config, budget);
    const at = (stage: MnistTableStage, done: number, of: number, skipped?: boolean) =>
      options.callbacks?.onProgress?.({ config, index, total: configs.length, stage, done, of, skipped });
    const runDir = path.join(outDir, config);

    // Training (resumes from the run folder's checkpoint).
    const trainer = await Trainer.create(config, {
      outDir: runDir,
      epochs: b.epochs,
      limit: b.limit,
      validationLimit: b.validationLimit,
      dataDir: options.dataDir,
      backend: options.backend,
    });
    let trainSeconds: number;
    let trainBudget: MnistTableRow['budget'];
    try {
      const total = trainer.config.training.epochs * trainer.stepsPerEpoch;
      trainBudget = { ...b, epochs: trainer.config.training.epochs, trainImages: trainer.data.train.count };
      if (trainer.finished) at('train', total, total, true);
      else {
        const user = options.callbacks?.training;
        await trainer.run({
          signal: options.signal,
          callbacks: {
            ...user,
            onBatchEnd: (p) => {
              at('train', p.globalStep, total);
              return user?.onBatchEnd?.(p);
            },
          },
        });
      }
      trainSeconds = trainer.history.reduce((sum, e) => sum + e.seconds, 0);
    } finally {
      trainer.dispose();
    }

    const row = await mnistTableRow(config, runDir, {
      validationLimit: b.validationLimit,
      evalLimit: b.evalLimit,
      dataDir: options.dataDir,
      signal: options.signal,
      onProgress: (stage, done, of, skipped) => at(stage, done, of, skipped),
    });
    rows.push({ ...row, budget: trainBudget, trainSeconds });
  }
  // Rows of configs this call did not run (`only`) are kept from the folder's earlier table, so
  // configs trained one call at a time still add up to the whole table.
  const earlier = readJsonOrNull<MnistTable>(path.join(outDir, MNIST_TABLE_FILE));
  if (earlier && earlier.budget === budget) {
    for (const r of earlier.rows) if (!configs.includes(r.config) && MNIST_TABLE_CONFIGS.includes(r.config)) rows.push(r);
  }
  rows.sort((a, b) => MNIST_TABLE_CONFIGS.indexOf(a.config) - MNIST_TABLE_CONFIGS.indexOf(b.config));
  const table: MnistTable = { budget, outDir, rows, limitedData: limitedDataOrdering(rows), seconds: (Date.now() - started) / 1000 };
  fs.mkdirSync(outDir, { recursive: true });
  writeFileAtomic(path.join(outDir, MNIST_TABLE_FILE), JSON.stringify(table, null, 1));
  writeFileAtomic(path.join(outDir, MNIST_TABLE_MARKDOWN), formatMnistTable(table));
  return table;
}

const LABELS: Record<MnistTableConfig, string> = {
  mnist_fc_linf: 'ℓ∞ FC',
  mnist_conv_linf: 'ℓ∞ conv',
  mnist_stn_rts: 'RTS',
  mnist_stn_rts_limited_5: 'RTS, limited k = 5',
  mnist_stn_rts_limited_1: 'RTS, limited k = 1',
};

/** The table as Markdown: the paper's columns under BCE, the same members of the set under MSE, and the ordering. */
export function formatMnistTable(table: MnistTable): string {
  const f = (v: number) => v.toFixed(4);
  const lines = [
    `# The MNIST quality table (${table.budget} budget)`,
    '',
    'Approximation errors per pixel at the reference configs\u2019 ε, PGD scored at its final iterate (50 steps, α = ε/20),',
    'on test pairs with fresh perturbations. "Our ε" is the largest validation latent norm, rounded up.',
    '',
    '| model | our ε (max norm) | reference ε | encoder AE | PGD AE | expected AE | over AE | KL | recon | identity | epochs × images | test pairs | train time |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of table.rows) {
    const e = r.eval;
    lines.push(
      `| ${LABELS[r.config]} | ${r.calibratedRadius} (${r.maxLatentNorm.toFixed(2)}) | ${r.referenceRadius} | ${f(e.encoderAE)} | ${f(e.pgdAE)} | ${f(e.expectedAE)} | ${f(e.overAE)} | ${e.kl.toFixed(1)} | ${f(e.recon)} | ${f(e.identityError)} | ${r.budget.epochs} × ${r.budget.trainImages} | ${e.n} | ${(r.trainSeconds ? formatDuration(r.trainSeconds) : '—')} |`,
    );
  }
  lines.push('', 'The same members of the set under per-pixel MSE (no log clamp), with the identity baseline:', '');
  lines.push('| model | encoder AE | PGD AE | expected AE | identity |', '|---|---:|---:|---:|---:|');
  for (const r of table.rows) {
    const m = r.eval.mse;
    lines.push(`| ${LABELS[r.config]} | ${f(m.encoderAE)} | ${f(m.pgdAE)} | ${f(m.expectedAE)} | ${f(m.identityError)} |`);
  }
  const o = table.limitedData;
  if (o) {
    lines.push(
      '',
      `Limited data (the paper's ablation: a set learned from only k fixed perturbations per image still generalises, with error growing as k shrinks): ` +
        `PGD AE k = 1 ${f(o.k1)}, k = 5 ${f(o.k5)}, fresh ${f(o.fresh)}. ` +
        `PGD AE(k = 1) > PGD AE(k = 5) ≳ PGD AE(fresh): ${o.holds ? 'holds' : 'does not hold at this budget'}.`,
    );
  }
  lines.push('', `Total wall time of this call: ${formatDuration(table.seconds)}.`, '');
  return lines.join('\n');
}

