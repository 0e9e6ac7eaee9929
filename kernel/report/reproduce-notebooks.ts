/**
 * `pertset reproduce` (and `npm start`): runs the paper's notebooks through our kernel, writes the
 * executed notebooks, a static HTML report and results.json, and resumes after an interruption:
 * a notebook whose executed copy is complete for the same source, mode, data and run folders is not
 * run again, and a notebook cut short resumes its training from the run folders it wrote.
 *
 * All notebooks of one call share one working directory, `<out>/work`, whose `experiments/` holds
 * the run folders in the reference's layout (`experiments/<config name>`): the sets notebooks 01 and
 * 02 learn are the ones later notebooks open. `runs` puts another experiments folder there (a link),
 * e.g. the run folders `pertset reproduce mnist` trained, so nothing is trained twice.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ConfigError } from '../api/errors';
import { RECORD_METADATA_KEY } from '../api/display/metrics-table';
import { RUN_MODES, type RunModeName } from '../api/run-mode';
import { writeFileAtomic } from '../api/runs/atomic-dir';
import { executeNotebook, type ExecuteNotebookCallbacks } from './execute-notebook';
import { formatDuration } from '../api/display/html';
import { withExecutionNote, withoutExecutionNote, type ExecutionFacts, describeMachine } from './execution-note';
import { buildHtmlReport } from './html-report';
import { readNotebook, serializeNotebook, sourceText, type Notebook } from './nbformat';

const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');
/** The notebooks that reproduce the paper: `NN-name.ipynb` in the package's notebooks folder. */
export const NOTEBOOKS_DIR = path.join(PACKAGE_ROOT, 'notebooks');
export const REPORT_FILE = 'report.html';
export const RESULTS_FILE = 'results.json';
/** The notebooks' shared working directory under the output folder, and its run folders. */
export const WORK_DIR = 'work';
export const EXPERIMENTS_DIR = 'experiments';

/** Printed by the kernel after the last cell: what the notebook ran on. */
const ENVIRONMENT_PROBE = `console.log(JSON.stringify((() => {
  let dataset = null;
  try { const d = pertset.data.locateDataset('mnist'); dataset = { name: d.name, origin: d.origin, dir: d.dir }; } catch (e) { dataset = { error: String(e && e.message || e) }; }
  return { backend: pertset.tf.getBackend(), tfjs: pertset.tf.version.tfjs, node: process.versions.node, dataset };
})()))`;

export interface NotebookEntry {
  /** "01", "02", ... */
  number: string;
  file: string;
}

/** The numbered notebooks of `dir`, in order. */
export function listNotebooks(dir = NOTEBOOKS_DIR): NotebookEntry[] {
  if (!fs.existsSync(dir)) throw new ConfigError(`notebooks folder ${dir} not found`);
  return fs.readdirSync(dir)
    .filter((f) => /^\d\d-.*\.ipynb$/.test(f))
    .sort()
    .map((f) => ({ number: f.slice(0, 2), file: path.join(dir, f) }));
}

export interface ReproduceNotebooksOptions {
  mode: RunModeName;
  outDir: string;
  /** Notebook numbers ("1", "02") or file names to run; default all. */
  only?: string[];
  /** The folder with mnist/ for the kernel (PERTSET_DATA); default: the kernel's own search path. */
  data?: string;
  /** An experiments folder (run folders `<config name>/`) to use as the notebooks' `experiments/`; default `<out>/work/experiments`. */
  runs?: string;
  notebooksDir?: string;
  cellTimeoutSeconds?: number;
  callbacks?: ExecuteNotebookCallbacks & {
    onNotebookStart?(info: { number: string; name: string; index: number; total: number }): void;
    onNotebookEnd?(info: { number: string; name: string; seconds: number; status: NotebookStatus; skipped: boolean }): void;
  };
}

export type NotebookStatus = 'ok' | 'error';

/** What `pertset reproduce` stores in an executed notebook's metadata, under "pertset". */
export interface ExecutionRecord {
  fingerprint: string;
  mode: RunModeName;
  status: NotebookStatus;
  seconds: number;
  executed: string;
  error?: string;
  environment?: Record<string, unknown>;
  /** Cores, CPU model and memory of the machine that executed it. */
  machine?: string;
}

export interface RecordedTable {
  record: string;
  columns: string[];
  rows: Array<Record<string, unknown>>;
}

export interface NotebookResult {
  notebook: string;
  status: NotebookStatus;
  seconds: number;
  executed: string;
  error?: string;
  environment?: Record<string, unknown>;
  machine?: string;
  /** Every table the notebook recorded, by its record name. */
  tables: Record<string, RecordedTable>;
}

