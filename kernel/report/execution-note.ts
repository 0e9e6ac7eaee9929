/**
 * The note `pertset reproduce` puts first in every executed notebook: how that copy was made (mode,
 * budgets, data, machine, backend, wall time, whether its sets were trained here or opened from
 * earlier run folders). The committed notebooks carry their outputs, so a reader must see what
 * produced them before reading a figure. The note is one markdown cell with a fixed id: it is
 * replaced on every execution and never counts as source (the fingerprint skips it).
 */
import * as os from 'os';
import { formatDuration } from '../api/display/html';
import { sourceText, type Notebook, type NotebookCell, type TextCell } from './nbformat';

export const EXECUTION_NOTE_ID = 'pertset-execution-note';

export function isExecutionNote(cell: NotebookCell): boolean {
  return cell.cell_type === 'markdown' && cell.id === EXECUTION_NOTE_ID;
}

/** The notebook without its execution note (a copy; the cells are shared). */
export function withoutExecutionNote(nb: Notebook): Notebook {
  return { ...nb, cells: nb.cells.filter((c) => !isExecutionNote(c)) };
}

export interface ExecutionFacts {
  mode: string;
  /** Wall time of this notebook's execution. */
  seconds: number;
  /** ISO date of the execution. */
  executed: string;
  /** Whether the run folders came from `--runs` (trained by an earlier command) or were trained in this call. */
  reusedRuns: boolean;
  environment?: { backend?: string; tfjs?: string; node?: string; native?: boolean; dataset?: { name?: string; origin?: string } };
  pertset: string;
}

/** "2 cores (AMD EPYC …), 24 GiB": the machine this process runs on. */
export function describeMachine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.replace(/\s+/g, ' ').trim();
  const gib = Math.round(os.totalmem() / 2 ** 30);
  return `${cpus.length} CPU core${cpus.length === 1 ? '' : 's'}${model ? ` (${model})` : ''}, ${gib} GiB, no GPU used`;
}

/** The settings cell's first printed line, `mode M: {...budgets}`, if the notebook printed one. */
function budgetLine(nb: Notebook): string | undefined {
  for (const cell of nb.cells) {
    if (cell.cell_type !== 'code') continue;
    for (const out of cell.outputs) {
      if (out.output_type !== 'stream') continue;
      const line = sourceText(out.text).split('\n').find((l) => /^mode \w+: /.test(l));
      if (line) return line.replace(/^mode \w+: /, '');
    }
    return undefined;
  }
  return undefined;
}

function describeData(env: ExecutionFacts['environment']): string {
  const d = env?.dataset;
  if (!d?.name) return 'unknown data';
  if (d.origin === 'embedded') return "the embedded Fashion-MNIST subset (not MNIST: its figures are not the paper's)";
  return d.name === 'mnist' ? 'real MNIST' : d.name;
}

export function executionNoteText(nb: Notebook, facts: ExecutionFacts): string {
  const env = facts.environment;
  const budget = budgetLine(nb);
  const backend = env?.backend ? `TensorFlow.js ${env.tfjs ?? ''} on its ${env.backend} backend`.replace('  ', ' ') : 'an unknown backend';
  const lines = [
    `> **This copy was executed** by \`pertset reproduce\` on ${facts.executed.slice(0, 10)} in **${facts.mode}** mode, on ${describeData(env)}.`,
    '>',
    `> - Budgets (printed by the settings cell below): \`${budget ?? 'not printed'}\`.`,
    `> - Machine: ${describeMachine()}, load average ${os.loadavg()[0].toFixed(1)} when it finished; ${backend}, Node ${env?.node ?? process.versions.node}, pertset ${facts.pertset}.`,
    `> - Wall time of this notebook: **${formatDuration(facts.seconds)}**.` + (facts.reusedRuns
      ? ' What it shows was trained before, by `pertset reproduce mnist` / `pertset reproduce robust` at the same budget, and opened here from those run folders (`--runs`): this time leaves out the training, whose times are in the tables below.'
      : ' Everything it shows was trained in that time.'),
    '>',
    '> Running it again (Run All, or `pertset reproduce`) replaces the outputs; this note then describes the saved copy only.',
  ];
  return lines.join('\n');
}

/** The notebook with a fresh execution note as its first cell (any earlier note is dropped). */
export function withExecutionNote(nb: Notebook, facts: ExecutionFacts): Notebook {
  const rest = withoutExecutionNote(nb);
  const note: TextCell = { cell_type: 'markdown', id: EXECUTION_NOTE_ID, metadata: {}, source: executionNoteText(rest, facts) };
  return { ...rest, cells: [note, ...rest.cells] };
}
