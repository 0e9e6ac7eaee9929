/** Failures of the kernel connection, each naming what went wrong and what to do. */
import { PertsetError } from '../../api/errors';

/** The kernel process could not be started or did not answer in time. */
export class KernelStartError extends PertsetError {}

/** The kernel process exited while the client was using it. */
export class KernelDiedError extends PertsetError {}

/** A request was made on a session that is not running (never started, shut down, or dead). */
export class KernelNotRunningError extends PertsetError {}
