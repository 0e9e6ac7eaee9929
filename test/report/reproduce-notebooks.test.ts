/**
 * `pertset reproduce`: the notebooks run through our kernel with no Jupyter and no Python, the
 * executed notebook, results.json and the HTML report it writes (opened in Debian's Chromium), the
 * resume on a second call, and what happens with a failing cell or a malformed notebook.
 */
import { after, before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { MIME } from '../../kernel/contract/mime';
import { prepareExperiments, reproduceNotebooks } from '../../kernel/report/reproduce-notebooks';
import { readNotebook, sourceText, type Notebook } from '../../kernel/report/nbformat';
import { EXECUTION_NOTE_ID } from '../../kernel/report/execution-note';
import { ConfigError } from '../../kernel/api/errors';
import { artifactDir, CHROMIUM, DEPENDENCIES, describeNeeding, REPO_ROOT } from '../helpers/env';
import { CHROMIUM_ARGS, requireRendererBundles, watchErrors } from '../renderers/browser';

const CLI = path.join(REPO_ROOT, 'bin', 'pertset.js');
const NOTEBOOK = '01-mnist-linf-perturbation-set.ipynb';

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 9 * 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every file below `dir` (relative path → sha256 of its bytes). */
function filesOf(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rel of fs.readdirSync(dir, { recursive: true }) as string[]) {
    const file = path.join(dir, rel);
    if (fs.statSync(file).isFile()) out[rel] = createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  }
  return out;
}

function outputsOf(nb: Notebook) {
  return nb.cells.flatMap((c) => (c.cell_type === 'code' ? c.outputs : []));
}

