import type { IncomingMessage, ServerResponse } from "node:http";
import {
  InvalidFencingOptionError,
  isFenceStoreError,
  isInvalidFencingTokenError,
  isStaleTokenError,
  StaleTokenError,
} from "./errors.js";
import type { Fence } from "./fence.js";
import { ResourceQueue } from "./resource-queue.js";
import { FencingToken } from "./token.js";

/** The header that carries a leader's fencing token: `Fencing-Token: 33`. */
export const FENCING_TOKEN_HEADER = "Fencing-Token";

/**
 * The headers a leader sends with each write: its token in decimal.
 *
 * @param header the header's name.
 * @defaultValue header `"Fencing-Token"`
 * @throws InvalidFencingTokenError if `token` is not a fencing token.
 *
 * @example
 * ```ts
 * await fetch(url, { method: "PUT", body, headers: fencingHeaders(leadership.token) });
 * ```
 */
export function fencingHeaders(
  token: bigint,
  header: string = FENCING_TOKEN_HEADER,
): Record<string, string> {
  return { [header]: FencingToken.format(token) };
}

/** The JSON body of a refusal by {@link fencingMiddleware}. */
export interface FencingRefusal {
  /** `stale-token` (409), `invalid-token` (400 or 428) or `store-failed` (503). */
  readonly error: "stale-token" | "invalid-token" | "store-failed" | "internal-error";
  /** Why, in a sentence. */
  readonly message: string;
  /** The resource, when known. */
  readonly resource?: string;
  /** The presented token in decimal (for `stale-token`). */
  readonly presented?: string;
  /** The highest admitted token in decimal (for `stale-token`). */
  readonly highest?: string;
}

/** Options of {@link fencingMiddleware} and {@link withFencing}. */
export interface FencingMiddlewareOptions {
  /**
   * The resource a request writes to: a fixed name, or a function of the request. Requests
   * for different resources are fenced independently, so two names for one resource let a
   * stale token through the name that has not seen the newer one.
   *
   * Required: there is no default. The request's path would be one, but `/accounts`,
   * `/accounts/`, `/Accounts` and `/%61ccounts` reach the same handler in many routers and
   * would be fenced apart. A function of the request must map every spelling of a resource
   * to one name (lowercase it if routing ignores case, drop trailing slashes, decode).
   */
  readonly resource: string | ((request: IncomingMessage) => string);
  /**
   * The header that carries the token.
   *
   * @defaultValue `"Fencing-Token"`
   */
  readonly header?: string;
  /**
   * Lets one request per resource in at a time, from admission until its response has
   * ended, so that a write admitted with token 33 cannot land after one admitted with 34. A
   * handler that never ends its response holds its resource. Turn it off only when the handler's write is atomic with the admission anyway (a
   * {@link PostgresFence.transaction} or an etcd transaction in the handler).
   *
   * @defaultValue `true`
   */
  readonly exclusive?: boolean;
  /**
   * Methods that pass without a token: reads need no fence.
   *
   * @defaultValue `["GET", "HEAD", "OPTIONS"]`
   */
  readonly unfencedMethods?: readonly string[];
}

/** A Connect- and Express-style middleware. */
export type FencingMiddleware = (
  request: IncomingMessage,
  response: ServerResponse,
  next: (error?: unknown) => void,
) => void;

const admitted = new WeakMap<IncomingMessage, bigint>();

/**
 * The token that {@link fencingMiddleware} admitted for `request`, or `undefined` if the
 * request passed unfenced.
 */
export function admittedToken(request: IncomingMessage): bigint | undefined {
  return admitted.get(request);
}

interface ResolvedOptions {
  readonly resource: (request: IncomingMessage) => string;
  readonly header: string;
  readonly exclusive: boolean;
  readonly unfencedMethods: ReadonlySet<string>;
}

function resolveOptions(options: FencingMiddlewareOptions): ResolvedOptions {
  if (typeof options !== "object" || options === null) {
    throw new InvalidFencingOptionError("options", options, "an object with a resource");
  }
  const resource = options.resource;
  if (typeof resource !== "function" && (typeof resource !== "string" || resource === "")) {
    throw new InvalidFencingOptionError(
      "resource",
      resource,
      "a non-empty string or a function of the request (required: a path would fence /accounts and /Accounts apart)",
    );
  }
  const header = options.header ?? FENCING_TOKEN_HEADER;
  if (typeof header !== "string" || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header)) {
    throw new InvalidFencingOptionError("header", header, "an HTTP header name");
  }
  const exclusive = options.exclusive ?? true;
  if (typeof exclusive !== "boolean") {
    throw new InvalidFencingOptionError("exclusive", exclusive, "a boolean");
  }
  const methods = options.unfencedMethods ?? ["GET", "HEAD", "OPTIONS"];
  if (!Array.isArray(methods) || !methods.every((method) => typeof method === "string")) {
    throw new InvalidFencingOptionError("unfencedMethods", methods, "an array of method names");
  }
  return Object.freeze({
    resource: typeof resource === "string" ? () => resource : resource,
    header,
    exclusive,
    unfencedMethods: new Set(methods.map((method) => method.toUpperCase())),
  });
}

