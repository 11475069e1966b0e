// The election's line as znodes: naming, order, data and token.
//
// Layout: election `e` under root path `/elector` is the persistent node `/elector/e`; each
// candidate is an ephemeral-sequential child `<guid>-n_<sequence>`, for example
// `/elector/e/0f6c…-9a1e-n_0000000042`. The GUID is fresh per campaign; the sequence is the
// server's counter of the parent's child changes (its cversion, an int32).
//
// The line is ordered by sequence, which for usable sequences is the order of the czxids, the
// tokens (docs/safety.md, "ZooKeeper: the line and the handoff"): the quorum leader names
// each create after the parent's cversion as it prepares the creates one at a time, in zxid
// order, and adds one to it for each; and all children listed at once belong to one
// incarnation of the parent, which cannot be deleted while it has a child. So a listing is
// one `getChildren`, with no read per node. The counter stops at 2^31 - 1 (the server keeps
// the larger of the old and the wrapped-around new value), so from then on every node is
// named `…-n_2147483647`, or with a negative number when creates are pipelined, and
// sequences no longer order anything. A node whose sequence is used up (2^31 - 1 or
// negative) is not in line: its candidate does not lead on it (see CandidateNode).
import { randomUUID } from "node:crypto";
import { BackendError } from "@elector/core";
import type { NodeStat } from "./session.js";

/** Separates a candidate node's GUID from its sequence number. */
export const sequenceMarker = "-n_";

/** The cversion at which the server's counter stops: 2^31 - 1. */
export const saturatedSequence = 2 ** 31 - 1;

/** One candidate node of the line. */
export interface LineEntry {
  /** The node's name, without its parent. */
  readonly name: string;
  /** The server-assigned sequence number: what orders the line. */
  readonly sequence: number;
}

/** The parts of a stat that the line reads. */
export type LineStat = Pick<NodeStat, "czxid">;

/** What the line needs of a session. */
export interface LineReader {
  children(path: string): Promise<string[]>;
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
 * The sequence number of a candidate node's name, or undefined if `name` is not a candidate
 * node's (some other recipe's child).
 */
export function sequenceOf(name: string): number | undefined {
  const at = name.lastIndexOf(sequenceMarker);
  if (at <= 0) return undefined;
  const digits = name.slice(at + sequenceMarker.length);
  // The server formats the int32 counter with Java's %010d: ten digits, or a minus sign and
  // nine or ten digits once it wrapped around.
  return /^(\d{10}|-\d{9,10})$/.test(digits) ? Number(digits) : undefined;
}

/**
 * Whether a node with this sequence may stand in line: not once the counter stopped at
 * 2^31 - 1 or wrapped around, where names no longer order nodes (and candidates that order
 * by name, such as earlier versions of this package, would disagree with us).
 */
export function isUsableSequence(sequence: number): boolean {
  return sequence >= 0 && sequence < saturatedSequence;
}

/** The names among `children` that may stand in line, in no particular order. */
export function candidatesAmong(
  children: readonly string[],
): { readonly name: string; readonly sequence: number }[] {
  return children.flatMap((name) => {
    const sequence = sequenceOf(name);
    return sequence !== undefined && isUsableSequence(sequence) ? [{ name, sequence }] : [];
  });
}

/**
 * The line under `parent`: its candidate nodes whose sequence is usable, lowest sequence
 * (and so lowest czxid) first, from one listing. Children that do not look like candidate
 * nodes are left out.
 */
export async function readLine(session: LineReader, parent: string): Promise<LineEntry[]> {
  return candidatesAmong(await session.children(parent)).sort((a, b) => a.sequence - b.sequence);
}

/**
 * A candidate node's data: UTF-8 JSON `{"id":…,"value":…}`, so that `leader()` and
 * `participants()` need one read per node and other tools can read it too. `"elected":true`
 * is added once its owner was elected on it: see {@link isMarkedElected}.
 */
export function encodeCandidate(data: CandidateData, elected = false): string {
  return JSON.stringify(
    elected
      ? { id: data.id, value: data.value, elected: true }
      : { id: data.id, value: data.value },
  );
}

/** The data of a candidate node, or undefined if it is not ours to read. */
export function decodeCandidate(data: Buffer): CandidateData | undefined {
  const parsed = parseCandidate(data);
  if (parsed === undefined || typeof parsed.id !== "string" || typeof parsed.value !== "string")
    return undefined;
  return { id: parsed.id, value: parsed.value };
}

/**
 * Whether a candidate node's data says that its owner was elected on it. Only a hint for the
 * candidate behind it, to list the line before the node goes rather than after: anyone may
 * write a node's data, so the mark proves nothing, and a listing must confirm it.
 */
export function isMarkedElected(data: Buffer): boolean {
  return parseCandidate(data)?.elected === true;
}

function parseCandidate(
  data: Buffer,
): { readonly id?: unknown; readonly value?: unknown; readonly elected?: unknown } | undefined {
  try {
    const parsed: unknown = JSON.parse(data.toString("utf8"));
    return typeof parsed === "object" && parsed !== null ? parsed : undefined;
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
export function tokenOf(stat: LineStat, path: string): bigint {
  const czxid = stat.czxid;
  if (czxid <= 0n) {
    throw new BackendError(
      `the czxid of ${JSON.stringify(path)} is ${czxid}; it cannot be a fencing token`,
    );
  }
  return czxid;
}
