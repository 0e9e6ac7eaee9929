/**
 * `pertset radius --run DIR [--json] [--limit N] [--passes N] [--checkpoint latest|best]
 * [--data DIR] [--backend B]`: the distribution of validation latent norms
 * ‖(μ_q − μ_p)/σ_p‖ (as `latent_distances.py`) and the radius ε it suggests (the maximum,
 * rounded up), recorded in DIR/radius.json for `pertset eval`.
 */
import { initBackend } from '../../api/backend';
import { InterruptedError } from '../../api/errors';
import { calibrateRun, ResultNotSavedError, type RadiusResult } from '../../api/evaluate/run';
import { intOption, parse } from '../args';
import type { Command } from '../main';
import { createProgress, interruptible, withStdoutReserved } from '../progress';
import { backendOption, runDirOptions } from '../run-options';

const USAGE = `usage: pertset radius --run DIR [--json] [--limit N] [--passes N] [--checkpoint latest|best]
                      [--data DIR] [--backend B]

Calibrate the radius of a trained run's perturbation set from the validation pairs (fresh test
perturbations on each of --passes passes, default 5), as the reference's latent_distances.py.
  --json        print one JSON object: {mean, std, p25, p50, p75, p999, max, n, passes, radius, dataset, ...}
  --limit N     use only the first N validation images
The result (radius = max rounded up) is saved to DIR/radius.json; \`pertset eval\` then uses it.
Every norm is saved to DIR/radius-norms.json (pertset.evaluate.loadRadiusNorms reads it back).`;

export const command: Command = {
  summary: 'calibrate the radius from validation latent norms (mean, std, percentiles, max)',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('radius', argv, {
      run: { type: 'string' },
      json: { type: 'boolean' },
      limit: { type: 'string' },
      passes: { type: 'string' },
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string' },
    });
    const { runDir, checkpoint } = runDirOptions('radius', values);
    const json = values.json === true;
    const limit = intOption('limit', values.limit as string | undefined, 1);
    const passes = intOption('passes', values.passes as string | undefined, 1);
    // A result that cannot be saved (disk full, read-only) is still printed, then reported as an error.
    let unsaved: ResultNotSavedError<RadiusResult> | null = null;
    const result = await withStdoutReserved(json, async () => {
      await initBackend({ backend: backendOption(values) });
      let progress: ReturnType<typeof createProgress> | null = null;
      try {
        return await interruptible('stopping the calibration', () => calibrateRun(runDir, {
          limit,
          passes,
          dataDir: values.data as string | undefined,
          checkpoint,
          callbacks: { onBatchEnd: (p) => {
            progress ??= createProgress({
              total: p.passes * p.batches,
              stream: json ? 'stderr' : 'stdout',
              format: 'latent norms [{bar}] {value}/{total} batches | pass {pass}',
              line: (v, t, f) => `latent norms: batch ${v}/${t} (pass ${f.pass})`,
            });
            progress.update(p.pass * p.batches + p.batch, { pass: `${p.pass + 1}/${p.passes}` });
          } },
        }));
      } catch (e) {
        if (e instanceof InterruptedError) throw new InterruptedError('radius calibration interrupted; nothing was saved');
        throw e;
      } finally {
        (progress as ReturnType<typeof createProgress> | null)?.stop();
      }
    }).catch((e: unknown) => {
      if (!(e instanceof ResultNotSavedError)) throw e;
      unsaved = e as ResultNotSavedError<RadiusResult>;
      return unsaved.result;
    });
    if (json) {
      console.log(JSON.stringify(result));
      if (unsaved) throw unsaved;
      return 0;
    }
    const f = (v: number) => v.toFixed(3);
    const ds = result.dataset as { images?: { source?: { description?: string }; count?: number } };
    console.log(`data:   ${result.n / result.passes} validation pairs × ${result.passes} passes — ${ds.images?.source?.description ?? ''}`);
    console.log(`latent norms ‖(μ_q − μ_p)/σ_p‖ over ${result.n} pairs:`);
    console.log(`  max ${f(result.max)}  mean ${f(result.mean)}  std ${f(result.std)}`);
    console.log(`  25% ${f(result.p25)}  50% ${f(result.p50)}  75% ${f(result.p75)}  99.9% ${f(result.p999)}`);
    console.log(`radius (max rounded up): ${result.radius}${unsaved ? '' : `  — saved to ${runDir}/radius.json (norms in ${result.normsFile})`}`);
    if (unsaved) throw unsaved;
    return 0;
  },
};
