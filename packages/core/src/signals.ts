/** A signal that follows several others, and a way to stop following them. */
export interface LinkedSignal {
  /** Aborts, with the first source's reason, as soon as any source aborts. */
  readonly signal: AbortSignal;
  /** Removes the listeners this link put on its sources. Call it when the wait is over. */
  dispose(): void;
}

/**
 * Links `sources` into one signal. Unlike `AbortSignal.any`, whose bookkeeping on Node 20
 * grows on a long-lived source with every call, the link removes its listeners on
 * {@link LinkedSignal.dispose}, so a long-lived signal (the elector's close, an app's stop) can
 * take part in any number of waits.
 */
export function linkSignals(...sources: (AbortSignal | undefined)[]): LinkedSignal {
  const present = sources.filter((source): source is AbortSignal => source !== undefined);
  const controller = new AbortController();
  const aborted = present.find((source) => source.aborted);
  if (aborted !== undefined) {
    controller.abort(aborted.reason);
    return { signal: controller.signal, dispose: () => {} };
  }
  const listeners = present.map((source) => {
    const listener = () => {
      dispose();
      controller.abort(source.reason);
    };
    source.addEventListener("abort", listener, { once: true });
    return [source, listener] as const;
  });
  const dispose = () => {
    for (const [source, listener] of listeners) source.removeEventListener("abort", listener);
  };
  return { signal: controller.signal, dispose };
}

/** Settles with `promise`, or rejects with the signal's reason as soon as it aborts. */
export function raceSignal<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    // Keeps the process alive: whoever awaits this delay depends on it alone.
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
