/**
 * A self-contained static HTML report of executed notebooks. Outputs carrying our MIME types (and
 * plotly's) are drawn in the page by the very renderer bundles the VS Code extension ships, loaded
 * from the page itself through an import map of blob: URLs (no server, no network), so grids, charts and
 * interpolations stay interactive; other outputs use their richest standard MIME type.
 *
 * Nothing from an output is injected as markup except `text/html`, which our kernel produces for
 * its tables (escaped values) exactly as nbconvert and JupyterLab show it; markdown cells are
 * rendered with raw HTML disabled.
 */
import * as fs from 'fs';
import * as path from 'path';
import MarkdownIt from 'markdown-it';
import { escapeHtml, formatDuration } from '../api/display/html';
import { ConfigError } from '../api/errors';
import { sourceText, type Notebook, type NotebookOutput } from './nbformat';

/** The package root (dist/kernel/report → ../../..). */
const PACKAGE_ROOT = path.resolve(__dirname, '..', '..', '..');
export const RENDERERS_DIR = path.join(PACKAGE_ROOT, 'extension', 'out', 'renderers');
const EXTENSION_MANIFEST = path.join(PACKAGE_ROOT, 'extension', 'package.json');

export interface ReportNotebook {
  /** File name of the executed notebook, linked from the report. */
  file: string;
  notebook: Notebook;
}

export interface HtmlReportOptions {
  title: string;
  /** Lines shown under the title (mode, data, backend, wall time...). */
  facts: Array<[string, string]>;
  /** Markdown shown before the notebooks (e.g. the claims summary). */
  summaryMarkdown?: string;
  /** Where the renderer bundles are (default: the extension's build output in this package). */
  renderersDir?: string;
}

interface RendererEntry {
  /** Module name in the page's import map. */
  module: string;
  mimeTypes: string[];
}

/** Which renderer draws which MIME type: read from the extension's manifest, so the report and VS Code agree. */
export function rendererEntries(manifestFile = EXTENSION_MANIFEST): RendererEntry[] {
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
    contributes?: { notebookRenderer?: Array<{ entrypoint: string; mimeTypes: string[] }> };
  };
  return (manifest.contributes?.notebookRenderer ?? []).map((r) => ({
    module: `pertset-renderers/${path.basename(r.entrypoint)}`,
    mimeTypes: r.mimeTypes,
  }));
}

/** JSON inside a <script> element: "</" and U+2028/9 cannot end or break it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/<\//g, '<\\/').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');

/**
 * The renderer bundles by module name, base64. esbuild's relative chunk imports ("./chunks/x.js",
 * "./x.js") are rewritten to bare names: the page maps every name to a blob: URL, which has no
 * base URL for relative imports. (data: URLs would do too, but Chromium takes about a minute to
 * resolve a multi-megabyte data: URL; blob: URLs are instant.)
 */
export function rendererModules(dir = RENDERERS_DIR): Record<string, string> {
  if (!fs.existsSync(dir)) throw new ConfigError(`renderer bundles not found in ${dir}; build them with "npm run build"`);
  const chunkDir = path.join(dir, 'chunks');
  const chunks = fs.existsSync(chunkDir) ? fs.readdirSync(chunkDir).filter((f) => f.endsWith('.js')) : [];
  const rewrite = (code: string) => chunks.reduce(
    (text, chunk) => text.split(`"./chunks/${chunk}"`).join(`"pertset-renderers/chunks/${chunk}"`).split(`"./${chunk}"`).join(`"pertset-renderers/chunks/${chunk}"`),
    code,
  );
  const encoded = (file: string) => Buffer.from(rewrite(fs.readFileSync(file, 'utf8'))).toString('base64');
  const modules: Record<string, string> = {};
  for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.js'))) modules[`pertset-renderers/${f}`] = encoded(path.join(dir, f));
  for (const f of chunks) modules[`pertset-renderers/chunks/${f}`] = encoded(path.join(chunkDir, f));
  return modules;
}

