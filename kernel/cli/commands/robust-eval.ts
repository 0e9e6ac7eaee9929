/**
 * `pertset robust-eval --run DIR [--attack pgd|none] [--radius R ...] [--limit N] [--checkpoint best|latest]
 * [--cvae RUN_DIR] [--data DIR] [--seed S] [--skip-corruptions] [--backend B] [--json]`: clean,
 * real-perturbation, latent-PGD and common-corruption (in-distribution / OOD) accuracy of a robust
 * training run, saved to DIR/robust-eval.json.
 */
import { initBackend } from '../../api/backend';
import { ConfigError, InterruptedError } from '../../api/errors';
import { ROBUST_EVAL_ATTACKS, ROBUST_EVAL_FILE, ROBUST_EVAL_PNG, robustEvalRun, type RobustEvalAttack } from '../../api/robust-eval';
import { numberOption, parse } from '../args';
import type { Command } from '../main';
import { createProgress, interruptible, withStdoutReserved, type Progress } from '../progress';
import { backendOption, ROBUST_RUN_OPTIONS, ROBUST_RUN_USAGE, robustRunOptions } from '../run-options';

const USAGE = `usage: pertset robust-eval --run DIR [--attack pgd|none] [--radius R ...] [--limit N]
                           [--checkpoint best|latest] [--cvae RUN_DIR] [--data DIR] [--seed S]
                           [--skip-corruptions] [--backend B] [--json]

Accuracy of a classifier from \`pertset robust-train\` on its test images: clean, under the
config's real perturbation (drawn from the seed), and under latent PGD in the learned set
(50 steps, step ε/20, random start in the ball, each image stops once misclassified), and the
paper's OOD protocol: accuracy under the 12 training corruptions of the dataset's corruption
suite at severity 5 ("in-distribution") and under its 3 held-out ones ("OOD"; MNIST family:
gaussian_blur, spatter, canny_edges of the mnistc suite; CIFAR-10: gaussian_blur, spatter,
saturate), applied to the images the classifier takes (padded for the RTS configs).
  --run DIR          the robust-train run folder
  --attack A         pgd (default) or none (clean and real perturbations only)
  --radius R         a latent radius to attack at; repeat for several (default: the 50th and
                     75th percentile and the max of the set's validation latent norms, from the
                     CVAE run's radius.json or radius-norms.json, computed now when neither exists)
  --limit N          first N test images (default all 10,000)
  --cvae RUN_DIR     the CVAE run whose set to attack with (default: the one the run trained
                     against; required for runs of attack.type none and sample_aug)
${ROBUST_RUN_USAGE}
  --seed S           seed of the real perturbations, the attack's starts and the corruptions
                     (default: the config's)
  --skip-corruptions leave out the in-distribution and OOD corruption accuracies
  --json             print one JSON object: {clean, perturbed, pgd: {"<radius>": accuracy},
                     inDistribution: {mean, corruptions}, ood: {mean, corruptions}, n, radii, ...}
Writes DIR/${ROBUST_EVAL_FILE} and DIR/${ROBUST_EVAL_PNG} (per image: clean, real perturbation,
latent PGD at each radius).`;

export const command: Command = {
  summary: 'clean, real-perturbation and latent-PGD accuracy of a robust training run',
  usage: USAGE,
  async run(argv) {
    const { values } = parse('robust-eval', argv, {
      ...ROBUST_RUN_OPTIONS,
      attack: { type: 'string' },
      'skip-corruptions': { type: 'boolean' },
    });
    const { runDir, options, json } = robustRunOptions('robust-eval', values);
    const attack = (values.attack as string | undefined) ?? 'pgd';
    if (!(ROBUST_EVAL_ATTACKS as readonly string[]).includes(attack)) throw new ConfigError(`--attack must be one of ${ROBUST_EVAL_ATTACKS.join(', ')}, got "${attack}"`);
    const radii = (values.radius as string[] | undefined)?.map((r) => {
      const v = numberOption('radius', r);
      if (!(v! > 0)) throw new ConfigError(`--radius must be a number > 0, got "${r}"`);
      return v!;
    });
    if (radii && attack === 'none') throw new ConfigError('--radius is for --attack pgd');
    const result = await withStdoutReserved(json, async () => {
      await initBackend({ backend: backendOption(values) });
      let progress: Progress | null = null;
      try {
        return await interruptible('stopping the evaluation', () => robustEvalRun(runDir, {
          attack: attack as RobustEvalAttack,
          radii,
          ...options,
          corruptions: values['skip-corruptions'] !== true,
          callbacks: {
            onCorruptionEnd: (p) => {
              if (p.stage !== 'corrupt') return;
              (progress as Progress | null)?.stop();
              progress = null;
              console.error(`corrupted the test images: ${p.corruption} (${p.done}/${p.total})`);
            },
            onRadiiComputed: (s) => console.error(`radii (${s.source}): ${s.radii.map((r) => `${r.name} ${r.radius}`).join(', ')}`),
            onBatchEnd: (p) => {
              // The bar goes to stderr: stdout is for the result.
              progress ??= createProgress({
                total: p.total,
                stream: 'stderr',
                format: 'robust-eval [{bar}] {value}/{total} images | eta {eta_formatted}',
                line: (v, t) => `robust-eval: ${v}/${t} images`,
              });
              progress.update(p.examples);
            },
          },
        }));
      } catch (e) {
        if (e instanceof InterruptedError) throw new InterruptedError('robust evaluation interrupted; nothing was saved');
        throw e;
      } finally {
        (progress as Progress | null)?.stop();
      }
    });
    if (json) {
      console.log(JSON.stringify(result));
      return 0;
    }
    const pct = (v: number) => `${(100 * v).toFixed(2)} %`;
    console.log(`run:        ${result.config} (${result.method}), checkpoint ${result.checkpoint} at step ${result.globalStep}${result.finished ? '' : ' (training not finished)'}`);
    if (result.cvae) console.log(`set:        ${result.cvae.runDir} (${result.cvae.checkpoint}, step ${result.cvae.globalStep}); radii from ${result.radiiSource}`);
    for (const n of result.notes) console.log(`note:       ${n}`);
    console.log(`test images ${result.n}`);
    console.log(`clean       ${pct(result.clean)}`);
    console.log(`perturbed   ${pct(result.perturbed)}  (real perturbations)`);
    for (const r of result.radii) console.log(`latent PGD  ${pct(r.accuracy)}  at ε = ${r.radius}${r.name ? ` (${r.name})` : ''}`);
    if (result.inDistribution && result.ood && result.corruptions) {
      const list = (a: Record<string, number>) => Object.entries(a).map(([k, v]) => `${k} ${(100 * v).toFixed(1)}`).join(', ');
      const c = result.corruptions;
      console.log(`in-distr.   ${pct(result.inDistribution.mean)}  (mean over the ${c.suite} suite's ${Object.keys(result.inDistribution.corruptions).length} training corruptions, severity ${c.severity})`);
      console.log(`            ${list(result.inDistribution.corruptions)}`);
      console.log(`OOD         ${pct(result.ood.mean)}  (mean over its ${Object.keys(result.ood.corruptions).length} held-out corruptions: ${list(result.ood.corruptions)})`);
    }
    console.log(`saved to ${runDir}/${ROBUST_EVAL_FILE}${result.adversarialFile ? ` and ${result.adversarialFile}` : ''} (${result.seconds.toFixed(0)} s)`);
    return 0;
  },
};
