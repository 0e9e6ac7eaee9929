/**
 * `pertset certify --run DIR --sigma S [--n N] [--n0 N] [--alpha A] [--limit N] [--batch N] [--json]`:
 * randomized smoothing in the latent space of a robust run's CVAE, saved to DIR/certify-sigma-<S>.json.
 */
import { initBackend } from '../../api/backend';
import { ConfigError, InterruptedError } from '../../api/errors';
import { certifyFile, certifyRun, DEFAULT_CERTIFY_LIMIT } from '../../api/robust-eval';
import { maxCertifiableRadius } from '../../api/robustness';
import { intOption, numberOption, parse } from '../args';
import type { Command } from '../main';
import { createProgress, interruptible, withStdoutReserved, type Progress } from '../progress';
import { backendOption, ROBUST_RUN_OPTIONS, ROBUST_RUN_USAGE, robustRunOptions } from '../run-options';

const USAGE = `usage: pertset certify --run DIR --sigma S [--n N] [--n0 N] [--alpha A] [--limit N] [--batch N]
                       [--radius R ...] [--checkpoint best|latest] [--cvae RUN_DIR] [--data DIR]
                       [--seed S] [--backend B] [--json]

Certify the classifier of a \`pertset robust-train\` run by randomized smoothing in the latent space
of its CVAE (Cohen et al.'s CERTIFY): n0 noisy samples g(x, μ_p + σ_p·σ·n) select the top class, n
fresh ones bound its probability p̲ from below (one-sided Clopper–Pearson at level α), the image
is certified at latent radius σ·Φ⁻¹(p̲) or abstains when p̲ < 1/2. No radius can exceed
σ·Φ⁻¹(α^(1/n)) (3.1986·σ at n = 10,000, α = 0.001): that is how the paper chose its σ.
  --run DIR          the robust-train run folder
  --sigma S          latent noise σ (> 0), usually the σ the run was trained with (attack.sigma)
  --n N              estimation samples per image (default 10000)
  --n0 N             selection samples per image (default 100)
  --alpha A          1 − confidence (default 0.001)
  --limit N          first N test images (default ${DEFAULT_CERTIFY_LIMIT})
  --batch N          noisy samples decoded and classified at once (default 500)
  --radius R         a radius of the certified-accuracy curve; repeat for several
                     (default 11 points from 0 to the largest certifiable radius)
  --cvae RUN_DIR     the CVAE run to smooth in (default: the one the run trained against)
${ROBUST_RUN_USAGE}
  --seed S           seed of the noise (default: the config's)
  --json             print one JSON object: {sigma, n, alpha, certifiedAccuracy: [{radius, accuracy}],
                     averageRadius, abstain, maxRadius, ...}
Writes DIR/certify-sigma-<S>.json.`;

export const command: Command = {
  summary: 'certified accuracy of a robust run by randomized smoothing in latent space',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('certify', argv, {
      ...ROBUST_RUN_OPTIONS,
      sigma: { type: 'string' },
      n: { type: 'string' },
      n0: { type: 'string' },
      alpha: { type: 'string' },
      batch: { type: 'string' },
    });
    const { runDir, options, json } = robustRunOptions('certify', values);
    if (values.sigma === undefined) throw new ConfigError('--sigma S is required (the latent noise σ, e.g. the run\'s attack.sigma)');
    const sigma = Number(values.sigma);
    if (!Number.isFinite(sigma) || sigma <= 0) throw new ConfigError(`--sigma must be a number > 0, got "${values.sigma}"`);
    const alpha = numberOption('alpha', values.alpha as string | undefined);
    if (alpha !== undefined && !(alpha > 0 && alpha < 1)) throw new ConfigError(`--alpha must be in (0, 1), got "${values.alpha}"`);
    const radii = (values.radius as string[] | undefined)?.map((r) => numberOption('radius', r, 0)!);
    const n = intOption('n', values.n as string | undefined, 1);
    const result = await withStdoutReserved(json, async () => {
      await initBackend({ backend: backendOption(values) });
      let progress: Progress | null = null;
      let certified = 0;
      try {
        return await interruptible('stopping the certification', () => certifyRun(runDir, {
          sigma,
          n,
          n0: intOption('n0', values.n0 as string | undefined, 1),
          alpha,
          batchSize: intOption('batch', values.batch as string | undefined, 1),
          radii,
          ...options,
          callbacks: {
            onExampleEnd: (p) => {
              certified += p.result.correct ? 1 : 0;
              progress ??= createProgress({
                total: p.total,
                stream: 'stderr',
                format: 'certify [{bar}] {value}/{total} images | correct {correct} | eta {eta_formatted}',
                line: (v, t, f) => `certify: ${v}/${t} images, correct ${f.correct}`,
              });
              progress.update(p.example, { correct: certified });
            },
          },
        }));
      } catch (e) {
        if (e instanceof InterruptedError) throw new InterruptedError('certification interrupted; nothing was saved');
        throw e;
      } finally {
        (progress as Progress | null)?.stop();
      }
    });
    if (json) {
      console.log(JSON.stringify(result));
      return 0;
    }
    const pct = (v: number) => `${(100 * v).toFixed(1)} %`;
    console.log(`run:     ${result.config} (${result.method}${result.trainingSigma !== null ? `, trained with σ = ${result.trainingSigma}` : ''}), checkpoint ${result.checkpoint} at step ${result.globalStep}`);
    console.log(`set:     ${result.cvae.runDir} (${result.cvae.checkpoint})`);
    for (const note of result.notes) console.log(`note:    ${note}`);
    console.log(`σ = ${result.sigma}, n = ${result.n}, n0 = ${result.n0}, α = ${result.alpha} on ${result.count} test images; largest certifiable radius ${result.maxRadius.toFixed(3)} (= σ·Φ⁻¹(α^(1/n)), ${maxCertifiableRadius(1, result.n, result.alpha).toFixed(4)}·σ)`);
    console.log('radius   certified accuracy');
    for (const c of result.certifiedAccuracy) console.log(`${c.radius.toFixed(3).padStart(7)}  ${pct(c.accuracy)}`);
    console.log(`average radius ${result.averageRadius.toFixed(3)}, abstain ${pct(result.abstain)}`);
    console.log(`saved to ${runDir}/${certifyFile(result.sigma)} (${result.seconds.toFixed(0)} s)`);
    return 0;
  },
};
