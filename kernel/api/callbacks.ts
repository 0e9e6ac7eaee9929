/**
 * The one progress convention of the API: a long-running call takes a `callbacks` object in the
 * TensorFlow.js style (`model.fit(x, y, { callbacks: { onEpochEnd, onBatchEnd } })`). Each hook
 * receives one event object; a hook may return a promise, which is awaited before the work goes on.
 */
export type Callback<Event> = (event: Event) => void | Promise<void>;