describe('pertset reproduce: notebook 01 in smoke mode through our kernel', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-reproduce-'));
  let first: ReturnType<typeof cli>;
  let executed: Notebook;

  before(() => {
    requireRendererBundles();
    first = cli(['reproduce', '--mode', 'smoke', '--only', '1', '--out', out]);
    executed = readNotebook(path.join(out, NOTEBOOK));
  });
  after(() => fs.rmSync(out, { recursive: true, force: true }));

  it('runs every code cell without an error output and reports the total time', () => {
    assert.equal(first.code, 0, first.out + first.err);
    assert.match(first.out, /notebooks: 1 \(0 failed\); total notebook time \d/);
    const code = executed.cells.filter((c) => c.cell_type === 'code');
    assert.ok(code.length >= 8);
    for (const [i, cell] of code.entries()) {
      assert.equal(typeof (cell as { execution_count: unknown }).execution_count, 'number', `cell ${i} has no execution count`);
    }
    assert.deepEqual(outputsOf(executed).filter((o) => o.output_type === 'error'), []);
    const meta = executed.metadata.pertset as { status: string; mode: string; environment: { backend: string } };
    assert.equal(meta.status, 'ok');
    assert.equal(meta.mode, 'smoke');
    assert.equal(meta.environment.backend, 'wasm');
  });

  it('puts the note of its execution first: mode, budgets, data, machine, backend and wall time', () => {
    const [first, ...rest] = executed.cells;
    assert.equal(first.id, EXECUTION_NOTE_ID);
    assert.equal(first.cell_type, 'markdown');
    const note = sourceText(first.source);
    assert.match(note, /in \*\*smoke\*\* mode/);
    assert.match(note, /Budgets \(printed by the settings cell below\): `\{"train":\{"limit":256/, 'the settings cell\'s budgets');
    assert.match(note, /Machine: \d+ CPU cores? .*GiB/);
    assert.match(note, /on its wasm backend/);
    assert.match(note, /Wall time of this notebook: \*\*\d+ (s|min)/);
    assert.match(note, /Everything it shows was trained in that time/);
    assert.equal(rest.filter((c) => c.id === EXECUTION_NOTE_ID).length, 0, 'one note only');
  });

  it('saves our MIME types with their text fallbacks, and plotly charts', () => {
    const rich = outputsOf(executed).flatMap((o) => (o.output_type === 'display_data' || o.output_type === 'execute_result' ? [o.data] : []));
    const grids = rich.filter((d) => MIME.imageGrid in d);
    assert.ok(grids.length >= 4, `only ${grids.length} image grids`);
    assert.ok(rich.some((d) => MIME.plotly in d), 'no plotly chart');
    assert.ok(rich.some((d) => MIME.latentTraversal in d), 'no latent traversal');
    for (const d of grids) assert.ok(MIME.html in d && MIME.plain in d, 'an image grid without its fallbacks');
  });

  it('writes results.json with the recorded tables, the dataset, backend and versions', () => {
    const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8'));
    assert.equal(results.mode, 'smoke');
    const [nb] = results.notebooks;
    assert.equal(nb.notebook, NOTEBOOK);
    assert.equal(nb.status, 'ok');
    assert.ok(nb.environment.dataset.name, 'no dataset recorded');
    assert.ok(nb.environment.tfjs && nb.environment.node);
    for (const name of ['training', 'evaluation', 'collapse', 'claims']) assert.ok(nb.tables[name], `table "${name}" not recorded`);
    const row = nb.tables.evaluation.rows[0];
    assert.equal(typeof row['encoder AE'], 'number');
    assert.equal(typeof row['identity'], 'number');
    assert.ok(nb.tables.claims.rows.every((r: { verdict: string }) => ['holds', 'not at this budget'].includes(r.verdict)));
  });

  it('trains into the shared run folders <out>/work/experiments/<config>, with ε in radius.json', () => {
    const runDir = path.join(out, 'work', 'experiments', 'mnist_fc_linf');
    const radius = JSON.parse(fs.readFileSync(path.join(runDir, 'radius.json'), 'utf8'));
    assert.ok(radius.radius > 0 && radius.passes === 1, JSON.stringify(radius));
    assert.ok(fs.existsSync(path.join(runDir, 'radius-norms.json')));
    assert.equal(JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')).runs, fs.realpathSync(path.join(out, 'work', 'experiments')));
  });

  it('--runs DIR opens the finished runs there read-only: nothing is trained again, every file stays byte-identical', () => {
    const runs = path.join(out, 'work', 'experiments');
    const runDir = path.join(runs, 'mnist_fc_linf');
    const stamp = (f: string) => fs.statSync(path.join(runDir, f)).mtimeMs;
    const before = { checkpoint: stamp('checkpoints/latest/trainer.json'), radius: stamp('radius.json') };
    const files = filesOf(runDir);
    for (const f of ['config.json', 'run.json', 'radius.json']) assert.ok(f in files, `${f} in the finished run`);
    const other = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-reproduce-runs-'));
    try {
      const r = cli(['reproduce', '--mode', 'smoke', '--only', '1', '--out', other, '--runs', runs]);
      assert.equal(r.code, 0, r.out + r.err);
      assert.equal(fs.realpathSync(path.join(other, 'work', 'experiments')), fs.realpathSync(runs));
      assert.deepEqual({ checkpoint: stamp('checkpoints/latest/trainer.json'), radius: stamp('radius.json') }, before);
      assert.deepEqual(filesOf(runDir), files, 'config.json, run.json and every other file of the finished run are only read (no lock left either)');
      const executed2 = readNotebook(path.join(other, NOTEBOOK));
      assert.deepEqual(outputsOf(executed2).filter((o) => o.output_type === 'error'), []);
      assert.match(sourceText(executed2.cells[0].source), /trained before, by `pertset reproduce mnist`.*opened here from those run folders \(`--runs`\)/);
    } finally {
      fs.rmSync(other, { recursive: true, force: true });
    }
  });

  it('a second call keeps the executed notebook (same source, mode and data) and runs nothing', () => {
    const before = fs.readFileSync(path.join(out, NOTEBOOK), 'utf8');
    const again = cli(['reproduce', '--mode', 'smoke', '--only', '01', '--out', out]);
    assert.equal(again.code, 0, again.out + again.err);
    assert.match(again.out, /already executed with this source, mode and data: kept/);
    assert.equal(fs.readFileSync(path.join(out, NOTEBOOK), 'utf8'), before);
  });

  it('an executed copy committed as the source (outputs and note included) is the same source: kept, not run again', async () => {
    const committed = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-reproduce-committed-'));
    try {
      fs.copyFileSync(path.join(out, NOTEBOOK), path.join(committed, NOTEBOOK));
      const before = fs.readFileSync(path.join(out, NOTEBOOK), 'utf8');
      const skipped: boolean[] = [];
      await reproduceNotebooks({ mode: 'smoke', outDir: out, only: ['01'], notebooksDir: committed, callbacks: { onNotebookEnd: (e) => skipped.push(e.skipped) } });
      assert.deepEqual(skipped, [true]);
      assert.equal(fs.readFileSync(path.join(out, NOTEBOOK), 'utf8'), before);
    } finally {
      fs.rmSync(committed, { recursive: true, force: true });
    }
  });

  describeNeeding(DEPENDENCIES.chromium, 'the HTML report in Chromium', () => {
    it('draws every grid, chart and the interpolation with the renderer bundles, with no console errors', async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
        const errors = watchErrors(page);
        await page.goto(`file://${path.join(out, 'report.html')}`);
        await page.waitForFunction(() => (window as unknown as { __pertsetReady?: boolean }).__pertsetReady === true, null, { timeout: 120_000 });
        const seen = await page.evaluate(() => {
          const outputs = Array.from(document.querySelectorAll<HTMLElement>('.output.rendered'));
          const grids = outputs.filter((o) => o.dataset.mime?.includes('image-grid'));
          const gridImages = grids.map((g) => (g.shadowRoot ?? g).querySelectorAll('canvas, img').length);
          const interpolation = grids.filter((g) => /between the encodings/.test((g.shadowRoot ?? g).textContent ?? '')).length;
          // Plotly's drag layer covers exactly the plot area.
          const plots = Array.from(document.querySelectorAll('.output.rendered .nsewdrag')).map((p) => {
            const r = p.getBoundingClientRect();
            return Math.round(Math.min(r.width, r.height));
          });
          return { outputs: outputs.length, gridImages, interpolation, plots, errorBoxes: document.querySelectorAll('.output.error').length };
        });
        const ours = outputsOf(executed).filter((o) => (o.output_type === 'display_data' || o.output_type === 'execute_result') && Object.keys(o.data).some((m) => m.startsWith('application/vnd.'))).length;
        assert.equal(seen.outputs, ours, 'one rendered output per output carrying a vendor MIME type');
        assert.ok(seen.gridImages.length >= 4 && seen.gridImages.every((n) => n > 0), `grids without images: ${seen.gridImages}`);
        assert.equal(seen.interpolation, 1, 'the latent interpolation grid');
        assert.ok(seen.plots.length >= 2 && seen.plots.every((side) => side >= 200), `plot areas (shorter side, px): ${seen.plots}`);
        assert.equal(seen.errorBoxes, 0);
        assert.deepEqual(errors, []);
        await page.screenshot({ path: path.join(artifactDir('report'), 'report-top.png') });
      } finally {
        await browser.close();
      }
    });
  });
});

