// The election's line as znodes: naming, order, data and token.
//
// Layout: election `e` under root path `/elector` is the persistent node `/elector/e`; each
// candidate is an ephemeral-sequential child `<guid>-n_<sequence>`, for example
// `/elector/e/0f6c…-9a1e-n_0000000042`. The GUID is fresh per campaign; the sequence is the
// server's ten-digit counter of the parent, and only it orders the line.
import { randomUUID } from "node:crypto";
import { BackendError } from "@elector/core";
import type { NodeStat } from "./session.js";

/** Separates a candidate node's GUID from its sequence number. */
export const sequenceMarker = "-n_";

/** One candidate node of the line. */
export interface LineEntry {
  /** The node's name, without its parent. */
  readonly name: string;
  /** The server-assigned sequence number. */
  readonly sequence: number;
}

/** What a candidate node holds. */
export interface CandidateData {
  readonly id: string;
  readonly value: string;
}

/** A fresh GUID prefix for one campaign's node: `<uuid>-n_`. */
export function newNodePrefix(): string {
  return `${randomUUID()}${sequenceMarker}`;
}

/**
 * The candidate nodes among `children`, lowest sequence first. Children that do not look like
 * candidate nodes (some other recipe's) are left out.
 */
export function parseLine(children: readonly string[]): LineEntry[] {
  const line: LineEntry[] = [];
  for (const name of children) {
    const at = name.lastIndexOf(sequenceMarker);
    if (at <= 0) continue;
    const digits = name.slice(at + sequenceMarker.length);
    // The C client prints the int32 counter with %010d; past 2^31 - 1 it would go negative.
    if (!/^-?\d{10,11}$/.test(digits)) continue;
    line.push({ name, sequence: Number(digits) });
  }
  return line.sort((a, b) => a.sequence - b.sequence);
}

/**
 * A candidate node's data: UTF-8 JSON `{"id":…,"value":…}`, so that `leader()` and
 * `participants()` need one read per node and other tools can read it too.
 */
export function encodeCandidate(data: CandidateData): string {
  return JSON.stringify({ id: data.id, value: data.value });
}

/** The data of a candidate node, or undefined if it is not ours to read. */
export function decodeCandidate(data: Buffer): CandidateData | undefined {
  try {
    const parsed = JSON.parse(data.toString("utf8")) as { id?: unknown; value?: unknown };
    if (typeof parsed.id !== "string" || typeof parsed.value !== "string") return undefined;
    return { id: parsed.id, value: parsed.value };
  } catch {
    return undefined;
  }
}

/**
 * The fencing token of a node: its czxid, exact as bigint (a zxid is the leader epoch in the
 * high 32 bits and a counter in the low 32 bits).
 *
 * @throws BackendError for a czxid that is not positive, rather than hand out a token that
 * may repeat.
 */
export function tokenOf(stat: NodeStat, path: string): bigint {
  const czxid = stat.czxid;
  if (czxid <= 0n) {
    throw new BackendError(
      `the czxid of ${JSON.stringify(path)} is ${czxid}; it cannot be a fencing token`,
    );
  }
  return czxid;
}