const STANDARD_ORDER = ['text/html', 'image/svg+xml', 'image/png', 'image/jpeg', 'image/gif', 'text/markdown', 'text/plain'];

class OutputHtml {
  readonly payloads: Array<{ id: string; mime: string; module: string; data: unknown }> = [];
  private readonly markdown = new MarkdownIt({ html: false, linkify: false, typographer: false });

  constructor(private readonly renderers: RendererEntry[]) {}

  markdownHtml(text: string): string {
    return this.markdown.render(text);
  }

  output(out: NotebookOutput): string {
    switch (out.output_type) {
      case 'stream':
        return `<pre class="stream ${out.name}">${escapeHtml(sourceText(out.text))}</pre>`;
      case 'error':
        // Tracebacks carry ANSI colour codes; the report shows plain text.
        return `<pre class="error">${escapeHtml(out.traceback.join('\n').replace(/\u001b\[[0-9;]*m/g, '') || `${out.ename}: ${out.evalue}`)}</pre>`;
      default:
        return this.rich(out.data);
    }
  }

  private rich(data: Record<string, unknown>): string {
    for (const [mime, value] of Object.entries(data)) {
      const renderer = this.renderers.find((r) => r.mimeTypes.includes(mime));
      if (!renderer) continue;
      const id = `out-${this.payloads.length}`;
      this.payloads.push({ id, mime, module: renderer.module, data: value });
      return `<div class="output rendered" id="${id}" data-mime="${escapeHtml(mime)}"></div>`;
    }
    const mime = STANDARD_ORDER.find((m) => m in data);
    if (!mime) return '';
    const text = sourceText(data[mime] as string | string[]);
    switch (mime) {
      case 'text/html':
        return `<div class="output html">${text}</div>`;
      case 'image/svg+xml':
        return `<div class="output"><img alt="figure" src="data:image/svg+xml;base64,${Buffer.from(text).toString('base64')}"></div>`;
      case 'text/markdown':
        return `<div class="output markdown">${this.markdownHtml(text)}</div>`;
      case 'text/plain':
        return `<pre class="output text">${escapeHtml(text)}</pre>`;
      default:
        return `<div class="output"><img alt="figure" src="data:${mime};base64,${text.replace(/\s/g, '')}"></div>`;
    }
  }
}

const STYLE = `
:root { --vscode-editor-foreground: #1f1f1f; --vscode-editor-background: #ffffff;
  --vscode-descriptionForeground: #616161; --vscode-focusBorder: #005fb8; --vscode-errorForeground: #a1260d;
  --vscode-inputValidation-errorBackground: #f2dede; --vscode-inputValidation-errorBorder: #be1100;
  --vscode-editorWarning-foreground: #bf8803; --vscode-font-family: "DejaVu Sans", system-ui, sans-serif;
  --vscode-font-size: 13px; }
body { font-family: var(--vscode-font-family); color: var(--vscode-editor-foreground); background: var(--vscode-editor-background);
  max-width: 1000px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }
nav ul { columns: 2; } .facts td { padding: 1px 12px 1px 0; } .facts td:first-child { color: var(--vscode-descriptionForeground); }
section.notebook { border-top: 2px solid #ddd; margin-top: 32px; }
details.source summary { cursor: pointer; color: var(--vscode-descriptionForeground); font-size: 12px; }
pre { background: #f6f6f6; padding: 8px; overflow-x: auto; font-size: 12px; }
pre.stderr { background: #fff6e5; } pre.error { background: var(--vscode-inputValidation-errorBackground); color: var(--vscode-errorForeground); }
.output { margin: 8px 0; overflow-x: auto; } .output img { max-width: 100%; }
table { border-collapse: collapse; } th, td { border-bottom: 1px solid #e4e4e4; padding: 2px 8px; text-align: left; }
`;

