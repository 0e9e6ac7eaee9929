/**
 * Turns what a failed cell produced (a thrown value, or TypeScript diagnostics) into the
 * `ename` / `evalue` / `traceback` of Jupyter's `error` message.
 */
import { inspect } from 'util';

export interface CellError {
  ename: string;
  evalue: string;
  traceback: string[];
}

/** The name compile (type-check) errors are reported under. */
export const COMPILE_ERROR_NAME = 'TypeScriptError';

/** tslab's executor and vm report interrupts with these; we report them as `InterruptedError`. */
function isInterrupt(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  return e.message === 'Interrupted asynchronously' || (e as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED';
}

/** Stack frames below the cell (tslab's executor, vm, our kernel) say nothing to the user. */
function userFrames(stack: string, ename: string): string[] {
  let lines = stack.split('\n');
  // vm prefixes the stack with "file:line / source line / ^" when it decorates errors.
  const head = lines.findIndex((l) => l.startsWith(`${ename}:`) || l === ename);
  if (head > 0) lines = lines.slice(head);
  const cut = lines.findIndex((l) => /tslab[\\/]dist[\\/]executor\.js|node:vm|kernel[\\/]jupyter[\\/]/.test(l));
  return cut > 0 ? lines.slice(0, cut) : lines;
}

export function runtimeError(e: unknown): CellError {
  if (isInterrupt(e)) {
    return { ename: 'InterruptedError', evalue: 'cell interrupted', traceback: ['InterruptedError: cell interrupted'] };
  }
  if (e instanceof Error) {
    const ename = e.name || e.constructor?.name || 'Error';
    const traceback = e.stack ? userFrames(e.stack, ename) : [`${ename}: ${e.message}`];
    return { ename, evalue: e.message, traceback };
  }
  const text = inspect(e);
  return { ename: 'Uncaught', evalue: text, traceback: [`Uncaught ${text}`] };
}

/** Diagnostics as printed by tslab ("line:col - message"), one per entry. */
export function compileError(diagnostics: string[]): CellError {
  const n = diagnostics.length;
  return {
    ename: COMPILE_ERROR_NAME,
    evalue: n === 1 ? diagnostics[0] : `${diagnostics[0]} (and ${n - 1} more)`,
    traceback: diagnostics.map((d) => `${COMPILE_ERROR_NAME}: ${d}`),
  };
}
