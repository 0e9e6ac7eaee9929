/**
 * Architecture name → constructor, as the reference's `models` table: `createCVAE('mnist_fc')`.
 */
import { ArgumentError } from '../errors';
import type { CVAEOptions } from './cvae-base';
import { MnistConv } from './mnist-conv';
import { MnistFc } from './mnist-fc';
import { MnistStn } from './mnist-stn';
import { ARCHITECTURES, type ArchitectureName, type CVAE } from './types';

const FACTORIES: Record<ArchitectureName, (options: CVAEOptions) => CVAE> = {
  mnist_fc: (o) => new MnistFc(o),
  mnist_conv: (o) => new MnistConv(o),
  mnist_stn: (o) => new MnistStn(o),
};

export function isArchitectureName(name: string): name is ArchitectureName {
  return (ARCHITECTURES as readonly string[]).includes(name);
}

/** Builds a freshly initialised CVAE (PyTorch default init from `seed`, default 0). */
export function createCVAE(architecture: ArchitectureName | string, options: CVAEOptions = {}): CVAE {
  const factory = isArchitectureName(architecture) ? FACTORIES[architecture] : undefined;
  if (!factory) {
    throw new ArgumentError(`unknown CVAE architecture "${architecture}"; expected one of ${ARCHITECTURES.join(', ')}`);
  }
  return factory(options);
}
