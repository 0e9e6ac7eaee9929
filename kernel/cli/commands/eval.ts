/**
 * `pertset eval --run DIR [--radius R] [--limit N] [--json] [--steps N] [--samples N] [--no-oae]
 * [--reference-renorm] [--final-iterate] [--checkpoint latest|best] [--data DIR] [--backend B]`: NSP/SLP quality of a trained run's
 * perturbation set on held-out test pairs (the reference's eval.py), saved to DIR/eval.json.
 */
import { initBackend } from '../../api/backend';
import { ConfigError } from '../../api/errors';
import { evaluateRun, ResultNotSavedError, type EvalResult } from '../../api/evaluate/run';
import { intOption, numberOption, parse } from '../args';
import type { Command } from '../main';
import { createProgress, interruptible, withStdoutReserved } from '../progress';
import { backendOption, runDirOptions } from '../run-options';

const USAGE = `usage: pertset eval --run DIR [--radius R] [--limit N] [--json] [--steps N] [--samples N] [--no-oae]
                    [--reference-renorm] [--final-iterate] [--checkpoint latest|best] [--data DIR] [--backend B]

Evaluate a trained run's perturbation set on held-out test pairs: encoder, PGD (50 normalised
l2 steps, alpha = radius/20), expected (5 prior samples) and over-approximation errors, KL,
reconstruction, and the identity baseline d(x, x~), as per-pixel BCE (bernoulli) or MSE (gaussian),
and again as per-pixel MSE; the sample spread (per-pixel std across 8 samples of S(x)) and the
posterior-collapse flag (two of: KL per dimension < 0.05 nats, EAE < 5 % above the encoder AE,
spread < 0.01); for RTS runs the spread of the rotation, scale and shift that explain the samples.
Writes DIR/eval.json and DIR/samples.png (rows: x, x~, reconstruction, 8 samples of S(x)).
  --radius R    the set's radius (default: DIR/radius.json from \`pertset radius\`, else the config's ae.max_dist)
  --limit N     evaluate on the first N test images (default: all 10000)
  --json        print one JSON object: {encoderAE, pgdAE, expectedAE, overAE, kl, recon,
                identityError, entropyFloor, mse: {encoderAE, pgdAE, expectedAE, identityError},
                sampleSpread, collapse: {collapsed, reason, klPerDim, eaeGap, sampleSpread},
                affineSpread (RTS), radius, n, dataset, ...}
  --no-oae      skip the over-approximation error (reported as 0, as the released reference code)
  --reference-renorm  project like the reference code (torch renorm(2, 1, R): per latent coordinate
                across the batch) instead of onto the per-example ball ||u|| <= R
  --final-iterate  report PGD's final iterate, as the reference's eval.py (default: each example's
                best iterate, start included, so PGD AE <= encoder AE by construction)`;

export const command: Command = {
  summary: 'evaluate a run: encoder/PGD/expected/over approximation errors, KL, recon, identity',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('eval', argv, {
      run: { type: 'string' },
      radius: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      steps: { type: 'string' },
      samples: { type: 'string' },
      'no-oae': { type: 'boolean' },
      'reference-renorm': { type: 'boolean' },
      'final-iterate': { type: 'boolean' },
      checkpoint: { type: 'string' },
      data: { type: 'string' },
      backend: { type: 'string' },
    });
    const { runDir, checkpoint } = runDirOptions('eval', values);
    const radius = numberOption('radius', values.radius as string | undefined, 0);
    if (radius === 0) throw new ConfigError('--radius must be > 0, got "0"');
    const json = values.json === true;
    // A result that cannot be saved (disk full, read-only) is still printed, then reported as an error.
    let unsaved: ResultNotSavedError<EvalResult> | null = null;
    const result = await withStdoutReserved(json, async () => {
      await initBackend({ backend: backendOption(values) });
      let progress: ReturnType<typeof createProgress> | null = null;
      try {
        return await interruptible('stopping the evaluation', () => evaluateRun(runDir, {
          radius,
          limit: intOption('limit', values.limit as string | undefined, 1),
          attack: { steps: intOption('steps', values.steps as string | undefined, 0), keepBest: values['final-iterate'] !== true },
          samples: intOption('samples', values.samples as string | undefined, 1),
          overApproximation: values['no-oae'] === true ? false : undefined,
          projection: values['reference-renorm'] === true ? 'reference-renorm' : 'ball',
          dataDir: values.data as string | undefined,
          checkpoint,
          callbacks: { onBatchEnd: (p) => {
            progress ??= createProgress({
              total: p.total,
              stream: json ? 'stderr' : 'stdout',
              format: 'eval [{bar}] {value}/{total} pairs | batch {batch}',
              line: (v, t) => `eval: ${v}/${t} pairs`,
            });
            progress.update(p.examples, { batch: `${p.batch}/${p.batches}` });
          } },
        }));
      } finally {
        (progress as ReturnType<typeof createProgress> | null)?.stop();
      }
    }).catch((e: unknown) => {
      if (!(e instanceof ResultNotSavedError)) throw e;
      unsaved = e as ResultNotSavedError<EvalResult>;
      return unsaved.result;
    });
    if (json) {
      console.log(JSON.stringify(result));
      if (unsaved) throw unsaved;
      return 0;
    }
    const f = (v: number) => v.toFixed(4);
    const ds = result.dataset as { images?: { source?: { description?: string } } };
    console.log(`data:   ${result.n} test pairs — ${ds.images?.source?.description ?? ''}`);
    console.log(`radius: ${result.radius} (${result.radiusSource === 'option' ? '--radius' : result.radiusSource === 'calibrated' ? 'radius.json' : 'config ae.max_dist'})`);
    console.log(`encoder AE ${f(result.encoderAE)}   PGD AE ${f(result.pgdAE)}   expected AE ${f(result.expectedAE)}   over AE ${f(result.overAE)}`);
    console.log(`KL ${f(result.kl)}   recon ${f(result.recon)}   identity d(x, x~) ${f(result.identityError)}   entropy floor H(x~) ${f(result.entropyFloor)}`);
    console.log(`per-pixel MSE: encoder AE ${f(result.mse.encoderAE)}   PGD AE ${f(result.mse.pgdAE)}   expected AE ${f(result.mse.expectedAE)}   identity ${f(result.mse.identityError)}`);
    const c = result.collapse;
    console.log(`sample spread ${f(result.sampleSpread)}   KL per dimension ${f(c.klPerDim.value)}   EAE above encoder AE ${(100 * c.eaeGap.value).toFixed(1)} %`);
    if (result.affineSpread) {
      const a = result.affineSpread;
      console.log(`affine fit of ${a.samples} samples × ${a.images} images: angle std ${a.angle.toFixed(1)}°   scale std ${a.scale.toFixed(3)}   shift std ${a.translation.toFixed(2)} px   fit MSE ${f(a.fitError)} (unwarped x: ${f(a.identityFitError)})`);
    }
    console.log(`${c.collapsed ? 'WARNING ' : ''}${c.reason}`);
    if (unsaved) throw unsaved;
    console.log(`saved to ${runDir}/eval.json and ${runDir}/${result.samplesFile}`);
    return 0;
  },
};
