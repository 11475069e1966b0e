import { type ResolvedImage, resolveImage, type ServerKind } from "./images.js";
import { defaultStartupTimeoutMs, environmentOption, integerOption } from "./options.js";

/**
 * What every builder has, in the fluent style of testcontainers' `GenericContainer`: the
 * image (the constructor argument, else the `ELECTOR_*_IMAGE` variable, else the official
 * image), a startup timeout and extra environment variables.
 *
 * @typeParam Started what `start()` returns.
 */
export abstract class ServerBuilder<Started> {
  /** The image to start and where its name came from. */
  protected readonly image: ResolvedImage;
  protected startupTimeoutMs = defaultStartupTimeoutMs;
  protected environment: Record<string, string> = {};

  /**
   * @throws TestingSetupError `invalid-image` when `image` or the environment variable is
   * empty or malformed.
   */
  protected constructor(kind: ServerKind, image?: string) {
    this.image = resolveImage(kind, image);
  }

  /** The image this builder starts, after the argument and the environment were applied. */
  getImage(): string {
    return this.image.name;
  }

  /**
   * How long a server may take to answer after it starts or restarts.
   *
   * @defaultValue 60000
   * @throws TestingSetupError `invalid-option` unless an integer from 1000 to 600000.
   */
  withStartupTimeout(startupTimeoutMs: number): this {
    this.startupTimeoutMs = integerOption("startupTimeoutMs", startupTimeoutMs, 1_000, 600_000);
    return this;
  }

  /** Extra environment variables for every container; they win over this package's own. */
  withEnvironment(environment: Readonly<Record<string, string>>): this {
    this.environment = { ...this.environment, ...environmentOption(environment) };
    return this;
  }

  /** Starts the server(s) and waits until they answer. */
  abstract start(): Promise<Started>;
}
