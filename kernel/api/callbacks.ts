/**
 * The one progress convention of the API: a long-running call takes a `callbacks` object in the
 * TensorFlow.js style (`model.fit(x, y, { callbacks: { onEpochEnd, onBatchEnd } })`). Each hook
 * receives one event object; when a hook returns a promise, it is awaited before the work goes
 * on (any other return value is ignored, so `(p) => handle.update(...)` is fine).
 */
export type Callback<Event> = (event: Event) => unknown;