/** Turns the embedded bundles into blob: URLs, declares them as an import map, then starts the loader. */
const BOOTSTRAP = `
(() => {
  const modules = JSON.parse(document.getElementById('pertset-modules').textContent);
  const imports = {};
  for (const [name, b64] of Object.entries(modules)) {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    imports[name] = URL.createObjectURL(new Blob([bytes], { type: 'text/javascript' }));
  }
  const map = document.createElement('script');
  map.type = 'importmap';
  map.textContent = JSON.stringify({ imports });
  document.head.appendChild(map);
  const loader = document.createElement('script');
  loader.type = 'module';
  loader.textContent = document.getElementById('pertset-loader').textContent;
  document.body.appendChild(loader);
})();
`;

/**
 * Each payload sits in a JSON <script>; the loader imports the renderer named in it and calls
 * `renderOutputItem` with an output item and a context as VS Code's webview provides.
 */
const LOADER = `
const payloads = JSON.parse(document.getElementById('pertset-payloads').textContent);
const encoder = new TextEncoder();
const states = {};
const context = {
  getState: () => states.value, setState: (v) => { states.value = v; },
  getRenderer: async () => undefined, postMessage: () => {}, workspace: { isTrusted: true },
};
const apis = {};
window.__pertsetRendered = 0;
window.__pertsetTimings = [];
for (const p of payloads) {
  const t0 = performance.now();
  const text = JSON.stringify(p.data);
  const item = { id: p.id, mime: p.mime, metadata: {}, text: () => text, json: () => JSON.parse(text),
    data: () => encoder.encode(text), blob: () => new Blob([encoder.encode(text)], { type: p.mime }) };
  apis[p.module] ??= import(p.module).then((m) => m.activate(context));
  try {
    await (await apis[p.module]).renderOutputItem(item, document.getElementById(p.id), new AbortController().signal);
  } catch (err) {
    const box = document.getElementById(p.id);
    box.textContent = 'Cannot render this output: ' + (err && err.message ? err.message : String(err));
    box.className = 'output error';
  }
  window.__pertsetRendered += 1;
  window.__pertsetTimings.push([p.mime, Math.round(performance.now() - t0)]);
}
window.__pertsetReady = true;
`;

/** The report as one HTML string. */
export function buildHtmlReport(notebooks: ReportNotebook[], options: HtmlReportOptions): string {
  const html = new OutputHtml(rendererEntries());
  const sections = notebooks.map(({ file, notebook }, n) => {
    const cells = notebook.cells.map((cell) => {
      if (cell.cell_type === 'markdown') return `<div class="markdown">${html.markdownHtml(sourceText(cell.source))}</div>`;
      if (cell.cell_type !== 'code') return '';
      const source = sourceText(cell.source);
      const outputs = cell.outputs.map((o) => html.output(o)).join('\n');
      return `<details class="source"><summary>code [${cell.execution_count ?? ' '}]</summary><pre>${escapeHtml(source)}</pre></details>\n${outputs}`;
    });
    const meta = (notebook.metadata.pertset ?? {}) as { seconds?: number; mode?: string };
    const when = meta.seconds !== undefined ? ` · ${meta.mode ?? ''} mode, ${formatDuration(meta.seconds)}` : '';
    return `<section class="notebook" id="nb-${n}"><p class="file"><a href="${escapeHtml(file)}">${escapeHtml(file)}</a>${escapeHtml(when)}</p>\n${cells.join('\n')}</section>`;
  });
  const toc = notebooks.map(({ file }, n) => `<li><a href="#nb-${n}">${escapeHtml(file)}</a></li>`).join('');
  const facts = options.facts.map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(options.title)}</title>
<style>${STYLE}</style>
</head><body>
<h1>${escapeHtml(options.title)}</h1>
<table class="facts">${facts}</table>
${options.summaryMarkdown ? `<div class="summary">${html.markdownHtml(options.summaryMarkdown)}</div>` : ''}
<nav><ul>${toc}</ul></nav>
${sections.join('\n')}
<script type="application/json" id="pertset-payloads">${scriptJson(html.payloads)}</script>
<script type="application/json" id="pertset-modules">${scriptJson(rendererModules(options.renderersDir))}</script>
<script type="text/plain" id="pertset-loader">${LOADER}</script>
<script>${BOOTSTRAP}</script>
</body></html>
`;
}