/**
 * A middleware for `node:http`-style servers (Connect, Express) that admits each write's
 * fencing token through `fence` before the handler runs. A request whose token is stale is
 * answered `409 Conflict` with a JSON {@link FencingRefusal} that names both tokens; the
 * handler never sees it.
 *
 * Other refusals: a missing token `428 Precondition Required`, a malformed one
 * `400 Bad Request`, a store that failed `503 Service Unavailable`.
 *
 * @throws InvalidFencingOptionError if an option is wrong.
 *
 * @example
 * ```ts
 * app.put("/orders/:id", fencingMiddleware(fence, { resource: "orders" }), saveOrder);
 * ```
 */
export function fencingMiddleware(
  fence: Fence,
  options: FencingMiddlewareOptions,
): FencingMiddleware {
  if (typeof fence !== "object" || fence === null || typeof fence.admit !== "function") {
    throw new InvalidFencingOptionError("fence", fence, "a Fence");
  }
  const resolved = resolveOptions(options);
  const queue = resolved.exclusive ? new ResourceQueue() : undefined;
  return (request, response, next) => {
    void admit(fence, resolved, queue, request, response).then(
      (pass) => {
        if (pass) next();
      },
      (error: unknown) => next(error),
    );
  };
}

/**
 * Wraps a `node:http` request handler so that writes reach it only with an admitted token:
 * {@link fencingMiddleware} for a server without a middleware framework. The handler gets
 * the admitted token as its third argument.
 *
 * @throws InvalidFencingOptionError if an option is wrong.
 *
 * @example
 * ```ts
 * http.createServer(withFencing(fence, { resource: "ledger" }, (req, res, token) => {
 *   ledger.append(token, req);
 *   res.end();
 * }));
 * ```
 */
export function withFencing(
  fence: Fence,
  options: FencingMiddlewareOptions,
  handler: (
    request: IncomingMessage,
    response: ServerResponse,
    token: bigint | undefined,
  ) => unknown,
): (request: IncomingMessage, response: ServerResponse) => void {
  if (typeof handler !== "function") {
    throw new InvalidFencingOptionError("handler", handler, "a request handler function");
  }
  const middleware = fencingMiddleware(fence, options);
  return (request, response) => {
    middleware(request, response, (error) => {
      if (error !== undefined) {
        refuse(response, 500, { error: "internal-error", message: messageOf(error) });
        return;
      }
      try {
        const done = handler(request, response, admittedToken(request));
        if (done instanceof Promise) done.catch((failure: unknown) => fail(response, failure));
      } catch (failure) {
        fail(response, failure);
      }
    });
  };
}

/** @returns whether the request may go on to the handler. */
async function admit(
  fence: Fence,
  options: ResolvedOptions,
  queue: ResourceQueue | undefined,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<boolean> {
  if (options.unfencedMethods.has((request.method ?? "GET").toUpperCase())) return true;
  let token: bigint;
  try {
    token = FencingToken.fromHeader(request.headers[options.header.toLowerCase()], options.header);
  } catch (error) {
    if (!isInvalidFencingTokenError(error)) throw error;
    refuse(response, error.value === undefined ? 428 : 400, {
      error: "invalid-token",
      message: error.message,
    });
    return false;
  }
  const resource = options.resource(request);
  if (typeof resource !== "string" || resource === "") {
    throw new InvalidFencingOptionError(
      "resource",
      resource,
      "a function that returns a non-empty string",
    );
  }
  let finished = false;
  response.once("close", () => {
    finished = true;
  });
  const release = queue === undefined ? undefined : await queue.acquire(resource);
  if (release !== undefined) {
    if (finished) {
      release();
      return false;
    }
    response.once("close", release);
  }
  try {
    await fence.admit(resource, token);
  } catch (error) {
    release?.();
    if (isStaleTokenError(error)) {
      refuse(response, 409, {
        error: "stale-token",
        message: error.message,
        resource: error.resource,
        presented: error.presented.toString(),
        highest: error.highest.toString(),
      });
      return false;
    }
    if (isFenceStoreError(error)) {
      response.setHeader("Retry-After", "1");
      refuse(response, 503, { error: "store-failed", message: error.message, resource });
      return false;
    }
    throw error;
  }
  admitted.set(request, token);
  return true;
}

function refuse(response: ServerResponse, status: number, body: FencingRefusal): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  response.end(text);
}

function fail(response: ServerResponse, error: unknown): void {
  refuse(response, 500, { error: "internal-error", message: messageOf(error) });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Turns a refusal read back by the leader into a {@link StaleTokenError}, so that a client
 * can handle it like the fence's own: `undefined` unless `status` is 409 and `body` is a
 * stale-token {@link FencingRefusal}.
 *
 * @example
 * ```ts
 * const res = await fetch(url, { method: "PUT", headers: fencingHeaders(token), body });
 * const stale = staleTokenErrorFromResponse(res.status, await res.json());
 * if (stale) throw stale;
 * ```
 */
export function staleTokenErrorFromResponse(
  status: number,
  body: unknown,
): StaleTokenError | undefined {
  if (status !== 409 || typeof body !== "object" || body === null) return undefined;
  const refusal = body as Partial<Record<keyof FencingRefusal, unknown>>;
  if (refusal.error !== "stale-token" || typeof refusal.resource !== "string") return undefined;
  try {
    return new StaleTokenError(
      refusal.resource,
      FencingToken.fromJSON(refusal.presented, "presented"),
      FencingToken.fromJSON(refusal.highest, "highest"),
    );
  } catch {
    return undefined;
  }
}
