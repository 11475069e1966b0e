// The election's line as znodes: naming, order, data and token.
//
// Layout: election `e` under root path `/elector` is the persistent node `/elector/e`; each
// candidate is an ephemeral-sequential child `<guid>-n_<sequence>`, for example
// `/elector/e/0f6c…-9a1e-n_0000000042`. The GUID is fresh per campaign; the sequence is the
// server's counter of the parent's child changes (its cversion, an int32).
//
// The line is ordered by czxid, the token, not by sequence: the cversion stops at 2^31 - 1
// (the server keeps the larger of the old and the wrapped-around new value), so from then on
// every node is named `…-n_2147483647`, or with a negative number when creates are pipelined,
// and sequences no longer order anything. A node whose sequence is used up (2^31 - 1 or
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
  /** The server-assigned sequence number. */
  readonly sequence: number;
  /** The node's czxid: what orders the line, and the node's fencing token. */
  readonly czxid: bigint;
}

/** The parts of a stat that the line reads. */
export type LineStat = Pick<NodeStat, "czxid">;

/** What the line needs of a session. */
export interface LineReader {
  children(path: string): Promise<string[]>;
  exists(path: string): Promise<LineStat | undefined>;
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
 * The line under `parent`: its candidate nodes whose sequence is usable, lowest czxid first.
 * One `exists` per node, sent together. Children that do not look like candidate nodes, and
 * nodes deleted meanwhile, are left out.
 *
 * @throws BackendError if a czxid is beyond what the client reads exactly (see {@link tokenOf}).
 */
export async function readLine(session: LineReader, parent: string): Promise<LineEntry[]> {
  const read = await Promise.all(
    candidatesAmong(await session.children(parent)).map(async ({ name, sequence }) => {
      const path = `${parent}/${name}`;
      const stat = await session.exists(path);
      return stat === undefined ? [] : [{ name, sequence, czxid: tokenOf(stat, path) }];
    }),
  );
  return read.flat().sort((a, b) => compareZxids(a.czxid, b.czxid));
}

/** Orders zxids; the one place that compares them. */
export function compareZxids(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
export function tokenOf(stat: LineStat, path: string): bigint {
  const czxid = stat.czxid;
  if (czxid <= 0n) {
    throw new BackendError(
      `the czxid of ${JSON.stringify(path)} is ${czxid}; it cannot be a fencing token`,
    );
  }
  return czxid;
}
