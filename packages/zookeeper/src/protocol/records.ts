// The records this client sends and reads, on top of jute.
import { codes, createModes, opCodes, perms } from "./codes.js";
import { JuteError, type JuteReader, type JuteWriter } from "./jute.js";

/** A znode's `Stat`, zxids and the owner's session id as bigint, as the server sends them. */
export interface Stat {
  readonly czxid: bigint;
  readonly mzxid: bigint;
  readonly ctime: bigint;
  readonly mtime: bigint;
  readonly version: number;
  readonly cversion: number;
  readonly aversion: number;
  /** The owning session's id; 0n for a persistent node. */
  readonly ephemeralOwner: bigint;
  readonly dataLength: number;
  readonly numChildren: number;
  readonly pzxid: bigint;
}

export function readStat(reader: JuteReader): Stat {
  return {
    czxid: reader.long(),
    mzxid: reader.long(),
    ctime: reader.long(),
    mtime: reader.long(),
    version: reader.int(),
    cversion: reader.int(),
    aversion: reader.int(),
    ephemeralOwner: reader.long(),
    dataLength: reader.int(),
    numChildren: reader.int(),
    pzxid: reader.long(),
  };
}

/** One ACL entry: `perms` bits for the identity `id` of `scheme`. */
export interface Acl {
  readonly perms: number;
  readonly scheme: string;
  readonly id: string;
}

/** Anyone may do anything (`ZooDefs.Ids.OPEN_ACL_UNSAFE`). */
export const openAcl: readonly Acl[] = Object.freeze([
  { perms: perms.all, scheme: "world", id: "anyone" },
]);

/** Only the identities the session authenticated as (`ZooDefs.Ids.CREATOR_ALL_ACL`). */
export const creatorAcl: readonly Acl[] = Object.freeze([
  { perms: perms.all, scheme: "auth", id: "" },
]);

export type CreateMode = keyof typeof createModes;

/** One operation of a `multi`. */
export type Op =
  | {
      readonly type: "create";
      readonly path: string;
      readonly data: Buffer;
      readonly mode?: CreateMode;
      readonly acl?: readonly Acl[];
    }
  | { readonly type: "delete"; readonly path: string; readonly version: number }
  | {
      readonly type: "setData";
      readonly path: string;
      readonly data: Buffer;
      readonly version: number;
    }
  | {
      /** Passes if the node exists and, unless `version` is -1, has that version. */
      readonly type: "check";
      readonly path: string;
      readonly version: number;
    };

/** One operation's result in a `multi` that was applied. */
export type OpResult =
  | { readonly type: "create"; readonly path: string }
  | { readonly type: "delete" }
  | { readonly type: "setData"; readonly stat: Stat }
  | { readonly type: "check" };

export function writeAcl(writer: JuteWriter, acl: readonly Acl[]): void {
  writer.int(acl.length);
  for (const entry of acl) writer.int(entry.perms).string(entry.scheme).string(entry.id);
}

/** The body of a create request (also a multi's create op). */
export function writeCreate(
  writer: JuteWriter,
  path: string,
  data: Buffer,
  acl: readonly Acl[],
  mode: CreateMode,
): void {
  writer.string(path).buffer(data);
  writeAcl(writer, acl);
  writer.int(createModes[mode]);
}

/** A multi's body: each op behind its header, then the header that ends the list. */
export function writeMulti(
  writer: JuteWriter,
  ops: readonly Op[],
  serverPath: (path: string) => string,
): void {
  for (const op of ops) {
    const path = serverPath(op.path);
    switch (op.type) {
      case "create":
        writer.int(opCodes.create).bool(false).int(-1);
        writeCreate(writer, path, op.data, op.acl ?? openAcl, op.mode ?? "persistent");
        break;
      case "delete":
        writer.int(opCodes.delete).bool(false).int(-1);
        writer.string(path).int(op.version);
        break;
      case "setData":
        writer.int(opCodes.setData).bool(false).int(-1);
        writer.string(path).buffer(op.data).int(op.version);
        break;
      case "check":
        // Version -1 means "any version": sent as is, never replaced by 0.
        writer.int(opCodes.check).bool(false).int(-1);
        writer.string(path).int(op.version);
        break;
    }
  }
  writer.int(opCodes.error).bool(true).int(-1);
}

/** A multi's results; `failed` names the op that refused, and why, when none was applied. */
export type MultiOutcome =
  | { readonly ok: true; readonly results: OpResult[] }
  | { readonly ok: false; readonly index: number; readonly code: number };

export function readMulti(reader: JuteReader, clientPath: (path: string) => string): MultiOutcome {
  const results: OpResult[] = [];
  let failure: { index: number; code: number } | undefined;
  for (let index = 0; ; index += 1) {
    const type = reader.int();
    const done = reader.bool();
    reader.int();
    if (done) break;
    switch (type) {
      case opCodes.create:
        results.push({ type: "create", path: clientPath(reader.string()) });
        break;
      case opCodes.create2:
      case opCodes.createContainer:
        results.push({ type: "create", path: clientPath(reader.string()) });
        readStat(reader);
        break;
      case opCodes.delete:
        results.push({ type: "delete" });
        break;
      case opCodes.setData:
        results.push({ type: "setData", stat: readStat(reader) });
        break;
      case opCodes.check:
        results.push({ type: "check" });
        break;
      case opCodes.error: {
        const code = reader.int();
        // The ops before the one that failed report ok, those after it "runtime
        // inconsistency": the first other code is the refusal.
        if (failure === undefined && code !== codes.ok && code !== codes.runtimeInconsistency) {
          failure = { index, code };
        }
        break;
      }
      default:
        throw new JuteError(`a multi result of unknown type ${type}`);
    }
  }
  return failure === undefined ? { ok: true, results } : { ok: false, ...failure };
}
