/**
 * The slice of nbformat 4 that `pertset reproduce` reads and writes: cells, outputs and notebook
 * metadata, a validating reader (a malformed file is named, not half-run) and the conversion from
 * the Jupyter client's cell outputs to nbformat outputs.
 */
import * as fs from 'fs';
import { ConfigError } from '../api/errors';
import { ERROR_MIME, STDERR_MIME, STDOUT_MIME, type MappedOutput } from '../jupyter/client/output-mapping';

export type MultilineString = string | string[];

export interface StreamOutput {
  output_type: 'stream';
  name: 'stdout' | 'stderr';
  text: MultilineString;
}

export interface DisplayOutput {
  output_type: 'display_data' | 'execute_result';
  data: Record<string, unknown>;
  metadata: Record<string, unknown>;
  execution_count?: number | null;
  /** Not part of nbformat: kept while executing so later update_display_data can find it; removed on save. */
  transient?: { display_id?: string };
}

export interface ErrorOutput {
  output_type: 'error';
  ename: string;
  evalue: string;
  traceback: string[];
}

export type NotebookOutput = StreamOutput | DisplayOutput | ErrorOutput;

export interface CodeCell {
  cell_type: 'code';
  source: MultilineString;
  metadata: Record<string, unknown>;
  outputs: NotebookOutput[];
  execution_count: number | null;
  id?: string;
}

export interface TextCell {
  cell_type: 'markdown' | 'raw';
  source: MultilineString;
  metadata: Record<string, unknown>;
  id?: string;
  attachments?: Record<string, unknown>;
}

export type NotebookCell = CodeCell | TextCell;

export interface Notebook {
  nbformat: number;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

export function sourceText(source: MultilineString): string {
  return Array.isArray(source) ? source.join('') : source;
}

/** Splits text into nbformat's list of lines, each but the last ending in "\n" (what Jupyter writes). */
export function toMultiline(text: string): string[] {
  const lines = text.split('\n');
  return lines.map((line, i) => (i < lines.length - 1 ? `${line}\n` : line)).filter((line, i) => line !== '' || i < lines.length - 1);
}

/** Parses and checks a notebook; the error names the file and what is wrong with it. */
export function parseNotebook(text: string, file = 'notebook'): Notebook {
  let nb: unknown;
  try {
    nb = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not a notebook: invalid JSON (${(err as Error).message})`);
  }
  const o = nb as Partial<Notebook>;
  if (typeof o !== 'object' || o === null || !Array.isArray(o.cells)) throw new ConfigError(`${file} is not a notebook: no "cells" list`);
  if (o.nbformat !== 4) throw new ConfigError(`${file}: nbformat ${String(o.nbformat)} is not supported (expected 4)`);
  o.cells.forEach((cell, i) => {
    const c = cell as Partial<NotebookCell>;
    if (!c || !['code', 'markdown', 'raw'].includes(String(c.cell_type))) throw new ConfigError(`${file}: cell ${i} has no valid cell_type`);
    if (typeof c.source !== 'string' && !Array.isArray(c.source)) throw new ConfigError(`${file}: cell ${i} has no source`);
  });
  return { nbformat: 4, nbformat_minor: o.nbformat_minor ?? 5, metadata: o.metadata ?? {}, cells: o.cells };
}

export function readNotebook(file: string): Notebook {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read notebook ${file}: ${(err as Error).message}`);
  }
  return parseNotebook(text, file);
}

/** JSON as Jupyter writes it (one-space indent, trailing newline), without execution-only keys. */
export function serializeNotebook(nb: Notebook): string {
  return `${JSON.stringify(nb, (key, value) => (key === 'transient' ? undefined : value), 1)}\n`;
}

const decoder = new TextDecoder();

function isJsonMime(mime: string): boolean {
  return mime === 'application/json' || mime.endsWith('+json');
}

/** One client output as an nbformat output: JSON parsed back, binary images base64, text as lines. */
export function toNotebookOutput(output: MappedOutput): NotebookOutput {
  const { outputType } = output.metadata;
  if (outputType === 'stream') {
    const item = output.items[0];
    return { output_type: 'stream', name: item?.mime === STDERR_MIME ? 'stderr' : 'stdout', text: toMultiline(item ? decoder.decode(item.data) : '') };
  }
  if (outputType === 'error') {
    const item = output.items.find((i) => i.mime === ERROR_MIME);
    const e = item ? (JSON.parse(decoder.decode(item.data)) as { name: string; message: string; stack: string }) : { name: 'Error', message: '', stack: '' };
    return { output_type: 'error', ename: e.name, evalue: e.message, traceback: e.stack.split('\n') };
  }
  const data: Record<string, unknown> = {};
  for (const item of output.items) {
    if (item.mime === STDOUT_MIME || item.mime === STDERR_MIME) continue;
    if (isJsonMime(item.mime)) data[item.mime] = JSON.parse(decoder.decode(item.data));
    else if (item.mime.startsWith('image/') && item.mime !== 'image/svg+xml') data[item.mime] = Buffer.from(item.data).toString('base64');
    else data[item.mime] = toMultiline(decoder.decode(item.data));
  }
  return {
    output_type: outputType,
    data,
    metadata: output.metadata.metadata ?? {},
    ...(outputType === 'execute_result' ? { execution_count: output.metadata.executionCount ?? null } : {}),
    ...(output.metadata.transient?.display_id ? { transient: output.metadata.transient } : {}),
  };
}
