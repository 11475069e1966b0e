import { delay } from "@elector/core/backend";
import { ZooKeeperConnectionError } from "./errors.js";
import { type Session, SessionEndedError } from "./session.js";

/**
 * Runs an idempotent request until it gets an answer: after a connection failure, once the
 * session is connected again. The session's end, any other failure and the signal stop it.
 * Its time is bounded by the caller's term, whose session watch aborts `signal` once the
 * session may have expired.
 */
export async function retrying<T>(
  session: Session,
  signal: AbortSignal,
  request: () => Promise<T>,
): Promise<T> {
  for (;;) {
    signal.throwIfAborted();
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof ZooKeeperConnectionError) || error instanceof SessionEndedError) {
        throw error;
      }
      // The C client fails requests before it reports the disconnect: give it a moment
      // rather than spin while the session still looks connected.
      if (session.state === "connected") await delay(10, signal);
      await session.ready(signal);
    }
  }
}
