/**
 * A failure the CLI reports in one line and exits on. `exitCode` 2 marks a usage error (a bad
 * flag, URL or option), which also points at `--help`.
 */
export class CliError extends Error {
  override readonly name: string = "CliError";
  /** The process exit code: 2 for usage errors, 1 otherwise. */
  readonly exitCode: number;
  /** The command whose `--help` the message should point at, for usage errors. */
  readonly helpFor: string | undefined;

  constructor(
    message: string,
    options: { exitCode?: number; helpFor?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.exitCode = options.exitCode ?? 1;
    this.helpFor = options.helpFor;
  }
}

/** A usage error: exit code 2, and the message points at the command's `--help`. */
export function usageError(command: string, message: string, cause?: unknown): CliError {
  return new CliError(message, {
    exitCode: 2,
    helpFor: command,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The message of any thrown value. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
