/** An abort signal that fires after `ms`, and the way to drop its timer once the call it bounds is over. */
export interface Deadline {
  signal: AbortSignal;
  /** Stops the timer: nothing fires later, long after the call answered. */
  clear(): void;
}

/**
 * Like `AbortSignal.timeout(ms)` (the same `TimeoutError` reason), but its timer is cleared when the
 * call is done. `AbortSignal.timeout`'s timer always runs out: a second or more after every answer it
 * aborts a finished call's signal, and the listeners the SDK left on it run for nothing.
 */
export function deadline(ms: number): Deadline {
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')),
    ms,
  );
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}
