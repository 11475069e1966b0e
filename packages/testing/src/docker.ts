import {
  type ContainerRuntimeClient,
  getContainerRuntimeClient,
  getReaper,
  ImageName,
} from "testcontainers";
import { messageOf, TestingSetupError } from "./errors.js";
import { imageVariables, type ResolvedImage } from "./images.js";

/** Where testcontainers looks for the Docker engine first, for messages. */
export function dockerAddress(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_HOST || "unix:///var/run/docker.sock";
}

/**
 * The Docker client, or one clear error when no engine answers.
 *
 * @param connect how to reach the engine; tests pass a failing one.
 * @throws TestingSetupError `docker-unavailable`.
 */
export async function connectDocker(
  connect: () => Promise<ContainerRuntimeClient> = getContainerRuntimeClient,
): Promise<ContainerRuntimeClient> {
  try {
    return await connect();
  } catch (error) {
    throw new TestingSetupError(
      "docker-unavailable",
      `no Docker engine answers at ${dockerAddress()} (nor at any place testcontainers looks); install and start one (Debian: apt-get install docker.io && dockerd &), or set DOCKER_HOST to an engine that runs: ${messageOf(error)}`,
      { cause: error },
    );
  }
}

/**
 * Makes sure `image` is on the engine: a local image is used as it is; a missing one is
 * pulled once, and if that fails the error says how to build local images instead.
 *
 * @throws TestingSetupError `image-missing`.
 */
export async function ensureImage(
  client: ContainerRuntimeClient,
  image: ResolvedImage,
): Promise<void> {
  const name = ImageName.fromString(image.name);
  let pullError: unknown;
  try {
    if (await client.image.exists(name)) return;
    await client.image.pull(name);
    // A pull whose stream reports an error still resolves; only the image itself tells.
    if (await client.image.exists(name)) return;
  } catch (error) {
    pullError = error;
  }
  const variable = imageVariables[image.kind];
  const from =
    image.source === "default"
      ? `the default ${image.kind} image`
      : image.source === "argument"
        ? `the ${image.kind} image argument`
        : `the ${image.kind} image from ${image.source}`;
  throw new TestingSetupError(
    "image-missing",
    `${from}, ${image.name}, is not on the Docker engine and pulling it failed (no registry may be reachable from here${pullError === undefined ? "" : `: ${messageOf(pullError).trim()}`}). Build local images from Debian's packages with \`sudo npx elector-build-images\` (a bin of @elector/testing; \`pnpm images\` in the elector repository; needs root, debootstrap and this engine) and point ${variable} at the tag it prints, or pull ${image.name} where a registry is reachable`,
    { cause: pullError },
  );
}

/** The HTTP status of a failed Docker API call (404: no such container or network). */
export function dockerStatusCode(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null || !("statusCode" in error)) return undefined;
  const { statusCode } = error as { statusCode: unknown };
  return typeof statusCode === "number" ? statusCode : undefined;
}

/**
 * Makes sure testcontainers' reaper (Ryuk) runs, unless `TESTCONTAINERS_RYUK_DISABLED=true`:
 * testcontainers starts it before the first container, and where its image cannot be pulled
 * that start fails with the registry's error alone ("no such host"), which names neither Ryuk
 * nor the way around it.
 *
 * @param reaper how to start Ryuk; tests pass a failing one.
 * @throws TestingSetupError `ryuk-unavailable`, saying to set `TESTCONTAINERS_RYUK_DISABLED=true`.
 */
export async function ensureReaper(
  client: ContainerRuntimeClient,
  reaper: (client: ContainerRuntimeClient) => Promise<unknown> = getReaper,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  if (env.TESTCONTAINERS_RYUK_DISABLED === "true") return;
  try {
    await reaper(client);
  } catch (error) {
    const image = env.RYUK_CONTAINER_IMAGE || "testcontainers/ryuk";
    throw new TestingSetupError(
      "ryuk-unavailable",
      `testcontainers could not start Ryuk, the container that removes test containers after a run (image ${image}; no registry may be reachable from here): ${messageOf(error).trim()}. Set TESTCONTAINERS_RYUK_DISABLED=true to run without it: @elector/testing removes what it starts, and removeLeftovers() removes what a crashed run left behind`,
      { cause: error },
    );
  }
}
