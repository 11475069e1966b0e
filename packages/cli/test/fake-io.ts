import { EventEmitter } from "node:events";
import type { CliIo, Output } from "../src/io.js";

/** Collects what a command writes, and wakes waiters on each write. */
export class CapturedOutput implements Output {
  text = "";
  readonly #waiters = new Set<() => void>();

  write(chunk: string): boolean {
    this.text += chunk;
    for (const wake of [...this.#waiters]) wake();
    return true;
  }

  get lines(): string[] {
    return this.text.split("\n").filter((line) => line !== "");
  }

  /** Resolves once the output matches `pattern`; rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(this.text)) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`no ${pattern} within ${timeoutMs} ms in: ${this.text}`));
      }, timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }
}

/** A {@link CliIo} whose output is captured and whose signals a test emits. */
export function fakeIo(overrides: Partial<CliIo> = {}): CliIo & {
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  signals: EventEmitter;
} {
  return {
    env: { PATH: process.env.PATH },
    ...overrides,
    stdout: new CapturedOutput(),
    stderr: new CapturedOutput(),
    signals: new EventEmitter(),
  };
}
