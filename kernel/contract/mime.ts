/**
 * The MIME types our outputs carry. Shared by the kernel (which emits them), the renderers
 * (which draw them) and the extension (which contributes the renderers). No tfjs, no Node APIs:
 * this module is bundled into the browser renderers too.
 */
export const MIME = {
  imageGrid: 'application/vnd.pertset.image-grid+json',
  latentTraversal: 'application/vnd.pertset.latent-traversal+json',
  /** Plotly's own standard type, so JupyterLab's plotly renderer shows our charts as well. */
  plotly: 'application/vnd.plotly.v1+json',
  html: 'text/html',
  plain: 'text/plain',
  png: 'image/png',
  json: 'application/json',
} as const;

/** Our own (vendor) MIME types, in the order the renderers are contributed. */
export const PERTSET_MIME_TYPES = [MIME.imageGrid, MIME.latentTraversal] as const;
export type PertsetMimeType = (typeof PERTSET_MIME_TYPES)[number];

/**
 * A displayable API object implements this method (keyed by a global symbol, so values made by
 * any copy of the library are recognised) and returns its whole MIME bundle.
 */
export const MIME_BUNDLE = Symbol.for('pertset.mimebundle');

export interface MimeBundle {
  data: Record<string, unknown>;
  metadata?: Record<string, unknown>;
}

export interface Displayable {
  [MIME_BUNDLE](): MimeBundle;
}

export function isDisplayable(x: unknown): x is Displayable {
  return typeof x === 'object' && x !== null && typeof (x as Record<symbol, unknown>)[MIME_BUNDLE] === 'function';
}
