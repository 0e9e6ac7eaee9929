/**
 * `pertset results`: the README's results section from a results.json: the section between the
 * markers is rewritten from the recorded tables (claims with the paper's claim beside ours), the
 * rest of the file is kept, a second call changes nothing, and a missing or malformed results.json
 * or missing markers give a named error with the README untouched.
 */
import { after, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { ConfigError } from '../../kernel/api/errors';
import { RESULTS_END, RESULTS_START, updateReadmeResults } from '../../kernel/report/readme-results';
import type { ReproduceResults } from '../../kernel/report/reproduce-notebooks';
import { REPO_ROOT } from '../helpers/env';

const CLI = path.join(REPO_ROOT, 'bin', 'pertset.js');

const RESULTS: ReproduceResults = {
  mode: 'quick',
  runs: '/tmp/out/work/experiments',
  generated: '2026-11-28T01:00:00.000Z',
  seconds: 754.2,
  pertset: '0.1.0',
  notebooks: [
    {
      notebook: '01-mnist-linf-perturbation-set.ipynb',
      status: 'ok',
      seconds: 154.9,
      executed: '2026-11-28T00:58:00.000Z',
      environment: { backend: 'wasm', tfjs: '4.22.0', node: '20.20.2', dataset: { name: 'mnist', origin: 'env', dir: '/data/mnist' } },
      tables: {
        training: { record: 'training', columns: ['epoch', 'train loss'], rows: [{ epoch: 1, 'train loss': 123.456789 }] },
        evaluation: { record: 'evaluation', columns: ['model', 'PGD AE', 'identity'], rows: [{ model: 'mnist_fc ℓ∞', 'PGD AE': 0.0123456, identity: 6.2707 }] },
        claims: {
          record: 'claims',
          columns: ['verdict', 'claim', 'ours'],
          rows: [{ verdict: 'holds', claim: 'random members are farther (EAE > PGD AE | a pipe)', ours: 'EAE 0.59 vs PGD AE 0.52' }],
        },
      },
    },
    {
      notebook: '02-mnist-rts-stn.ipynb',
      status: 'error',
      seconds: 12,
      executed: '2026-11-28T01:00:00.000Z',
      error: 'cell 3 failed: Error: out of memory',
      environment: { backend: 'wasm', dataset: { name: 'fashion-mnist', origin: 'embedded', dir: '/pkg/data' } },
      tables: {},
    },
  ],
};

const README = ['# title', '', 'intro stays', '', '## Results', '', RESULTS_START, 'old text', RESULTS_END, '', '## After', 'kept too', ''].join('\n');

describe('pertset results: the README section from results.json', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pertset-readme-results-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const resultsFile = path.join(dir, 'results.json');
  fs.writeFileSync(resultsFile, JSON.stringify(RESULTS));

  it('rewrites only the marked section, with the mode, data, time and the claims beside ours', () => {
    const readme = path.join(dir, 'README.md');
    fs.writeFileSync(readme, README);
    const { changed } = updateReadmeResults(readme, dir);
    assert.equal(changed, true);
    const text = fs.readFileSync(readme, 'utf8');
    assert.ok(text.startsWith('# title\n\nintro stays\n\n## Results\n\n<!-- results:start -->\n'), text);
    assert.ok(text.endsWith('<!-- results:end -->\n\n## After\nkept too\n'), text);
    assert.doesNotMatch(text, /old text/);
    const section = text.slice(text.indexOf(RESULTS_START), text.indexOf(RESULTS_END));
    assert.match(section, /pertset reproduce --mode quick/);
    assert.match(section, /total notebook time 12 min 34 s/);
    assert.match(section, /not a result/);
    assert.match(section, /### 01-mnist-linf-perturbation-set\n\nquick mode · MNIST · 2 min 35 s · ran to the end/);
    assert.match(section, /\| the paper’s claim \| ours \| verdict \|\n\|---\|---\|---\|\n\| random members are farther \(EAE > PGD AE \\\| a pipe\) \| EAE 0\.59 vs PGD AE 0\.52 \| holds \|/);
    assert.match(section, /\| mnist_fc ℓ∞ \| 0\.01235 \| 6\.271 \|/);
    assert.doesNotMatch(section, /train loss/, 'the per-epoch history stays in results.json');
    assert.match(section, /### 02-mnist-rts-stn\n\nquick mode · fashion-mnist \(the embedded subset\) · 12 s · FAILED: cell 3 failed: Error: out of memory/);
  });

  it('gives the same file on a second call (idempotent), also through the CLI', () => {
    const readme = path.join(dir, 'README-twice.md');
    fs.writeFileSync(readme, README);
    updateReadmeResults(readme, resultsFile);
    const once = fs.readFileSync(readme, 'utf8');
    assert.equal(updateReadmeResults(readme, resultsFile).changed, false);
    const r = spawnSync(process.execPath, [CLI, 'results', dir, '--readme', readme], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /already up to date/);
    assert.equal(fs.readFileSync(readme, 'utf8'), once);
  });

  it('names a missing or malformed results.json and missing markers, and leaves the README untouched', () => {
    const readme = path.join(dir, 'README-bad.md');
    fs.writeFileSync(readme, README);
    const cases: Array<[string, string | null, RegExp]> = [
      ['missing', null, /missing[/\\]results\.json does not exist; run `pertset reproduce` first/],
      ['invalid', '{"mode": "quick", ', /invalid[/\\]results\.json is not a results file: invalid JSON/],
      ['nomode', JSON.stringify({ ...RESULTS, mode: 'fast' }), /"mode" must be one of smoke, quick, full, got "fast"/],
      ['notables', JSON.stringify({ ...RESULTS, notebooks: [{ notebook: 'x', status: 'ok', seconds: 1 }] }), /notebooks\[0\] must have "notebook", "status", "seconds" and "tables"/],
    ];
    for (const [name, content, message] of cases) {
      const d = path.join(dir, name);
      fs.mkdirSync(d);
      if (content !== null) fs.writeFileSync(path.join(d, 'results.json'), content);
      assert.throws(() => updateReadmeResults(readme, d), (e: unknown) => e instanceof ConfigError && message.test(e.message), name);
      assert.equal(fs.readFileSync(readme, 'utf8'), README, `${name}: the README was changed`);
    }
    const noMarkers = path.join(dir, 'README-nomarkers.md');
    fs.writeFileSync(noMarkers, '# title\n\nno section here\n');
    assert.throws(() => updateReadmeResults(noMarkers, dir), /README-nomarkers\.md: expected the marker <!-- results:start --> exactly once, found it 0 times/);
    assert.equal(fs.readFileSync(noMarkers, 'utf8'), '# title\n\nno section here\n');
    const r = spawnSync(process.execPath, [CLI, 'results', path.join(dir, 'invalid'), '--readme', readme], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /results\.json is not a results file: invalid JSON/);
    assert.equal(fs.readFileSync(readme, 'utf8'), README);
  });
});
