/**
 * Errors raised by the perturbation-set API. Every message names the problem: what was
 * expected, what was got, and where (argument, file, config path).
 */
export class PertsetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
    // Keep `instanceof` working when compiled to ES5-style classes by other toolchains.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** A config file or option is invalid; the message carries the JSON path (e.g. `training.lr_schedule[1]`). */
export class ConfigError extends PertsetError {}

/** A data file is malformed: bad magic number, truncated, wrong size, checksum mismatch. */
export class DataFormatError extends PertsetError {}

/** Training produced NaN/Inf or diverged; the last good checkpoint is kept. */
export class DivergenceError extends PertsetError {}

/** A checkpoint is missing, incomplete or does not match the model. */
export class CheckpointError extends PertsetError {}

/** A function received an argument of the wrong shape, range or type. */
export class ArgumentError extends PertsetError {}

/** Long work was stopped by the user (SIGINT in the kernel, Ctrl-C on the CLI). */
export class InterruptedError extends PertsetError {}

/**
 * Writing to disk failed for lack of space, a read-only file system or permissions. `path` is
 * the file or folder that could not be written, `code` the system error (`ENOSPC`, `EROFS`, ...).
 */
export class StorageError extends PertsetError {
  constructor(
    message: string,
    readonly code: string,
    readonly path: string,
  ) {
    super(message);
  }
}

/** Another process is using the run folder (its lock is held). */
export class RunLockedError extends PertsetError {}

/** A folder the API writes to (run, cache, Jupyter data dir) cannot be created: a storage error at that folder. */
export class OutputDirError extends StorageError {}
