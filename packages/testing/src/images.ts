import { TestingSetupError } from "./errors.js";

/** The servers this package starts. */
export type ServerKind = "etcd" | "zookeeper" | "postgres";

/**
 * The official upstream image of each server, used when neither a constructor argument nor
 * the environment variable of {@link imageVariables} names another.
 */
export const defaultImages: Readonly<Record<ServerKind, string>> = Object.freeze({
  etcd: "quay.io/coreos/etcd:v3.5.21",
  zookeeper: "zookeeper:3.9.3",
  postgres: "postgres:15",
});

/** The environment variable that overrides each server's image. */
export const imageVariables: Readonly<Record<ServerKind, string>> = Object.freeze({
  etcd: "ELECTOR_ETCD_IMAGE",
  zookeeper: "ELECTOR_ZOOKEEPER_IMAGE",
  postgres: "ELECTOR_POSTGRES_IMAGE",
});

/** An image name and where it came from, so that an error can name the place to fix. */
export interface ResolvedImage {
  readonly kind: ServerKind;
  readonly name: string;
  /** `"argument"`, the environment variable's name, or `"default"`. */
  readonly source: string;
}

// Docker's reference grammar (distribution/reference), without IPv6 registry hosts:
// [host[:port]/]component[/component...][:tag][@algorithm:hex]
const hostComponent = "(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)";
const domain = `${hostComponent}(?:\\.${hostComponent})*(?::[0-9]+)?`;
const pathComponent = "[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*";
const tag = "[\\w][\\w.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}";
const referencePattern = new RegExp(
  `^(?:${domain}/)?${pathComponent}(?:/${pathComponent})*(?::${tag})?(?:@${digest})?$`,
);

/**
 * Checks that `value` is a well-formed image reference.
 *
 * @param place what set the value, for the message: an environment variable or an argument.
 * @param example a valid name to show in the message.
 * @throws TestingSetupError `invalid-image`, naming `place` and the value.
 */
export function validateImageName(value: string, place: string, example: string): string {
  if (value.trim() === "") {
    throw new TestingSetupError(
      "invalid-image",
      `${place} must name a Docker image such as ${example}, got an empty value; unset it to use the default image`,
    );
  }
  if (value.length > 255 || !referencePattern.test(value)) {
    throw new TestingSetupError(
      "invalid-image",
      `${place} must be a Docker image reference such as ${example} (registry/name:tag), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/**
 * The image to start for `kind`: the argument if given, else the environment variable of
 * {@link imageVariables} if set, else the default of {@link defaultImages}.
 *
 * @throws TestingSetupError `invalid-image` when the argument or the variable is empty or
 * malformed; the message names which one and its value.
 */
export function resolveImage(
  kind: ServerKind,
  argument?: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedImage {
  if (argument !== undefined) {
    const name = validateImageName(argument, `the ${kind} image argument`, defaultImages[kind]);
    return { kind, name, source: "argument" };
  }
  const variable = imageVariables[kind];
  const fromEnv = env[variable];
  if (fromEnv !== undefined) {
    const name = validateImageName(
      fromEnv,
      `the environment variable ${variable}`,
      defaultImages[kind],
    );
    return { kind, name, source: variable };
  }
  return { kind, name: defaultImages[kind], source: "default" };
}
