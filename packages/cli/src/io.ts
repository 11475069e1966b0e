import type { createElector } from "@elector/core";

/** Where the CLI writes; `process.stdout` and `process.stderr` fit. */
export interface Output {
  write(text: string): unknown;
}

/** Where signals arrive: `process` in the bin, an `EventEmitter` in tests. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Everything the CLI touches outside its arguments, so that tests can run a command in the
 * same process with their own electors and signals.
 */
export interface CliIo {
  readonly stdout: Output;
  readonly stderr: Output;
  /** `ELECTOR_URL` is the default of `--url`; `run` passes the environment to the command. */
  readonly env: NodeJS.ProcessEnv;
  readonly signals: SignalSource;
  /**
   * Creates the elector.
   *
   * @defaultValue `createElector` of `@elector/core`
   */
  readonly createElector?: typeof createElector;
}
