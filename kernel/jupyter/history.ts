/** The input history answered by `history_request` (tail, range and glob search, as IPython does). */

export interface HistoryEntry {
  session: number;
  line: number;
  input: string;
  /** `text/plain` of the cell's result, if any. */
  output?: string;
}

export interface HistoryRequest {
  output?: boolean;
  hist_access_type?: 'tail' | 'range' | 'search' | string;
  session?: number;
  start?: number;
  stop?: number;
  n?: number;
  pattern?: string;
  unique?: boolean;
}

type Row = [number, number, string] | [number, number, [string, string | null]];

/** IPython search patterns are globs: `*` any run, `?` one character. */
function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[\\s\\S]*').replace(/\?/g, '[\\s\\S]');
  return new RegExp(`^${body}$`);
}

export class History {
  /** This process's session number (one session per kernel process). */
  readonly session = 1;
  private readonly entries: HistoryEntry[] = [];

  add(line: number, input: string): HistoryEntry {
    const e: HistoryEntry = { session: this.session, line, input };
    this.entries.push(e);
    return e;
  }

  query(req: HistoryRequest): Row[] {
    let found: HistoryEntry[];
    switch (req.hist_access_type) {
      case 'range': {
        const start = req.start ?? 0;
        const stop = req.stop ?? Infinity;
        found = this.entries.filter((e) => (req.session === undefined || req.session === 0 || req.session === e.session || req.session < 0) && e.line >= start && e.line < stop);
        break;
      }
      case 'search': {
        const re = globToRegExp(req.pattern ?? '*');
        found = this.entries.filter((e) => re.test(e.input));
        if (req.unique) {
          const seen = new Set<string>();
          found = found.reverse().filter((e) => !seen.has(e.input) && seen.add(e.input)).reverse();
        }
        if (typeof req.n === 'number') found = req.n > 0 ? found.slice(-req.n) : [];
        break;
      }
      default: // tail
        found = typeof req.n === 'number' ? (req.n > 0 ? this.entries.slice(-req.n) : []) : this.entries.slice();
    }
    return found.map((e): Row => (req.output ? [e.session, e.line, [e.input, e.output ?? null]] : [e.session, e.line, e.input]));
  }
}
