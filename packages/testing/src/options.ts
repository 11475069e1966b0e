import { TestingSetupError } from "./errors.js";

/**
 * Checks that `value` is an integer within `[min, max]`.
 *
 * @throws TestingSetupError `invalid-option`, naming the option and the value.
 */
export function integerOption(option: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new TestingSetupError(
      "invalid-option",
      `${option} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** The longest a server may take to start or come back, unless the builder says otherwise. */
export const defaultStartupTimeoutMs = 60_000;

/**
 * Checks an environment map for a container.
 *
 * @throws TestingSetupError `invalid-option` when a name is empty or contains `=`.
 */
export function environmentOption(
  environment: Readonly<Record<string, string>>,
): Record<string, string> {
  for (const [name, value] of Object.entries(environment)) {
    if (name === "" || name.includes("=") || typeof value !== "string") {
      throw new TestingSetupError(
        "invalid-option",
        `environment variable names must be non-empty and without "=", and values strings, got ${JSON.stringify(name)}=${JSON.stringify(value)}`,
      );
    }
  }
  return { ...environment };
}
