/**
 * Perturbations by name, as the reference's `perturbation.train_type` / `test_type`
 * (`linfinity`, `rts`, `dataloader`, `none`), plus the pertset names `linf` (alias),
 * `rts_limited` (what `dataloader` means for the `mnist_rts_limited` dataset) and `mnistc` (the
 * MNIST analogue of the paper's CIFAR-10-C pairs: one of 12 training corruptions at severity 5).
 */
import { ArgumentError } from '../errors';
import { Cifar10cPairing, type Cifar10cPairingName, type CropFlip } from './cifar10c';
import { CorruptionPerturbation, type CorruptionChoice } from './corruption';
import { LinfPerturbation } from './linf';
import { IdentityPerturbation } from './none';
import { RtsPerturbation } from './rts';
import { LimitedRtsPerturbation } from './rts-limited';
import type { Perturbation } from './types';

interface RtsFields {
  angle?: number;
  scale?: [number, number];
  /** Also accepted as the reference's snake_case `crop_sz`. */
  cropSize?: number;
  crop_sz?: number;
  padding?: number;
}

/** A perturbation by config. Omitted fields take the reference's MNIST values. */
export type PerturbationConfig =
  | { type: 'linfinity' | 'linf'; epsilon?: number; min?: number; max?: number }
  | ({ type: 'rts' } & RtsFields)
  | ({ type: 'rts_limited'; k: number; bankSeed?: number } & RtsFields)
  | { type: 'none' }
  /** Defaults: the suite's 12 training corruptions (`heldout`: the 3 held-out ones), severity 5. */
  | { type: 'mnistc'; corruptions?: CorruptionChoice; severity?: number };

/** What `createPerturbation` accepts: the reference's concrete types plus `linf` (alias) and `rts_limited`. */
export const PERTURBATION_TYPES = ['linfinity', 'linf', 'rts', 'rts_limited', 'none', 'mnistc'] as const;
export type PerturbationType = (typeof PERTURBATION_TYPES)[number];

/**
 * `perturbation.train_type` / `test_type` as the reference's configs name them; `dataloader`
 * means the pairs come with the data (the limited RTS bank). `mnistc` (pertset's) takes its
 * defaults: the 12 training corruptions of the MNIST analogue at severity 5.
 */
export const REFERENCE_PERTURBATION_TYPES = ['linfinity', 'rts', 'dataloader', 'none', 'mnistc'] as const satisfies ReadonlyArray<PerturbationType | 'dataloader'>;

function rtsOptions(c: RtsFields) {
  return { angle: c.angle, scale: c.scale, cropSize: c.cropSize ?? c.crop_sz, padding: c.padding };
}

export function createPerturbation(config: PerturbationConfig): Perturbation {
  switch (config?.type) {
    case 'linfinity':
    case 'linf':
      return new LinfPerturbation({ epsilon: config.epsilon, min: config.min, max: config.max });
    case 'rts':
      return new RtsPerturbation(rtsOptions(config));
    case 'rts_limited':
      return new LimitedRtsPerturbation({ ...rtsOptions(config), k: config.k, bankSeed: config.bankSeed });
    case 'none':
      return new IdentityPerturbation();
    case 'mnistc':
      return new CorruptionPerturbation('mnistc', { corruptions: config.corruptions, severity: config.severity });
    default:
      throw new ArgumentError(`unknown perturbation type ${JSON.stringify((config as { type?: unknown })?.type)}; expected one of ${PERTURBATION_TYPES.join(', ')}`);
  }
}

/** The reference's per-split spec (as `PertsetConfig.perturbation.train/test`): `dataloader` has no parameters of its own. */
export type ReferencePerturbationSpec = PerturbationConfig | { type: 'dataloader' };

/**
 * The train and test perturbations of a config. `dataloader` (pairs come from the data) becomes
 * the CIFAR-10-C pairing of a `cifar10c*` dataset (`dataset.corruptions`; crop/flip on the
 * training pairs only), or, for `mnist_rts_limited`, `rts_limited` with the test spec's RTS
 * parameters and `dataset.k`.
 */
export function perturbationsForConfig(config: {
  perturbation: { train: ReferencePerturbationSpec; test: ReferencePerturbationSpec };
  dataset?: {
    k?: number | null;
    corruptions?: { pairing: Cifar10cPairingName; names: string[]; severities: number[]; cropFlip: CropFlip | null } | null;
  };
}, options: { bankSeed?: number; frostDir?: string } = {}): { train: Perturbation; test: Perturbation } {
  const bank = config.dataset?.corruptions;
  const resolve = (spec: ReferencePerturbationSpec, key: 'train' | 'test'): Perturbation => {
    if (spec.type !== 'dataloader') return createPerturbation(spec);
    if (bank) {
      return new Cifar10cPairing({
        pairing: bank.pairing, corruptions: bank.names, severities: bank.severities,
        cropFlip: key === 'train' ? bank.cropFlip : null, bankSeed: options.bankSeed, frostDir: options.frostDir,
      });
    }
    const test = config.perturbation.test;
    const k = config.dataset?.k;
    if (key === 'test' || test.type !== 'rts' || !k) {
      throw new ArgumentError(
        `perturbation.${key}_type "dataloader" needs a dataset with a bank of k RTS perturbations per image (dataset.type "mnist_rts_limited", dataset.k) and test_type "rts"`,
      );
    }
    return createPerturbation({ ...test, type: 'rts_limited', k, bankSeed: options.bankSeed });
  };
  return { train: resolve(config.perturbation.train, 'train'), test: resolve(config.perturbation.test, 'test') };
}

/** The reference configs' perturbations and the dataset padding they go with. */
export const REFERENCE_PERTURBATIONS: Readonly<Record<string, { train: PerturbationConfig; test: PerturbationConfig; padding: number }>> = {
  mnist_fc_linf: { train: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 }, test: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 }, padding: 0 },
  mnist_conv_linf: { train: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 }, test: { type: 'linfinity', epsilon: 0.3, min: 0, max: 1 }, padding: 0 },
  mnist_stn_rts: {
    train: { type: 'rts', angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 },
    test: { type: 'rts', angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 },
    padding: 7,
  },
  mnist_stn_rts_limited_1: {
    train: { type: 'rts_limited', k: 1, angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 },
    test: { type: 'rts', angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 },
    padding: 7,
  },
  mnist_stn_rts_limited_5: {
    train: { type: 'rts_limited', k: 5, angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 },
    test: { type: 'rts', angle: 45, scale: [0.7, 1.3], cropSize: 42, padding: 7 },
    padding: 7,
  },
};

/** The train/test perturbations of a reference config by name (`mnist_fc_linf`, ..., `mnist_stn_rts_limited_5`). */
export function referencePerturbations(configName: string): { train: Perturbation; test: Perturbation; padding: number } {
  const entry = REFERENCE_PERTURBATIONS[configName];
  if (!entry) throw new ArgumentError(`no reference perturbation for config "${configName}"; known: ${Object.keys(REFERENCE_PERTURBATIONS).join(', ')}`);
  return { train: createPerturbation(entry.train), test: createPerturbation(entry.test), padding: entry.padding };
}
