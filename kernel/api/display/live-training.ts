/**
 * A live training display for notebooks: a progress line and a loss chart, each one output that
 * is updated in place. Updates are throttled (default at most ~3 per second) because every update
 * is a message to the client and a re-render; the latest state is always shown at the end.
 *
 *     const live = pertset.display.liveTraining();
 *     await trainer.run({ callbacks: live });   // the final state is shown when run ends
 */
import type { EpochSummary, TrainProgress } from '../train/events';
import { MIME, MIME_BUNDLE, type MimeBundle } from '../../contract/mime';
import { lineChart } from './chart';
import { DisplayHandle } from './display';
import { escapeHtml, formatNumber } from './html';

export interface LiveTrainingOptions {
  /** Minimum milliseconds between two updates (default 300). */
  intervalMs?: number;
  /** Show the loss chart (default true). */
  chart?: boolean;
  /** Chart title (default "training loss"). */
  title?: string;
  /** At most this many points per curve; older points are thinned (default 2000). */
  maxPoints?: number;
}

function clock(seconds: number): string {
  const s = Math.floor(seconds);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${Math.floor(s / 3600) > 0 ? `${Math.floor(s / 3600)}:` : ''}${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** The one-line summary of a progress event (also used by tests and the CLI-like text fallback). */
export function progressLine(p: TrainProgress): string {
  return `epoch ${p.epoch + 1}/${p.epochs} step ${p.step + 1}/${p.stepsPerEpoch} (global ${p.globalStep}) ` +
    `loss ${formatNumber(p.loss)} kl ${formatNumber(p.kl)} recon ${formatNumber(p.recon)} ` +
    `lr ${formatNumber(p.lr, 3)} beta ${formatNumber(p.beta, 3)} ${formatNumber(p.stepsPerSecond, 3)} steps/s ${clock(p.elapsed)}`;
}

function progressBundle(p: TrainProgress, epochs: EpochSummary[]): MimeBundle {
  const done = p.epoch * p.stepsPerEpoch + p.step + 1;
  const total = p.epochs * p.stepsPerEpoch;
  const last = epochs[epochs.length - 1];
  const lastEpoch = last
    ? ` | epoch ${last.epoch + 1}: train ${formatNumber(last.train.loss)}${last.validation ? `, validation ${formatNumber(last.validation.loss)}` : ''}`
    : '';
  const line = progressLine(p) + lastEpoch;
  return {
    data: {
      [MIME.html]: `<div class="pertset-progress"><progress value="${done}" max="${total}" style="width:12em"></progress> <code>${escapeHtml(line)}</code></div>`,
      [MIME.plain]: line,
    },
  };
}

export class LiveTrainingDisplay {
  private readonly intervalMs: number;
  private readonly maxPoints: number;
  private readonly progressHandle = new DisplayHandle();
  private readonly chartHandle = new DisplayHandle();
  private shown = false;
  private lastEmit = -Infinity;
  private timer: NodeJS.Timeout | undefined;
  private latest: TrainProgress | undefined;
  private readonly epochs: EpochSummary[] = [];
  private readonly history = { step: [] as number[], loss: [] as number[], kl: [] as number[], recon: [] as number[] };
  /** Number of updates sent so far (display + update messages of the progress line). */
  updates = 0;

  constructor(private readonly options: LiveTrainingOptions = {}) {
    this.intervalMs = options.intervalMs ?? 300;
    this.maxPoints = options.maxPoints ?? 2000;
  }

  /** The trainer's `onBatchEnd` hook (so `trainer.run({ callbacks: live })` works). */
  readonly onBatchEnd = (p: TrainProgress): void => {
    this.latest = p;
    const h = this.history;
    h.step.push(p.globalStep);
    h.loss.push(p.loss);
    h.kl.push(p.kl);
    h.recon.push(p.recon);
    if (h.step.length > this.maxPoints) this.thin();
    const wait = this.lastEmit + this.intervalMs - Date.now();
    if (wait <= 0) this.flush();
    else if (!this.timer) {
      // Trailing update so the last state before a pause (or the end) is shown.
      this.timer = setTimeout(() => this.flush(), wait);
      this.timer.unref?.();
    }
  };

  /** The trainer's `onEpochEnd` hook: the last epoch's means join the progress line. */
  readonly onEpochEnd = (e: EpochSummary): void => {
    this.epochs.push(e);
  };

  /** The trainer's `onTrainEnd` hook: shows the final state (training finished, paused or interrupted). */
  readonly onTrainEnd = (): void => {
    this.flush();
  };

  /** Shows the final state now (for training driven without `Trainer.run`'s callbacks). */
  finish(): void {
    this.flush();
  }

  /** Keeps every second point: the curve keeps its shape with half the points. */
  private thin(): void {
    for (const key of Object.keys(this.history) as Array<keyof typeof this.history>) {
      this.history[key] = this.history[key].filter((_, i) => i % 2 === 1 || i === this.history[key].length - 1);
    }
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const p = this.latest;
    if (!p) return;
    this.lastEmit = Date.now();
    const progress = { [MIME_BUNDLE]: () => progressBundle(p, this.epochs) };
    const chart = this.options.chart === false ? undefined : lineChart(
      { loss: this.history.loss, kl: this.history.kl, recon: this.history.recon },
      { x: this.history.step, title: this.options.title ?? 'training loss', xLabel: 'step', yLabel: 'loss per example' },
    );
    if (!this.shown) {
      this.progressHandle.display(progress);
      if (chart) this.chartHandle.display(chart);
      this.shown = true;
    } else {
      this.progressHandle.update(progress);
      if (chart) this.chartHandle.update(chart);
    }
    this.updates++;
  }
}

/** A live progress line + loss chart fed by `TrainProgress` events. */
export function liveTraining(options: LiveTrainingOptions = {}): LiveTrainingDisplay {
  return new LiveTrainingDisplay(options);
}
