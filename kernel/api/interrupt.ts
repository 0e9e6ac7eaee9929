/**
 * Cooperative interruption of long work (training, attacks, evaluation). The notebook kernel
 * calls `requestInterrupt()` from its SIGINT handler and the CLI from Ctrl-C; loops call
 * `throwIfInterrupted()` between steps (after yielding to the event loop so the signal handler
 * can run), which raises `InterruptedError` and leaves models and trainers in a consistent state.
 */
import { InterruptedError } from './errors';

let pending = false;
/** How many times a loop checked for an interrupt; the kernel reads it to tell cooperative work from other code. */
let checks = 0;

/** Ask the running loop to stop at its next step boundary. */
export function requestInterrupt(): void {
  pending = true;
}

/** Forget a pending request (called when a new cell or command starts). */
export function clearInterrupt(): void {
  pending = false;
}

export function interruptRequested(): boolean {
  checks++;
  return pending;
}

/** Throws `InterruptedError` (and clears the request) when an interrupt is pending. */
export function throwIfInterrupted(what = 'work'): void {
  checks++;
  if (!pending) return;
  pending = false;
  throw new InterruptedError(`${what} interrupted`);
}

/**
 * Number of `throwIfInterrupted()` / `interruptRequested()` calls so far. If it grew since a cell started, that cell runs
 * a cooperative loop that will stop at its next step boundary, so the kernel need not abort it.
 */
export function interruptChecks(): number {
  return checks;
}

/** Lets timers and signal handlers run; loops await this once per step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
