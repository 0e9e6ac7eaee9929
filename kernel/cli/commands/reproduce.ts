/**
 * `pertset reproduce mnist [--budget quick|compressed|full] [--out DIR] [--only NAMES] [--data DIR]
 * [--backend B] [--json]`: the paper's MNIST quality table from real MNIST in one command
 * (train, calibrate ε, evaluate the five MNIST configs), resuming from the run folders already written.
 */
import { initBackend } from '../../api/backend';
import { ConfigError, InterruptedError } from '../../api/errors';
import {
  budgetFor,
  formatMnistTable,
  MNIST_TABLE_BUDGETS,
  MNIST_TABLE_CONFIGS,
  MNIST_TABLE_FILE,
  MNIST_TABLE_MARKDOWN,
  reproduceMnistTable,
  STN_COMPRESSED_EPOCHS,
  type MnistTableBudget,
  type MnistTableConfig,
} from '../../api/reproduce/mnist-table';
import { parse } from '../args';
import type { Command } from '../main';
import { NOTEBOOKS_USAGE, runNotebooksCommand } from '../reproduce-notebooks';
import { createProgress, interruptible, withStdoutReserved, type Progress } from '../progress';
import { backendOption } from '../run-options';

const MNIST_USAGE = `usage: pertset reproduce mnist [--budget quick|compressed|full] [--out DIR] [--only NAMES]
                         [--data DIR] [--backend B] [--json]

The paper's MNIST quality table: train the five MNIST configs (${MNIST_TABLE_CONFIGS.join(', ')})
on real MNIST, calibrate each set's radius from validation latent norms, evaluate each set at the
reference config's radius (28 / 29 / 14) on test pairs, and write DIR/${MNIST_TABLE_MARKDOWN} and
DIR/${MNIST_TABLE_FILE}. Run again after an interruption: it resumes from the run folders in DIR.
  --budget B    compressed (default): the l-inf configs' full 20 epochs, the RTS configs'
                100-epoch schedules compressed to ${STN_COMPRESSED_EPOCHS} epochs (same shape); 2,000 test images
                full: every config's own schedule, all 10,000 test images
                quick: 1 epoch on 2,000 images, 200 test images (tries the pipeline; not a result)
  --out DIR     where the run folders go (default experiments/reproduce-mnist-<budget>)
  --only NAMES  comma-separated subset of the configs
  --data DIR    the folder holding mnist/ (default: the data search path; PERTSET_DATA)
  --json        print the table as one JSON object`;

const USAGE = `${NOTEBOOKS_USAGE}\n\n${MNIST_USAGE}`;

export const command: Command = {
  summary: "the paper's notebooks → executed notebooks, report.html, results.json; `reproduce mnist`: the MNIST table",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parse('reproduce', argv, {
      budget: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      quick: { type: 'boolean' },
      mode: { type: 'string' },
      'cell-timeout': { type: 'string' },
    }, true);
    if (positionals.length === 0) {
      for (const flag of ['budget', 'backend', 'json'] as const) {
        if (values[flag] !== undefined) throw new ConfigError(`--${flag} belongs to "pertset reproduce mnist"; the notebooks take --quick/--mode, --only, --out, --data`);
      }
      return runNotebooksCommand({
        quick: values.quick as boolean | undefined,
        mode: values.mode as string | undefined,
        only: values.only as string | undefined,
        out: values.out as string | undefined,
        data: values.data as string | undefined,
        cellTimeout: values['cell-timeout'] as string | undefined,
      });
    }
    if (positionals.length !== 1 || positionals[0] !== 'mnist') {
      throw new ConfigError(`expected no target (the notebooks) or "mnist" (pertset reproduce mnist ...), got "${positionals.join(' ')}"`);
    }
    for (const flag of ['quick', 'mode', 'cell-timeout'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(`--${flag} belongs to the notebooks ("pertset reproduce" with no target), not to "reproduce mnist"`);
    }
    const budget = (values.budget as string | undefined) ?? 'compressed';
    if (!(MNIST_TABLE_BUDGETS as readonly string[]).includes(budget)) {
      throw new ConfigError(`--budget must be one of ${MNIST_TABLE_BUDGETS.join(', ')}, got "${budget}"`);
    }
    const only = (values.only as string | undefined)?.split(',').map((s) => s.trim()).filter(Boolean);
    for (const c of only ?? []) {
      if (!(MNIST_TABLE_CONFIGS as readonly string[]).includes(c)) {
        throw new ConfigError(`--only: unknown config "${c}"; expected some of ${MNIST_TABLE_CONFIGS.join(', ')}`);
      }
    }
    const json = values.json === true;
    const stream = json ? 'stderr' : 'stdout';
    const say = (s: string) => (json ? console.error(s) : console.log(s));
    const table = await withStdoutReserved(json, async () => {
      await initBackend({ backend: backendOption(values) });
      let progress: Progress | null = null;
      let current = '';
      try {
        return await interruptible('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)', () =>
          reproduceMnistTable({
            budget: budget as MnistTableBudget,
            outDir: values.out as string | undefined,
            only: only as MnistTableConfig[] | undefined,
            dataDir: values.data as string | undefined,
            backend: backendOption(values),
            callbacks: { onProgress: (p) => {
              const key = `${p.config}/${p.stage}`;
              if (key !== current) {
                progress?.stop();
                progress = null;
                current = key;
                const b = budgetFor(p.config, budget as MnistTableBudget);
                if (p.stage === 'train') say(`[${p.index + 1}/${p.total}] ${p.config}${b.epochs ? ` (${b.epochs} epochs${b.limit ? `, ${b.limit} images` : ''})` : ''}`);
                if (p.skipped) {
                  say(`  ${p.stage}: already done in the run folder`);
                  return;
                }
                const unit = p.stage === 'train' ? 'steps' : p.stage === 'radius' ? 'batches' : 'pairs';
                progress = createProgress({
                  total: p.of,
                  stream,
                  format: `  ${p.stage.padEnd(6)} [{bar}] {value}/{total} ${unit} | eta {eta_formatted}`,
                  line: (v, t) => `  ${p.stage}: ${v}/${t} ${unit}`,
                  lineInterval: 30,
                });
              }
              progress?.update(p.done);
            } },
          }),
        );
      } finally {
        (progress as Progress | null)?.stop();
      }
    }).catch((e: unknown) => {
      if (e instanceof InterruptedError) {
        console.error(`${e.message}; run the same command again to resume`);
        return null;
      }
      throw e;
    });
    if (!table) return 130;
    if (json) console.log(JSON.stringify(table));
    else {
      console.log('');
      console.log(formatMnistTable(table));
      console.log(`saved to ${table.outDir}/${MNIST_TABLE_MARKDOWN} and ${MNIST_TABLE_FILE}`);
    }
    return 0;
  },
};
