/**
 * Where tests find real data and real clients, and the ONE place that decides require-or-skip.
 * A test that needs something from the machine calls `need(t, DEPENDENCIES.x)` (or a suite uses
 * `describeNeeding`): when it is present the test runs; when it is missing, under CI=true that is
 * a failure (thrown), and elsewhere the test is reported as skipped, never as a pass. The skip
 * reason has a fixed form (`needs <what>: <why> [enable: <how>]`) that scripts/run-tests.mjs
 * lists in its summary.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { before, describe, type TestContext } from 'node:test';
import { loadAddon } from '../../kernel/api/backend/native/addon';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const IS_CI = process.env.CI === 'true';

/** `../shared/data` beside the repo (override with PERTSET_SHARED_DATA). */
export function sharedDataDir(): string {
  return process.env.PERTSET_SHARED_DATA ?? path.resolve(REPO_ROOT, '..', 'shared', 'data');
}

/** Debian's Python with Jupyter and torch (the `python3` on PATH may be another one). */
export const PYTHON = process.env.PERTSET_PYTHON ?? '/usr/bin/python3';
export const CHROMIUM = process.env.PERTSET_CHROMIUM ?? '/usr/bin/chromium';

/** Something a test needs from the machine, and how to provide it. */
export interface Dependency {
  what: string;
  /** How to provide it: an apt line, or what to set. */
  enable: string;
  /** Why it is missing, or undefined when present (evaluated once per process). */
  missing(): string | undefined;
}

function dependency(what: string, enable: string, check: () => string | undefined): Dependency {
  let result: { why: string | undefined } | undefined;
  return { what, enable, missing: () => (result ??= { why: check() }).why };
}

/** A file or folder that must exist. */
export function pathDependency(p: string, what: string, enable: string): Dependency {
  return dependency(what, enable, () => (fs.existsSync(p) ? undefined : `not found at ${p}`));
}

function pythonImports(modules: string): string | undefined {
  const r = spawnSync(PYTHON, ['-c', `import ${modules}`], { encoding: 'utf8' });
  if (r.error) return `${PYTHON} cannot run (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`;
  if (r.status !== 0) return `${PYTHON} cannot import ${modules}: ${(r.stderr || '').trim().split('\n').pop()}`;
  return undefined;
}

const SHARED_DATA = 'put the data in ../shared/data or set PERTSET_SHARED_DATA';

/** What the suites need beyond `npm install`, with the Debian packages that provide it (as in .ci/run). */
export const DEPENDENCIES = {
  chromium: dependency('Chromium', 'apt-get install chromium fonts-dejavu-core', () =>
    fs.existsSync(CHROMIUM) ? undefined : `not found at ${CHROMIUM}`),
  torch: dependency('PyTorch', 'apt-get install python3-torch', () => pythonImports('torch')),
  scipy: dependency('SciPy', 'apt-get install python3-scipy', () => pythonImports('scipy.stats')),
  nbclient: dependency("Jupyter's nbclient", 'apt-get install python3-nbclient jupyter-client python3-ipykernel', () => pythonImports('nbclient, nbformat')),
  nativeAddon: dependency('the native OpenBLAS accelerator', 'apt-get install g++ make pkg-config libopenblas-dev libopenblas-openmp-dev, then npm run build:native', () => {
    const load = loadAddon();
    return load.addon ? undefined : load.reason;
  }),
  procFs: pathDependency('/proc/self', 'the /proc filesystem', 'run on Linux'),
  sharedMnist: pathDependency(path.join(sharedDataDir(), 'mnist'), 'the shared MNIST files', SHARED_DATA),
  sharedCifar: pathDependency(path.join(sharedDataDir(), 'cifar10'), 'the shared CIFAR-10 subset', SHARED_DATA),
  sharedFrost: pathDependency(path.join(sharedDataDir(), 'frost', 'frost5.jpg'), 'the shared frost overlay images', SHARED_DATA),
  debianFashionMnist: pathDependency('/usr/share/datasets/fashion-mnist', "Debian's Fashion-MNIST", 'apt-get install dataset-fashion-mnist'),
} satisfies Record<string, Dependency>;

function skipReason(dep: Dependency, why: string): string {
  return `needs ${dep.what}: ${why} [enable: ${dep.enable}]`;
}

/** Tells scripts/run-tests.mjs (via PERTSET_TEST_SKIPS) which file skipped for lack of what. */
function recordSkip(dep: Dependency, why: string, suite: boolean): void {
  const log = process.env.PERTSET_TEST_SKIPS;
  if (!log) return;
  const file = path.relative(REPO_ROOT, process.argv[1] ?? ''); // node --test runs each file in its own process
  fs.appendFileSync(log, JSON.stringify({ file, what: dep.what, why, enable: dep.enable, suite }) + '\n');
}

/**
 * The require-or-skip decision. True when `dep` is present. Otherwise throws under CI=true (a
 * failure), or marks `t` skipped and returns false; the caller then returns:
 * `if (!need(t, DEPENDENCIES.torch)) return;`
 */
export function need(t: TestContext, dep: Dependency): boolean {
  const why = dep.missing();
  if (why === undefined) return true;
  if (IS_CI) throw new Error(`${dep.what} is required under CI=true: ${why} (${dep.enable})`);
  t.skip(skipReason(dep, why));
  recordSkip(dep, why, false);
  return false;
}

/** `need` for a data path: `if (!requirePath(t, dir, 'the shared MNIST files')) return;` */
export function requirePath(t: TestContext, p: string, what: string, enable = SHARED_DATA): boolean {
  return need(t, pathDependency(p, what, enable));
}

/**
 * A `describe` block whose every test needs `dep`: skipped as a whole when it is missing (with
 * the same reason as `need`), and under CI=true each of its tests fails with that reason.
 */
export function describeNeeding(dep: Dependency, name: string, fn: () => void): void {
  const why = dep.missing();
  if (why !== undefined && !IS_CI) recordSkip(dep, why, true);
  describe(name, { skip: why !== undefined && !IS_CI ? skipReason(dep, why) : false }, () => {
    if (why !== undefined) {
      before(() => {
        throw new Error(`${dep.what} is required under CI=true: ${why} (${dep.enable})`);
      });
    }
    fn();
  });
}

/** Directory for screenshots and other artifacts tests leave behind. */
export function artifactDir(sub: string): string {
  const d = path.join(REPO_ROOT, 'test-artifacts', sub);
  fs.mkdirSync(d, { recursive: true });
  return d;
}
