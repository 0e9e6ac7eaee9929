/**
 * Cooperative interruption of long work (training, attacks, evaluation). The notebook kernel
 * calls `requestInterrupt()` from its SIGINT handler and the CLI from Ctrl-C; loops call
 * `throwIfInterrupted()` between steps (after yielding to the event loop so the signal handler
 * can run), which raises `InterruptedError` and leaves models and trainers in a consistent state.
 */
import { InterruptedError } from './errors';

let pending = false;

/** Ask the running loop to stop at its next step boundary. */
export function requestInterrupt(): void {
  pending = true;
}

/** Forget a pending request (called when a new cell or command starts). */
export function clearInterrupt(): void {
  pending = false;
}

export function interruptRequested(): boolean {
  return pending;
}

/** Throws `InterruptedError` (and clears the request) when an interrupt is pending. */
export function throwIfInterrupted(what = 'work'): void {
  if (!pending) return;
  pending = false;
  throw new InterruptedError(`${what} interrupted`);
}

/** Lets timers and signal handlers run; loops await this once per step. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