export interface ReproduceResults {
  mode: RunModeName;
  /** The experiments folder the notebooks trained into or read (absolute). */
  runs: string;
  generated: string;
  /** Wall time of all notebooks as run (skipped ones count with their recorded time). */
  seconds: number;
  pertset: string;
  notebooks: NotebookResult[];
}

export interface ReproduceNotebooksResult {
  results: ReproduceResults;
  outDir: string;
  report: string;
  resultsFile: string;
  notebookFiles: string[];
  /** Seconds this call spent (skipped notebooks cost nothing). */
  seconds: number;
}

/** Source, mode, data and run folders: when any changes, an executed copy is stale. */
function fingerprint(nb: Notebook, mode: string, data: string | undefined, runs: string): string {
  const hash = createHash('sha256');
  for (const cell of nb.cells) hash.update(`${cell.cell_type}\0${sourceText(cell.source)}\0`);
  hash.update(`${mode}\0${data ?? ''}\0${runs}`);
  return hash.digest('hex').slice(0, 16);
}

/**
 * Makes `<work>/experiments` the notebooks' run folders: a folder of its own, or a link to `runs`.
 * A call with `runs` never hides run folders an earlier call trained there; it names them instead.
 * Returns the experiments folder, resolved.
 */
export function prepareExperiments(workDir: string, runs: string | undefined): string {
  const link = path.join(workDir, EXPERIMENTS_DIR);
  fs.mkdirSync(workDir, { recursive: true });
  const existing = fs.lstatSync(link, { throwIfNoEntry: false });
  if (runs === undefined) {
    // A link an earlier call made with --runs is kept: the same output folder goes on with the same run folders.
    if (!existing) fs.mkdirSync(link);
    return fs.realpathSync(link);
  }
  const target = path.resolve(runs);
  if (!fs.statSync(target, { throwIfNoEntry: false })?.isDirectory()) throw new ConfigError(`--runs ${target} is not a folder (expected one holding run folders such as mnist_fc_linf/)`);
  if (existing?.isSymbolicLink()) {
    if (fs.existsSync(link) && fs.realpathSync(link) === fs.realpathSync(target)) return fs.realpathSync(target);
    fs.unlinkSync(link);
  } else if (existing) {
    if (fs.readdirSync(link).length > 0) {
      throw new ConfigError(`--runs: ${link} already holds run folders trained by an earlier call (${fs.readdirSync(link).join(', ')}); use another --out with --runs ${target}, or remove that folder`);
    }
    fs.rmdirSync(link);
  }
  fs.symlinkSync(target, link, 'dir');
  return fs.realpathSync(target);
}

function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The rows of every recorded table of an executed notebook (see `MetricsTableOptions.record`). */
export function recordedTables(nb: Notebook): Record<string, RecordedTable> {
  const tables: Record<string, RecordedTable> = {};
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    for (const out of cell.outputs) {
      if (out.output_type !== 'display_data' && out.output_type !== 'execute_result') continue;
      const rec = out.metadata?.[RECORD_METADATA_KEY] as RecordedTable | undefined;
      if (rec && typeof rec.record === 'string') tables[rec.record] = rec;
    }
  }
  return tables;
}

function selectNotebooks(all: NotebookEntry[], only: string[] | undefined): NotebookEntry[] {
  if (!only || only.length === 0) return all;
  return only.map((want) => {
    const key = want.trim();
    const found = all.find((n) => n.number === key.padStart(2, '0') || path.basename(n.file) === key || path.basename(n.file, '.ipynb') === key);
    if (!found) throw new ConfigError(`--only: no notebook "${key}"; the notebooks are ${all.map((n) => `${n.number} (${path.basename(n.file)})`).join(', ')}`);
    return found;
  });
}

