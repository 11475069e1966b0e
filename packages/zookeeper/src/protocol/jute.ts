// Jute, ZooKeeper's wire encoding: big-endian integers, strings and buffers prefixed by an
// int32 length (-1 for null), vectors prefixed by an int32 count, booleans as one byte.

/** Builds one request body; {@link frame} adds the length prefix. */
export class JuteWriter {
  #buffer = Buffer.allocUnsafe(256);
  #length = 0;

  int(value: number): this {
    this.#reserve(4).writeInt32BE(value, this.#length);
    this.#length += 4;
    return this;
  }

  long(value: bigint): this {
    this.#reserve(8).writeBigInt64BE(BigInt.asIntN(64, value), this.#length);
    this.#length += 8;
    return this;
  }

  bool(value: boolean): this {
    this.#reserve(1).writeUInt8(value ? 1 : 0, this.#length);
    this.#length += 1;
    return this;
  }

  /** A byte buffer; null is written as length -1, as jute writes a null array. */
  buffer(value: Buffer | null): this {
    if (value === null) return this.int(-1);
    this.int(value.length);
    value.copy(this.#reserve(value.length), this.#length);
    this.#length += value.length;
    return this;
  }

  string(value: string): this {
    return this.buffer(Buffer.from(value, "utf8"));
  }

  strings(values: readonly string[]): this {
    this.int(values.length);
    for (const value of values) this.string(value);
    return this;
  }

  /** The bytes written, prefixed by their length: one packet of the wire protocol. */
  frame(): Buffer {
    const packet = Buffer.allocUnsafe(4 + this.#length);
    packet.writeInt32BE(this.#length, 0);
    this.#buffer.copy(packet, 4, 0, this.#length);
    return packet;
  }

  #reserve(bytes: number): Buffer {
    if (this.#length + bytes > this.#buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.#buffer.length * 2, this.#length + bytes));
      this.#buffer.copy(grown, 0, 0, this.#length);
      this.#buffer = grown;
    }
    return this.#buffer;
  }
}

/** A malformed packet: the connection that carried it cannot be trusted any more. */
export class JuteError extends Error {
  override readonly name = "JuteError";
}

/** Reads one reply body; every read checks that the packet holds the bytes it claims. */
export class JuteReader {
  readonly #buffer: Buffer;
  #offset = 0;

  constructor(buffer: Buffer) {
    this.#buffer = buffer;
  }

  /** Bytes not read yet. */
  get remaining(): number {
    return this.#buffer.length - this.#offset;
  }

  int(): number {
    this.#need(4);
    const value = this.#buffer.readInt32BE(this.#offset);
    this.#offset += 4;
    return value;
  }

  long(): bigint {
    this.#need(8);
    const value = this.#buffer.readBigInt64BE(this.#offset);
    this.#offset += 8;
    return value;
  }

  bool(): boolean {
    this.#need(1);
    const value = this.#buffer.readUInt8(this.#offset) !== 0;
    this.#offset += 1;
    return value;
  }

  /** A byte buffer (a copy, so that the packet can be released); null for length -1. */
  buffer(): Buffer | null {
    const length = this.int();
    if (length === -1) return null;
    if (length < 0) throw new JuteError(`a buffer of negative length ${length}`);
    this.#need(length);
    const value = Buffer.from(this.#buffer.subarray(this.#offset, this.#offset + length));
    this.#offset += length;
    return value;
  }

  string(): string {
    const length = this.int();
    if (length === -1) return "";
    if (length < 0) throw new JuteError(`a string of negative length ${length}`);
    this.#need(length);
    const value = this.#buffer.toString("utf8", this.#offset, this.#offset + length);
    this.#offset += length;
    return value;
  }

  strings(): string[] {
    const count = this.int();
    if (count === -1) return [];
    // Every string takes at least its 4-byte length: a larger count is a corrupt packet.
    if (count < 0 || count * 4 > this.remaining) {
      throw new JuteError(`a vector of ${count} strings in ${this.remaining} bytes`);
    }
    const values: string[] = [];
    for (let index = 0; index < count; index += 1) values.push(this.string());
    return values;
  }

  #need(bytes: number): void {
    if (this.#offset + bytes > this.#buffer.length) {
      throw new JuteError(
        `the packet ends after ${this.#buffer.length} bytes, ${bytes} more were expected at ${this.#offset}`,
      );
    }
  }
}

/**
 * Splits a byte stream into packets (int32 length + body). Chunks are kept as they come and
 * joined once per packet, so a large reply that arrives in many chunks is copied once.
 */
export class PacketReader {
  readonly #maxPacketBytes: number;
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  #expected = -1;

  /** @param maxPacketBytes a longer length prefix is taken for a corrupt stream. */
  constructor(maxPacketBytes: number) {
    this.#maxPacketBytes = maxPacketBytes;
  }

  /** Bytes received that do not yet make a whole packet. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * @returns every packet that `chunk` completes, in order.
   * @throws JuteError when a length prefix is negative or too large.
   */
  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    const packets: Buffer[] = [];
    for (;;) {
      if (this.#expected === -1) {
        if (this.#buffered < 4) break;
        const length = this.#take(4).readInt32BE(0);
        if (length < 0 || length > this.#maxPacketBytes) {
          throw new JuteError(
            `a packet length of ${length} bytes, outside 0 to ${this.#maxPacketBytes}`,
          );
        }
        this.#expected = length;
      }
      if (this.#buffered < this.#expected) break;
      packets.push(this.#take(this.#expected));
      this.#expected = -1;
    }
    return packets;
  }

  #take(bytes: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    const whole = all as Buffer;
    this.#chunks.length = 0;
    if (whole.length > bytes) this.#chunks.push(whole.subarray(bytes));
    this.#buffered -= bytes;
    return whole.subarray(0, bytes);
  }
}