describe('pertset reproduce: failures are named and nothing half-written is kept', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-notebooks-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function notebook(cells: string[]): string {
    return JSON.stringify({
      nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: 'pertset', display_name: 'pertset', language: 'typescript' } },
      cells: cells.map((source) => ({ cell_type: 'code', source, metadata: {}, outputs: [], execution_count: null })),
    });
  }

  it('stops at a failing cell, saves the notebook with the error output and marks it failed', async () => {
    const nbDir = path.join(dir, 'failing');
    fs.mkdirSync(nbDir);
    fs.writeFileSync(path.join(nbDir, '01-failing.ipynb'), notebook(['console.log("before")', 'throw new Error("boom in cell two")', 'console.log("never")']));
    const out = path.join(dir, 'out-failing');
    const done = await reproduceNotebooks({ mode: 'smoke', outDir: out, notebooksDir: nbDir });
    const [result] = done.results.notebooks;
    assert.equal(result.status, 'error');
    assert.match(String(result.error), /cell 2 failed: .*boom in cell two/);
    const saved = readNotebook(path.join(out, '01-failing.ipynb'));
    assert.equal(saved.cells[0].id, EXECUTION_NOTE_ID, 'a failed copy also says how it was made');
    const outputs = saved.cells.flatMap((c) => (c.cell_type === 'code' ? [c.outputs] : []));
    assert.equal(outputs[0][0].output_type, 'stream');
    assert.equal(outputs[1][0].output_type, 'error');
    assert.deepEqual(outputs[2], [], 'the cell after the failure ran');
    // A failed notebook is not "done": the next call runs it again.
    const again = await reproduceNotebooks({ mode: 'smoke', outDir: out, notebooksDir: nbDir });
    assert.notEqual(again.results.notebooks[0].executed, result.executed);
  });

  it('refuses a malformed notebook by name before starting a kernel, and writes nothing', async () => {
    const nbDir = path.join(dir, 'malformed');
    fs.mkdirSync(nbDir);
    fs.writeFileSync(path.join(nbDir, '01-broken.ipynb'), '{"cells": [');
    const out = path.join(dir, 'out-malformed');
    await assert.rejects(reproduceNotebooks({ mode: 'smoke', outDir: out, notebooksDir: nbDir }), (e: unknown) =>
      e instanceof ConfigError && /01-broken\.ipynb is not a notebook: invalid JSON/.test(e.message));
    assert.ok(!fs.existsSync(path.join(out, '01-broken.ipynb')) && !fs.existsSync(path.join(out, 'results.json')));
  });

  it('--runs: a missing folder is named; run folders an earlier call trained are never hidden behind the link', () => {
    const missing = cli(['reproduce', '--mode', 'smoke', '--out', path.join(dir, 'y'), '--runs', path.join(dir, 'no-such-runs')]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.err, /--runs .*no-such-runs is not a folder \(expected one holding run folders such as mnist_fc_linf\/\)/);
    const work = path.join(dir, 'work-with-runs');
    fs.mkdirSync(path.join(work, 'experiments', 'mnist_fc_linf'), { recursive: true });
    const runs = fs.mkdtempSync(path.join(dir, 'runs-'));
    assert.throws(() => prepareExperiments(work, runs), /already holds run folders trained by an earlier call \(mnist_fc_linf\); use another --out/);
    assert.ok(fs.lstatSync(path.join(work, 'experiments')).isDirectory());
    // An empty folder becomes the link; a second call with other runs moves the link; one without --runs keeps it.
    const fresh = path.join(dir, 'work-fresh');
    assert.equal(prepareExperiments(fresh, runs), fs.realpathSync(runs));
    const runs2 = fs.mkdtempSync(path.join(dir, 'runs-'));
    assert.equal(prepareExperiments(fresh, runs2), fs.realpathSync(runs2));
    assert.equal(prepareExperiments(fresh, undefined), fs.realpathSync(runs2));
  });

  it('names the bad argument: an unknown notebook, an unknown mode, flags of the other target', () => {
    const unknown = cli(['reproduce', '--only', '99', '--out', path.join(dir, 'x')]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.err, /--only: no notebook "99"; the notebooks are 01 \(01-mnist-linf/);
    const mode = cli(['reproduce', '--mode', 'fast']);
    assert.match(mode.err, /--mode must be one of smoke, quick, full, got "fast"|--mode must be one of .*"fast"/);
    const mixed = cli(['reproduce', '--budget', 'quick']);
    assert.match(mixed.err, /--budget belongs to "pertset reproduce mnist\|robust"/);
  });
});
