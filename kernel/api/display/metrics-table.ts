/** A table of metrics (one row per run / epoch / model) as HTML and aligned plain text. */
import { MIME, MIME_BUNDLE, type Displayable, type MimeBundle } from '../../contract/mime';
import { ArgumentError } from '../errors';
import { escapeHtml, formatNumber } from './html';

export type MetricValue = number | string | boolean | null | undefined;
export type MetricsRow = Record<string, MetricValue>;

export interface MetricsTableOptions {
  title?: string;
  /** Column order (default: keys in order of first appearance). */
  columns?: string[];
  /** Significant digits for non-integer numbers (default 4). */
  digits?: number;
  /**
   * A name under which the rows travel in the output's metadata (`pertset.record`), so that
   * `pertset reproduce` collects them into results.json; readers see the same table.
   */
  record?: string;
}

/** The output-metadata key carrying recorded rows: `{ [RECORD_METADATA_KEY]: { record, rows } }`. */
export const RECORD_METADATA_KEY = 'pertset.record';

export class MetricsTable implements Displayable {
  readonly columns: string[];

  constructor(
    readonly rows: MetricsRow[],
    readonly options: MetricsTableOptions = {},
  ) {
    if (!Array.isArray(rows) || !rows.every((r) => typeof r === 'object' && r !== null)) {
      throw new ArgumentError('metricsTable: "rows" must be an array of objects');
    }
    this.columns = options.columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  }

  private cell(v: MetricValue): string {
    if (v === null || v === undefined) return '';
    return typeof v === 'number' ? formatNumber(v, this.options.digits ?? 4) : String(v);
  }

  [MIME_BUNDLE](): MimeBundle {
    const data = { [MIME.html]: this.html(), [MIME.plain]: this.toString() };
    if (!this.options.record) return { data };
    // Non-finite numbers are not JSON: record them as null, as the table shows them empty.
    const rows = this.rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' && !Number.isFinite(v) ? null : v ?? null])));
    return { data, metadata: { [RECORD_METADATA_KEY]: { record: this.options.record, columns: this.columns, rows } } };
  }

  toString(): string {
    const cells = this.rows.map((r) => this.columns.map((c) => this.cell(r[c])));
    const widths = this.columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
    // Numbers align right, text left (as in the HTML table).
    const numeric = this.columns.map((c) => this.rows.every((r) => typeof r[c] === 'number' || r[c] === undefined || r[c] === null));
    const line = (vals: string[]) => vals.map((v, i) => (numeric[i] ? v.padStart(widths[i]) : v.padEnd(widths[i]))).join('  ').trimEnd();
    const out = [line(this.columns), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.map(line)];
    if (this.options.title) out.unshift(this.options.title);
    return out.join('\n');
  }

  private html(): string {
    const head = this.columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
    const body = this.rows
      .map((r) => `<tr>${this.columns.map((c) => `<td style="text-align:${typeof r[c] === 'number' ? 'right' : 'left'}">${escapeHtml(this.cell(r[c]))}</td>`).join('')}</tr>`)
      .join('');
    const caption = this.options.title ? `<caption>${escapeHtml(this.options.title)}</caption>` : '';
    return `<table class="pertset-metrics">${caption}<thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  }
}

/** A metrics table, e.g. `metricsTable([{model: 'fc', recon: 0.12}, {model: 'conv', recon: 0.08}])`. */
export function metricsTable(rows: MetricsRow[], options: MetricsTableOptions = {}): MetricsTable {
  return new MetricsTable(rows, options);
}
