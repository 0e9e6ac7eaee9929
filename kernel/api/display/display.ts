/**
 * `display(x)`: shows a value mid-cell (or on the console outside a notebook) and returns a
 * handle that replaces that output in place (`update_display_data`).
 */
import { randomUUID } from 'crypto';
import { inspect } from 'util';
import { isDisplayable, MIME, MIME_BUNDLE, type MimeBundle } from '../../contract/mime';
import { validateImageGridPayload, validateLatentTraversalPayload, validatePlotlyFigure } from '../../contract/payloads';
import { ArgumentError } from '../errors';
import { escapeHtml } from './html';
import { getDisplaySink } from './sink';

const VALIDATORS: Record<string, (x: unknown) => unknown> = {
  [MIME.imageGrid]: validateImageGridPayload,
  [MIME.latentTraversal]: validateLatentTraversalPayload,
  [MIME.plotly]: validatePlotlyFigure,
};

/**
 * The MIME bundle of any value. Displayable objects give their own (checked: our payloads are
 * validated and a `text/plain` fallback is required); strings are shown as text; other values
 * as `util.inspect` shows them.
 */
export function toMimeBundle(value: unknown): MimeBundle {
  if (isDisplayable(value)) {
    const bundle = value[MIME_BUNDLE]();
    for (const [mime, validate] of Object.entries(VALIDATORS)) {
      if (mime in bundle.data) validate(bundle.data[mime]);
    }
    if (typeof bundle.data[MIME.plain] !== 'string') {
      throw new ArgumentError(`display: the MIME bundle of ${value.constructor?.name ?? 'a value'} lacks a "text/plain" fallback`);
    }
    return bundle;
  }
  const text = typeof value === 'string' ? value : inspect(value, { depth: 4, colors: false });
  return { data: { [MIME.plain]: text } };
}

/** Values carrying this symbol are not shown as a cell's result (e.g. the handle `display()` returns). */
export const NO_RESULT = Symbol.for('pertset.noResult');

/**
 * The bundle of a cell's last-expression value: like `toMimeBundle`, but strings are quoted as
 * in the Node REPL; undefined for values that are not results (display handles).
 */
export function resultBundle(value: unknown): MimeBundle | undefined {
  if (typeof value === 'object' && value !== null && NO_RESULT in value) return undefined;
  return typeof value === 'string' ? { data: { [MIME.plain]: inspect(value) } } : toMimeBundle(value);
}

function emit(bundle: MimeBundle, displayId: string | undefined, update: boolean): void {
  const sink = getDisplaySink();
  if (sink) sink.display(bundle, displayId, update);
  else console.log(bundle.data[MIME.plain]);
}

/** An output that can be replaced in place. */
export class DisplayHandle {
  /** `display(x)` as a cell's last line shows x once, not also the handle. */
  readonly [NO_RESULT] = true;

  constructor(readonly displayId: string = randomUUID()) {}

  /** Shows `value` as a new output carrying this handle's id. */
  display(value: unknown): this {
    emit(toMimeBundle(value), this.displayId, false);
    return this;
  }

  /** Replaces every output of this handle with `value`. */
  update(value: unknown): this {
    emit(toMimeBundle(value), this.displayId, true);
    return this;
  }
}

/** Shows `value` now (any number of times per cell) and returns a handle to update it in place. */
export function display(value: unknown): DisplayHandle {
  return new DisplayHandle().display(value);
}

/** Shows HTML as is (trusted input only). `text` is the plain-text fallback. */
export function html(markup: string, text = markup.replace(/<[^>]*>/g, '')): { [MIME_BUNDLE](): MimeBundle } {
  return { [MIME_BUNDLE]: () => ({ data: { [MIME.html]: markup, [MIME.plain]: text } }) };
}

/** Preformatted text shown as HTML `<pre>` and plain text. */
export function text(s: string): { [MIME_BUNDLE](): MimeBundle } {
  return { [MIME_BUNDLE]: () => ({ data: { [MIME.html]: `<pre>${escapeHtml(s)}</pre>`, [MIME.plain]: s } }) };
}

/** Clears the current cell's output; with `wait`, only once the next output arrives (no flicker). */
export function clearOutput(wait = false): void {
  const sink = getDisplaySink();
  if (sink) sink.clear(wait);
}
