/**
 * Where displays go. The notebook kernel installs a sink that turns bundles into Jupyter
 * `display_data` / `update_display_data` / `clear_output` messages; outside a kernel (CLI,
 * scripts, tests) no sink is installed and `display()` prints the `text/plain` form instead.
 *
 * The sink lives on `globalThis` under a global symbol so that every copy of this module (e.g.
 * one loaded by path from the kernel preamble and one from a project's node_modules) shares it.
 */
import type { MimeBundle } from '../../contract/mime';

export interface DisplaySink {
  /** Shows a bundle; with `update` it replaces the earlier output that has the same `displayId`. */
  display(bundle: MimeBundle, displayId: string | undefined, update: boolean): void;
  /** Clears the current cell's output (`wait`: only when the next output arrives). */
  clear(wait: boolean): void;
}

const SINK = Symbol.for('pertset.displaySink');

type SinkHolder = { [SINK]?: DisplaySink };

export function setDisplaySink(sink: DisplaySink | undefined): void {
  (globalThis as SinkHolder)[SINK] = sink;
}

export function getDisplaySink(): DisplaySink | undefined {
  return (globalThis as SinkHolder)[SINK];
}
