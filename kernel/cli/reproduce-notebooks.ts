/**
 * `pertset reproduce [--quick] [--only N,...] [--out DIR] [--data DIR]`: the notebooks through our
 * kernel, with a progress line per cell and the total time; the part of `reproduce` without a target.
 */
import * as path from 'path';
import { ConfigError } from '../api/errors';
import { RUN_MODES, type RunModeName } from '../api/run-mode';
import { formatDuration } from '../api/display/html';
import { reproduceNotebooks, REPORT_FILE, RESULTS_FILE } from '../report/reproduce-notebooks';
import { createProgress, type Progress } from './progress';

export const NOTEBOOKS_USAGE = `usage: pertset reproduce [--quick | --mode quick|full|smoke] [--only N,...] [--out DIR] [--data DIR]
                         [--runs DIR] [--cell-timeout S]

Run the notebooks that reproduce the paper (notebooks/NN-*.ipynb) through the pertset kernel, with
no Jupyter and no Python, and write into DIR the executed notebooks, ${REPORT_FILE} (a self-contained
report drawn by the same renderers as VS Code) and ${RESULTS_FILE} (every recorded table, with the
dataset, backend and versions used). All notebooks work in DIR/work: the perturbation sets notebooks
01 and 02 learn go to DIR/work/experiments/<config> and the later notebooks open them there. Run again
after an interruption: finished notebooks are kept and the others resume from their run folders.
  --quick        quick mode (minutes per notebook on 2 cores; what \`npm start\` runs)
  --mode M       full (default: the budget of \`pertset reproduce mnist\`, compressed), quick, or smoke
                 (a few steps; for tests); each notebook's first cell states its budgets
  --only N,...   notebook numbers or file names (default: all)
  --out DIR      output folder (default reproduce-<mode>)
  --data DIR     the folder holding mnist/ (default: PERTSET_DATA, the cache, the embedded subset)
  --runs DIR     use the run folders in DIR (e.g. experiments/reproduce-mnist-compressed from
                 \`pertset reproduce mnist\`) instead of training them again; full mode matches
                 that command's default (compressed) budget, so its finished runs are reused
  --cell-timeout S  interrupt a cell after S seconds and report it as failed`;

export interface NotebookRunArgs {
  quick?: boolean;
  mode?: string;
  only?: string;
  out?: string;
  data?: string;
  runs?: string;
  cellTimeout?: string;
}

export async function runNotebooksCommand(args: NotebookRunArgs): Promise<number> {
  if (args.quick && args.mode && args.mode !== 'quick') throw new ConfigError(`--quick and --mode ${args.mode} contradict each other`);
  const mode = (args.quick ? 'quick' : args.mode ?? 'full') as RunModeName;
  if (!(RUN_MODES as readonly string[]).includes(mode)) throw new ConfigError(`--mode must be one of ${RUN_MODES.join(', ')}, got "${mode}"`);
  const cellTimeout = args.cellTimeout === undefined ? undefined : Number(args.cellTimeout);
  if (cellTimeout !== undefined && !(cellTimeout > 0)) throw new ConfigError(`--cell-timeout must be a positive number of seconds, got "${args.cellTimeout}"`);
  const outDir = path.resolve(args.out ?? `reproduce-${mode}`);
  let progress: Progress | null = null;
  let label = '';
  let streamLine = '';
  let cell = 0;
  try {
    const done = await reproduceNotebooks({
      mode,
      outDir,
      only: args.only?.split(',').map((s) => s.trim()).filter(Boolean),
      data: args.data,
      runs: args.runs,
      cellTimeoutSeconds: cellTimeout,
      callbacks: {
        onNotebookStart: ({ name, index, total }) => {
          label = name;
          console.log(`[${index + 1}/${total}] ${name}`);
        },
        onCellStart: ({ codeIndex, codeCells }) => {
          if (!progress) {
            progress = createProgress({
              total: codeCells,
              stream: 'stdout',
              format: "  [{bar}] {value}/{total} cells | {duration_formatted} | {line}",
              line: (v, t, f) => `  ${label}: ${v}/${t} cells done${f.line ? ` (${f.line})` : ''}`,
              lineInterval: 30,
            });
          }
          streamLine = '';
          cell = codeIndex;
          progress.update(cell, { line: '' });
        },
        onStream: (line) => {
          streamLine = line.slice(0, 60);
          (progress as Progress | null)?.update(cell, { line: streamLine });
        },
        onCellEnd: ({ codeIndex, codeCells, status }) => {
          progress?.update(codeIndex + 1, { line: status === 'ok' ? streamLine : status });
          if (codeIndex + 1 === codeCells) {
            progress?.stop();
            progress = null;
          }
        },
        onNotebookEnd: ({ seconds, status, skipped }) => {
          (progress as Progress | null)?.stop();
          progress = null;
          console.log(skipped ? '  already executed with this source, mode and data: kept' : `  ${status === 'ok' ? 'done' : 'FAILED'} in ${formatDuration(seconds)}`);
        },
      },
    });
    const failed = done.results.notebooks.filter((n) => n.status !== 'ok');
    for (const f of failed) console.log(`${f.notebook}: ${f.error}`);
    console.log(`notebooks: ${done.results.notebooks.length} (${failed.length} failed); total notebook time ${formatDuration(done.results.seconds)}, this call ${formatDuration(done.seconds)}`);
    console.log(`wrote ${path.join(done.outDir, REPORT_FILE)}, ${RESULTS_FILE} and the executed notebooks; run folders in ${done.results.runs}`);
    return failed.length ? 1 : 0;
  } finally {
    (progress as Progress | null)?.stop();
  }
}