export async function reproduceNotebooks(options: ReproduceNotebooksOptions): Promise<ReproduceNotebooksResult> {
  if (!(RUN_MODES as readonly string[]).includes(options.mode)) throw new ConfigError(`mode must be one of ${RUN_MODES.join(', ')}, got "${options.mode}"`);
  const started = Date.now();
  const outDir = path.resolve(options.outDir);
  const data = options.data ? path.resolve(options.data) : undefined;
  if (data && !fs.existsSync(data)) throw new ConfigError(`--data ${data} does not exist`);
  const chosen = selectNotebooks(listNotebooks(options.notebooksDir), options.only);
  // Every notebook is read and checked before the first one runs: a malformed file stops nothing half-way.
  // A committed copy carries the note of its own execution: never part of the source.
  const sources = new Map(chosen.map((entry) => [entry.file, withoutExecutionNote(readNotebook(entry.file))]));
  if (options.runs !== undefined && !fs.statSync(path.resolve(options.runs), { throwIfNoEntry: false })?.isDirectory()) {
    throw new ConfigError(`--runs ${path.resolve(options.runs)} is not a folder (expected one holding run folders such as mnist_fc_linf/)`);
  }
  fs.mkdirSync(outDir, { recursive: true });
  // One working directory for all notebooks: the sets 01 and 02 learn are in experiments/ for the later ones.
  const workDir = path.join(outDir, WORK_DIR);
  const runs = prepareExperiments(workDir, options.runs);
  const cb = options.callbacks ?? {};
  const results: NotebookResult[] = [];
  const executedFiles: string[] = [];
  for (const [index, entry] of chosen.entries()) {
    const name = path.basename(entry.file);
    const source = sources.get(entry.file) as Notebook;
    const print = fingerprint(source, options.mode, data, runs);
    const outFile = path.join(outDir, name);
    executedFiles.push(outFile);
    cb.onNotebookStart?.({ number: entry.number, name, index, total: chosen.length });
    const previous = fs.existsSync(outFile) ? safeRead(outFile) : undefined;
    const prevRecord = previous?.metadata.pertset as ExecutionRecord | undefined;
    let executed: Notebook;
    let record: ExecutionRecord;
    let skipped = false;
    if (previous && prevRecord?.fingerprint === print && prevRecord.status === 'ok') {
      executed = previous;
      record = prevRecord;
      skipped = true;
    } else {
      const run = await executeNotebook(source, {
        cwd: workDir,
        env: { PERTSET_NOTEBOOK_MODE: options.mode, ...(data ? { PERTSET_DATA: data } : {}) },
        cellTimeoutSeconds: options.cellTimeoutSeconds,
        callbacks: cb,
        probe: ENVIRONMENT_PROBE,
      });
      let environment: Record<string, unknown> | undefined;
      try {
        environment = run.probe ? (JSON.parse(run.probe.trim().split('\n').pop() as string) as Record<string, unknown>) : undefined;
      } catch {
        environment = undefined;
      }
      record = {
        fingerprint: print,
        mode: options.mode,
        status: run.error ? 'error' : 'ok',
        seconds: Math.round(run.seconds * 10) / 10,
        executed: new Date().toISOString(),
        ...(run.error ? { error: run.error.message } : {}),
        ...(environment ? { environment } : {}),
        machine: describeMachine(),
      };
      executed = withExecutionNote(run.notebook, {
        mode: options.mode,
        seconds: record.seconds,
        executed: record.executed,
        reusedRuns: options.runs !== undefined,
        environment: record.environment as ExecutionFacts['environment'],
        pertset: packageVersion(),
      });
      executed.metadata = { ...executed.metadata, pertset: record };
      writeFileAtomic(outFile, serializeNotebook(executed));
    }
    cb.onNotebookEnd?.({ number: entry.number, name, seconds: record.seconds, status: record.status, skipped });
    results.push({
      notebook: name,
      status: record.status,
      seconds: record.seconds,
      executed: record.executed,
      ...(record.error ? { error: record.error } : {}),
      ...(record.environment ? { environment: record.environment } : {}),
      ...(record.machine ? { machine: record.machine } : {}),
      tables: recordedTables(executed),
    });
  }
  const summary: ReproduceResults = {
    mode: options.mode,
    runs,
    generated: new Date().toISOString(),
    seconds: Math.round(results.reduce((s, r) => s + r.seconds, 0) * 10) / 10,
    pertset: packageVersion(),
    notebooks: results,
  };
  const resultsFile = path.join(outDir, RESULTS_FILE);
  writeFileAtomic(resultsFile, `${JSON.stringify(summary, null, 2)}\n`);
  const report = path.join(outDir, REPORT_FILE);
  const notebooks = executedFiles.map((f) => ({ file: path.basename(f), notebook: readNotebook(f) }));
  const env = results.find((r) => r.environment)?.environment as { backend?: string; dataset?: { name?: string; dir?: string } } | undefined;
  writeFileAtomic(report, buildHtmlReport(notebooks, {
    title: 'Learning perturbation sets: the paper’s experiments, reproduced',
    facts: [
      ['mode', options.mode],
      ['notebooks', results.map((r) => `${r.notebook} (${r.status}, ${formatDuration(r.seconds)})`).join('; ')],
      ['total time', formatDuration(summary.seconds)],
      ['run folders', runs],
      ['machine', describeMachine()],
      ['dataset', env?.dataset?.name ? `${env.dataset.name} (${env.dataset.dir ?? ''})` : 'unknown'],
      ['backend', env?.backend ?? 'unknown'],
      ['pertset', summary.pertset],
      ['generated', summary.generated],
    ],
  }));
  return { results: summary, outDir, report, resultsFile, notebookFiles: executedFiles, seconds: (Date.now() - started) / 1000 };
}

function safeRead(file: string): Notebook | undefined {
  try {
    return readNotebook(file);
  } catch {
    return undefined;
  }
}
