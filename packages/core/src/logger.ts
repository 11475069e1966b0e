/**
 * One level of a {@link Logger}: pino's call shapes, `(message)` or `(fields, message)`.
 */
export type LogFn = {
  (message: string): void;
  (fields: Record<string, unknown>, message?: string): void;
};

/**
 * The part of a pino logger that elector uses. A pino, bunyan-like or console-backed logger
 * fits; the default is silent.
 */
export interface Logger {
  /** Steps of a campaign or term, for troubleshooting. */
  debug: LogFn;
  /** Elected, resigned, resumed. */
  info: LogFn;
  /** Losses other than resign and close, suspensions. */
  warn: LogFn;
  /** Background failures, such as a cleanup that failed. */
  error: LogFn;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

const ignore: LogFn = () => {};

/** A logger that writes nothing: the default of every elector. */
export const silentLogger: Logger = Object.freeze({
  debug: ignore,
  info: ignore,
  warn: ignore,
  error: ignore,
  child: () => silentLogger,
});
