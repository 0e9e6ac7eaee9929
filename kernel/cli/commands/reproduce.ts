/**
 * `pertset reproduce [--quick]`: the notebooks (reproduce-notebooks.ts).
 * `pertset reproduce mnist [--budget quick|compressed|full] [--out DIR] [--only NAMES] [--data DIR]
 * [--backend B] [--json]`: the paper's MNIST quality table from real MNIST in one command
 * (train, calibrate ε, evaluate the five MNIST configs), resuming from the run folders already written.
 * `pertset reproduce robust --set linf|rts [--budget quick|compressed] [--only METHODS] [--cvae RUN_DIR] ...`: the
 * Table-1-style robustness result for one learned set (robust-table.ts).
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
  type MnistTableProgress,
} from '../../api/reproduce/mnist-table';
import {
  formatRobustTable,
  reproduceRobustTable,
  robustTableBudget,
  robustTableMethods,
  ROBUST_TABLE_ALL_METHODS,
  ROBUST_TABLE_BUDGETS,
  ROBUST_TABLE_FILE,
  ROBUST_TABLE_MARKDOWN,
  ROBUST_TABLE_SETS,
  type RobustTableBudgetName,
  type RobustTableProgress,
  type RobustTableSet,
} from '../../api/reproduce/robust-table';
import { maxCertifiableRadius } from '../../api/robustness/smoothing';
import { parse, type Parsed } from '../args';
import type { Command } from '../main';
import { NOTEBOOKS_USAGE, runNotebooksCommand } from '../reproduce-notebooks';
import { createProgress, interruptible, withStdoutReserved, type Progress } from '../progress';
import { backendOption } from '../run-options';

const TABLES_USAGE = `usage: pertset reproduce mnist [--budget quick|compressed|full] [--out DIR] [--only NAMES]
                         [--data DIR] [--backend B] [--json]
       pertset reproduce robust --set linf|rts [--budget quick|compressed] [--only METHODS]
                         [--cvae RUN_DIR] [--out DIR] [--data DIR] [--backend B] [--json]

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
  --json        print the table as one JSON object

reproduce robust: a Table-1-style result for one learned set. Trains MNISTConv classifiers with
the shipped configs mnist_<set>_conv_{none,sample_aug,cvae_aug,cvae_attack} and the three
cvae_smoothing σ, evaluates each (clean, real perturbations, latent PGD at the set's 50th / 75th
percentile and max latent norm; under the 12 training and 3 held-out (OOD) corruptions of the
mnistc suite at severity 5), certifies the three smoothing runs, and writes
DIR/${ROBUST_TABLE_MARKDOWN} and DIR/${ROBUST_TABLE_FILE}. Rerun to resume; finished stages are skipped.
  --set S       linf (the mnist_fc_linf set) or rts (mnist_stn_rts)
  --budget B    compressed (default): ${describeRobustBudget('compressed')}
                quick: ${describeRobustBudget('quick')} (tries the pipeline; not a result)
  --cvae DIR    the set's CVAE run folder (default experiments/reproduce-mnist-compressed/mnist_fc_linf
                or .../mnist_stn_rts, as \`pertset reproduce mnist\` writes them)
  --only M      comma-separated subset of the methods (${ROBUST_TABLE_ALL_METHODS.join(', ')};
                cvae_gaussian: the three smoothing runs); rows other calls wrote into DIR are kept
  --out DIR     where the run folders go (default experiments/reproduce-robust-<set>-<budget>)
The smoothing σ relate to radii as the paper chose them: σ = r / Φ⁻¹(α^(1/n)) with n = 10,000 and
α = 0.001 (Φ⁻¹ = ${maxCertifiableRadius(1, 10000, 0.001).toFixed(4)}), so the largest radius certification can reach is the set's radius r.`;

function describeRobustBudget(name: RobustTableBudgetName): string {
  const b = robustTableBudget(name);
  return `${b.epochs} epoch${b.epochs === 1 ? '' : 's'} × ${b.limit ?? 'all 59,000'} images per method, ${b.evalImages} test images, ${b.certifyImages} certified with n = ${b.certifyN}`;
}
const USAGE = `${NOTEBOOKS_USAGE}\n\n${TABLES_USAGE}`;

export const command: Command = {
  summary: "the paper's notebooks → executed notebooks, report.html, results.json; its tables in one command: `mnist` (set quality), `robust` (robust training, certification)",
  usage: USAGE,
  async run(argv) {
    const { values, positionals } = parse('reproduce', argv, {
      budget: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      set: { type: 'string' },
      cvae: { type: 'string' },
      quick: { type: 'boolean' },
      mode: { type: 'string' },
      runs: { type: 'string' },
      'cell-timeout': { type: 'string' },
    }, true);
    if (positionals.length === 0) {
      for (const flag of ['budget', 'backend', 'json', 'set', 'cvae'] as const) {
        if (values[flag] !== undefined) throw new ConfigError(`--${flag} belongs to "pertset reproduce mnist|robust"; the notebooks take --quick/--mode, --only, --out, --data, --runs`);
      }
      return runNotebooksCommand({
        quick: values.quick as boolean | undefined,
        mode: values.mode as string | undefined,
        only: values.only as string | undefined,
        out: values.out as string | undefined,
        data: values.data as string | undefined,
        runs: values.runs as string | undefined,
        cellTimeout: values['cell-timeout'] as string | undefined,
      });
    }
    if (positionals.length !== 1 || (positionals[0] !== 'mnist' && positionals[0] !== 'robust')) {
      throw new ConfigError(`expected no target (the notebooks), "mnist" or "robust" (pertset reproduce mnist ... | pertset reproduce robust --set linf ...), got "${positionals.join(' ')}"`);
    }
    for (const flag of ['quick', 'mode', 'runs', 'cell-timeout'] as const) {
      if (values[flag] !== undefined) throw new ConfigError(`--${flag} belongs to the notebooks ("pertset reproduce" with no target), not to "reproduce ${positionals[0]}"`);
    }
    if (positionals[0] === 'robust') return runRobust(values);
    for (const k of ['set', 'cvae']) if (values[k] !== undefined) throw new ConfigError(`--${k} is an option of \`pertset reproduce robust\`, not of reproduce mnist`);
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
    return runStagedTable(values, {
      header: (p: MnistTableProgress) => {
        const b = budgetFor(p.config, budget as MnistTableBudget);
        return `[${p.index + 1}/${p.total}] ${p.config}${b.epochs ? ` (${b.epochs} epochs${b.limit ? `, ${b.limit} images` : ''})` : ''}`;
      },
      unit: (stage) => (stage === 'train' ? 'steps' : stage === 'radius' ? 'batches' : 'pairs'),
      run: ({ onProgress }) => reproduceMnistTable({
        budget: budget as MnistTableBudget,
        outDir: values.out as string | undefined,
        only: only as MnistTableConfig[] | undefined,
        dataDir: values.data as string | undefined,
        backend: backendOption(values),
        callbacks: { onProgress },
      }),
      format: formatMnistTable,
      files: [MNIST_TABLE_MARKDOWN, MNIST_TABLE_FILE],
    });
  },
};

async function runRobust(values: Parsed['values']): Promise<number> {
  const only = values.only as string | undefined;
  const methods = only === undefined ? undefined : robustTableMethods(only.split(',').map((s) => s.trim()).filter(Boolean), '--only');
  const set = values.set as string | undefined;
  if (set === undefined) throw new ConfigError(`--set is required: one of ${ROBUST_TABLE_SETS.join(', ')}`);
  if (!(ROBUST_TABLE_SETS as readonly string[]).includes(set)) throw new ConfigError(`--set must be one of ${ROBUST_TABLE_SETS.join(', ')}, got "${set}"`);
  const budget = (values.budget as string | undefined) ?? 'compressed';
  if (!(ROBUST_TABLE_BUDGETS as readonly string[]).includes(budget)) throw new ConfigError(`--budget must be one of ${ROBUST_TABLE_BUDGETS.join(', ')}, got "${budget}"`);
  return runStagedTable(values, {
    header: (p: RobustTableProgress) => `[${p.index + 1}/${p.total}] ${p.config}`,
    unit: (stage) => (stage === 'train' ? 'steps' : stage === 'corrupt' || stage === 'ood' ? 'corruptions' : 'images'),
    run: ({ onProgress, say }) => reproduceRobustTable({
      set: set as RobustTableSet,
      budget: budget as RobustTableBudgetName,
      methods,
      cvae: values.cvae as string | undefined,
      outDir: values.out as string | undefined,
      dataDir: values.data as string | undefined,
      backend: backendOption(values),
      callbacks: {
        onRadii: (r) => say(`set radii (${r.source}): ${r.radii.map((x) => `${x.name} ${x.radius}`).join(', ')}`),
        onProgress,
      },
    }),
    format: formatRobustTable,
    files: [ROBUST_TABLE_MARKDOWN, ROBUST_TABLE_FILE],
  });
}

interface StageProgress {
  config: string;
  stage: string;
  index: number;
  total: number;
  done: number;
  of: number;
  skipped?: boolean;
}

/**
 * The shell both tables share: the backend, Ctrl-C (stop after the step, save, exit 130), a
 * header line per config, one progress bar per config and stage (stderr under --json), and the
 * table printed, or one JSON object under --json.
 */
