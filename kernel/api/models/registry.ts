/**
 * Architecture name → constructor, as the reference's `models` table: `createCVAE('mnist_fc')`.
 */
import { ArgumentError } from '../errors';
import type { CVAEOptions } from './cvae-base';
import { Cifar10Rectangle } from './cifar10-rectangle';
import { MnistConv } from './mnist-conv';
import { MnistFc } from './mnist-fc';
import { MnistStn } from './mnist-stn';
import { ARCHITECTURES, type ArchitectureName, type CVAE } from './types';

const FACTORIES: Record<ArchitectureName, (options: CVAEOptions) => CVAE> = {
  mnist_fc: (o) => new MnistFc(o),
  mnist_conv: (o) => new MnistConv(o),
  mnist_stn: (o) => new MnistStn(o),
  cifar10_rectangle: (o) => new Cifar10Rectangle(o),
};

/** Architectures with size options (the others have the reference's fixed sizes). */
const SIZED: ReadonlySet<ArchitectureName> = new Set(['cifar10_rectangle']);

export function isArchitectureName(name: string): name is ArchitectureName {
  return (ARCHITECTURES as readonly string[]).includes(name);
}

/** Builds a freshly initialised CVAE (PyTorch default init from `seed`, default 0; `size` for cifar10_rectangle). */
export function createCVAE(architecture: ArchitectureName | string, options: CVAEOptions = {}): CVAE {
  const factory = isArchitectureName(architecture) ? FACTORIES[architecture] : undefined;
  if (!factory) {
    throw new ArgumentError(`unknown CVAE architecture "${architecture}"; expected one of ${ARCHITECTURES.join(', ')}`);
  }
  if (options.size && Object.keys(options.size).length > 0 && !SIZED.has(architecture as ArchitectureName)) {
    throw new ArgumentError(`${architecture} has fixed sizes; size options (${Object.keys(options.size).join(', ')}) apply to cifar10_rectangle only`);
  }
  return factory(options);
}
