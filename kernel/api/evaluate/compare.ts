/**
 * `compareSets(sets, pairs)`: several learned sets evaluated on the same pairs at one radius, as
 * the paper's tables compare models. The common radius defaults to the largest of the sets' own,
 * so every model's validation encodings lie in the ball (a larger ball alone lowers PGD AE, so
 * per-model radii would confound the comparison).
 */
import { ArgumentError } from '../errors';
import { PerturbationSet } from '../models/perturbation-set';
import type { PairSource } from '../pairs/source';
import { evaluatePerturbationSet, type EvaluationOptions, type EvaluationReport } from './evaluate-set';

export interface CompareOptions extends EvaluationOptions {
  /** The common ε (default: the largest radius among the sets). */
  radius?: number;
}

/** Evaluates each named set on `pairs` at the common radius, in the order given. */
export async function compareSets(sets: Record<string, PerturbationSet>, pairs: PairSource, options: CompareOptions = {}): Promise<Array<{ name: string; report: EvaluationReport }>> {
  const entries = Object.entries(sets ?? {});
  if (entries.length === 0) throw new ArgumentError('compareSets: give at least one named PerturbationSet');
  for (const [name, set] of entries) {
    if (!(set instanceof PerturbationSet)) throw new ArgumentError(`compareSets: "${name}" is not a PerturbationSet`);
  }
  const { radius: given, ...evaluation } = options;
  const radius = given ?? Math.max(...entries.map(([, set]) => set.radius));
  const rows: Array<{ name: string; report: EvaluationReport }> = [];
  for (const [name, set] of entries) rows.push({ name, report: await evaluatePerturbationSet(set.withRadius(radius), pairs, evaluation) });
  return rows;
}