async function runStagedTable<T extends { outDir: string }, P extends StageProgress>(values: Parsed['values'], spec: {
  header: (p: P) => string;
  unit: (stage: P['stage']) => string;
  run: (hooks: { onProgress: (p: P) => void; say: (line: string) => void }) => Promise<T>;
  format: (table: T) => string;
  files: string[];
}): Promise<number> {
  const json = values.json === true;
  const stream = json ? 'stderr' : 'stdout';
  const say = (s: string) => (json ? console.error(s) : console.log(s));
  const table = await withStdoutReserved(json, async () => {
    await initBackend({ backend: backendOption(values) });
    let progress: Progress | null = null;
    let current = '';
    const onProgress = (p: P) => {
      const key = `${p.config}/${p.stage}`;
      if (key !== current) {
        progress?.stop();
        progress = null;
        current = key;
        if (p.stage === 'train') say(spec.header(p));
        if (p.skipped) {
          say(`  ${p.stage}: already done in the run folder`);
          return;
        }
        const unit = spec.unit(p.stage);
        progress = createProgress({
          total: p.of,
          stream,
          format: `  ${p.stage.padEnd(7)} [{bar}] {value}/{total} ${unit} | eta {eta_formatted}`,
          line: (v, t) => `  ${p.stage}: ${v}/${t} ${unit}`,
          lineInterval: 30,
        });
      }
      progress?.update(p.done);
    };
    try {
      return await interruptible('stopping after this step and saving a checkpoint (Ctrl-C again to quit at once)', () => spec.run({ onProgress, say }));
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
    console.log(spec.format(table));
    console.log(`saved to ${table.outDir}/${spec.files.join(' and ')}`);
  }
  return 0;
}
