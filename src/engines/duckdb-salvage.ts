/**
 * Reading a delivery file record by record, for the files DuckDB rejects as a whole: one malformed record
 * (a `userIdentity` that is a string, a duplicate key, invalid UTF-8, a cut-off end…) fails the whole file
 * there, and every good record in it would be lost with it.
 *
 * The file is decompressed as tolerantly as `gzip -d` is (concatenated members, zero padding, and what a cut or
 * damaged stream still holds), every complete element of each document's `Records` array is found, and each is
 * checked against the run's record type with DuckDB's own rules (`checkRecord`). The usable ones are handed back
 * as their raw bytes, so DuckDB reads them exactly as it would have read them in the original file; every other
 * one is counted with its reason. Only failed files come here, so this favours clarity over speed.
 */
import { isUtf8 } from 'node:buffer';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { constants, createGunzip, gunzip, gunzipSync } from 'node:zlib';
import type { ColumnType, LoadFields, TableField } from '../core/cloudtrail-table.js';

/** What could be recovered from one file. */
export interface SalvagedFile {
  /** The raw bytes of every usable record, in file order. */
  readonly records: readonly Buffer[];
  /**
   * Records that can't be used, counted by reason. A count of 0 marks damage where no record could be counted
   * (the file ends between two records, bytes after the JSON): records after it, if there were any, are unknown.
   */
  readonly dropped: ReadonlyMap<string, number>;
  /** When not a single record is usable: why, in the words the report uses for a skipped file. */
  readonly unreadable?: string;
}

/** The reason for the record that the end of the data cuts in two. */
export const CUT_OFF = 'cut off by the end of the file';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;

/** The most a file may decompress to for reading it record by record (as DuckDB's largest `maximum_object_size`). */
const MAX_SALVAGE_BYTES = 1024 * 1024 * 1024;

const isWhitespace = (c: number | undefined): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

// ---------------------------------------------------------------------------------------------------
// Decompression

interface Inflated {
  readonly data: Buffer;
  /** zlib's complaint, when the stream did not end cleanly; `data` is what came before it. */
  readonly error?: string;
}

/** Up to this size a damaged gzip file is decompressed exactly up to the damage; above it, to within a kilobyte. */
const EXACT_GUNZIP_BYTES = 32 * 1024 * 1024;

/**
 * gunzip that keeps what it can, like `gzip -d`: concatenated members and trailing zero padding are read as
 * usual, a stream cut short yields everything it holds, and damaged data or non-gzip bytes after the last
 * member yield everything decompressed before them.
 */
async function gunzipTolerant(bytes: Buffer): Promise<Inflated> {
  const options = { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: MAX_SALVAGE_BYTES };
  let error: string;
  try {
    return { data: gunzipSync(bytes, options) };
  } catch (failure) {
    error = (failure as Error).message;
  }
  if (bytes.length <= EXACT_GUNZIP_BYTES) {
    // The longest prefix that decompresses without an error holds everything before the damage.
    let good = Buffer.alloc(0);
    let low = 0;
    let high = bytes.length;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      try {
        good = gunzipSync(bytes.subarray(0, middle), options);
        low = middle;
      } catch {
        high = middle;
      }
    }
    return { data: good, error };
  }
  // Streamed in small chunks so that little of what precedes the damage is lost with the failing chunk.
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const gunzip = createGunzip({ ...options, chunkSize: 1024 });
    gunzip.on('data', (chunk: Buffer) => chunks.push(chunk));
    gunzip.on('error', () => resolve({ data: Buffer.concat(chunks), error }));
    gunzip.on('end', () => resolve({ data: Buffer.concat(chunks), error }));
    gunzip.end(bytes);
  });
}

// ---------------------------------------------------------------------------------------------------
// Checking one record the way DuckDB's JSON reader will

/** A record that can't be used, and why. */
class Unusable extends Error {}

type Expected = ColumnType | 'record' | undefined;

function describeExpected(type: ColumnType | 'record'): string {
  return type === 'record' || type.kind === 'struct' || type.kind === 'map' ? 'an object' : 'an array';
}

/** Which JSON values DuckDB refuses where a record type expects an object or array (strings and JSON take anything). */
function refuses(expected: Expected, found: 'object' | 'array' | 'scalar'): boolean {
  if (expected === undefined) return false;
  if (expected === 'record') return found !== 'object';
  switch (expected.kind) {
    case 'struct':
    case 'map':
      return found !== 'object';
    case 'array':
      return found !== 'array';
    default:
      return false;
  }
}

/**
 * A strict JSON parser (RFC 8259, as DuckDB's reader is: no unpaired surrogates, no control characters in strings)
 * that checks a record against the record type as it goes, with DuckDB's rules: a struct must be an object or null,
 * a list an array or null, a map an object or null, and an object read as a struct may not repeat one of the
 * struct's keys. Strings and JSON columns take any value.
 */
class RecordChecker {
  readonly #record: ColumnType;
  #text = '';
  #at = 0;

  constructor(fields: LoadFields) {
    this.#record = { kind: 'struct', fields };
  }

  /** Why the record (valid UTF-8 text) can't be loaded, or undefined when DuckDB will load it. */
  check(text: string): string | undefined {
    // Most records of a damaged file are fine: Node's own parser says so much faster than this one.
    if (fitsAsParsed(text, this.#record)) return undefined;
    this.#text = text;
    this.#at = 0;
    try {
      this.#whitespace();
      this.#value('record', '');
      this.#whitespace();
      if (this.#at < text.length) this.#syntax('unexpected text after the record');
      return undefined;
    } catch (error) {
      if (error instanceof Unusable) return error.message;
      if (error instanceof RangeError) return 'not valid JSON (nested too deeply to read)';
      throw error;
    }
  }

  #syntax(detail: string): never {
    throw new Unusable(`not valid JSON (${detail})`);
  }

  #mismatch(expected: ColumnType | 'record', path: string, found: string): never {
    if (expected === 'record') throw new Unusable(`not an object (found ${found})`);
    throw new Unusable(`${path}: expected ${describeExpected(expected)}, found ${found}`);
  }

  #whitespace(): void {
    while (isWhitespace(this.#text.charCodeAt(this.#at))) this.#at++;
  }

  #expect(char: string): void {
    this.#whitespace();
    if (this.#text[this.#at] !== char) this.#syntax(`expected "${char}"`);
    this.#at++;
  }

  #value(expected: Expected, path: string): void {
    const c = this.#text[this.#at];
    if (c === '{') {
      if (refuses(expected, 'object')) this.#mismatch(expected!, path, 'an object');
      this.#object(expected, path);
    } else if (c === '[') {
      if (refuses(expected, 'array')) this.#mismatch(expected!, path, 'an array');
      this.#array(expected !== undefined && expected !== 'record' && expected.kind === 'array' ? expected.of : undefined, path);
    } else if (c === '"') {
      this.#string();
      if (refuses(expected, 'scalar')) this.#mismatch(expected!, path, 'a string');
    } else if (c === 'n') {
      this.#literal('null');
    } else if (c === 't' || c === 'f') {
      this.#literal(c === 't' ? 'true' : 'false');
      if (refuses(expected, 'scalar')) this.#mismatch(expected!, path, 'a boolean');
    } else {
      this.#number();
      if (refuses(expected, 'scalar')) this.#mismatch(expected!, path, 'a number');
    }
  }

  #object(expected: Expected, path: string): void {
    const struct = expected === 'record' ? this.#record : expected;
    const fields = struct?.kind === 'struct' ? new Map(struct.fields.map((f): [string, TableField] => [f.key, f])) : undefined;
    const seen = new Set<string>();
    this.#at++;
    this.#whitespace();
    if (this.#text[this.#at] === '}') {
      this.#at++;
      return;
    }
    for (;;) {
      this.#whitespace();
      if (this.#text[this.#at] !== '"') this.#syntax('expected a key');
      const key = this.#string();
      const keyPath = path ? `${path}.${key}` : key;
      this.#expect(':');
      this.#whitespace();
      const field = fields?.get(key);
      if (field) {
        if (seen.has(key)) throw new Unusable(`duplicate key ${keyPath}`);
        seen.add(key);
        this.#value(field.type, keyPath);
      } else {
        this.#value(struct?.kind === 'map' ? struct.of : undefined, keyPath);
      }
      this.#whitespace();
      const next = this.#text[this.#at++];
      if (next === '}') return;
      if (next !== ',') this.#syntax('expected "," or "}"');
    }
  }

  #array(element: ColumnType | undefined, path: string): void {
    this.#at++;
    this.#whitespace();
    if (this.#text[this.#at] === ']') {
      this.#at++;
      return;
    }
    for (;;) {
      this.#whitespace();
      this.#value(element, `${path}[]`);
      this.#whitespace();
      const next = this.#text[this.#at++];
      if (next === ']') return;
      if (next !== ',') this.#syntax('expected "," or "]"');
    }
  }

  #string(): string {
    const text = this.#text;
    let out = '';
    let from = ++this.#at;
    for (;;) {
      const c = text.charCodeAt(this.#at);
      if (Number.isNaN(c)) this.#syntax('unterminated string');
      if (c === QUOTE) {
        out += text.slice(from, this.#at++);
        return out;
      }
      if (c < 0x20) this.#syntax('control character in a string');
      if (c === BACKSLASH) {
        out += text.slice(from, this.#at);
        out += this.#escape();
        from = this.#at;
      } else {
        this.#at++;
      }
    }
  }

  /** One escape sequence at a backslash; surrogates must come in pairs. */
  #escape(): string {
    const text = this.#text;
    const c = text[this.#at + 1];
    this.#at += 2;
    const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
    if (c !== undefined && c in simple) return simple[c]!;
    if (c !== 'u') this.#syntax('bad escape in a string');
    const unit = this.#hex4();
    if (unit >= 0xdc00 && unit <= 0xdfff) this.#syntax('unpaired surrogate in a string');
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    if (text[this.#at] !== '\\' || text[this.#at + 1] !== 'u') this.#syntax('unpaired surrogate in a string');
    this.#at += 2;
    const low = this.#hex4();
    if (low < 0xdc00 || low > 0xdfff) this.#syntax('unpaired surrogate in a string');
    return String.fromCharCode(unit, low);
  }

  #hex4(): number {
    const hex = this.#text.slice(this.#at, this.#at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.#syntax('bad escape in a string');
    this.#at += 4;
    return parseInt(hex, 16);
  }

  #literal(word: string): void {
    if (!this.#text.startsWith(word, this.#at)) this.#syntax('unexpected character');
    this.#at += word.length;
  }

  #number(): void {
    const number = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
    number.lastIndex = this.#at;
    if (!number.test(this.#text)) this.#syntax('unexpected character');
    this.#at = number.lastIndex;
  }
}

// ---------------------------------------------------------------------------------------------------
// Finding the records in the (possibly damaged) documents

const CUT = -1;

/** The index after a string starting at `start` (its opening quote), or CUT. */
function stringEnd(data: Buffer, start: number): number {
  for (let i = start + 1; i < data.length; i++) {
    const c = data[i];
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i + 1;
  }
  return CUT;
}

/**
 * The index after the JSON value starting at `start`, found by its brackets and strings alone (the record checker
 * reads it properly): CUT when the data ends first, or `{ broken }` at a bracket that closes the wrong thing.
 */
function valueEnd(data: Buffer, start: number): number | { broken: number } {
  const first = data[start];
  if (first === QUOTE) return stringEnd(data, start);
  if (first !== LBRACE && first !== LBRACKET) {
    let i = start;
    while (i < data.length && !isWhitespace(data[i]) && data[i] !== COMMA && data[i] !== RBRACKET && data[i] !== RBRACE) i++;
    // A number that runs into the end of the data may have lost digits.
    return i === data.length ? CUT : i;
  }
  const closers: number[] = [];
  for (let i = start; i < data.length; i++) {
    const c = data[i]!;
    if (c === QUOTE) {
      const end = stringEnd(data, i);
      if (end === CUT) return CUT;
      i = end - 1;
    } else if (c === LBRACE) closers.push(RBRACE);
    else if (c === LBRACKET) closers.push(RBRACKET);
    else if (c === RBRACE || c === RBRACKET) {
      if (closers.pop() !== c) return { broken: i };
      if (closers.length === 0) return i + 1;
    }
  }
  return CUT;
}

/** Where and how the data stopped making sense. */
type Damage =
  { readonly kind: 'cut'; readonly inRecord: boolean } | { readonly kind: 'broken'; readonly at: number; readonly detail: string; readonly inRecord: boolean };

interface Scan {
  readonly records: Buffer[];
  readonly dropped: Map<string, number>;
  /** A `Records` array was found (complete or not). */
  readonly hasRecords: boolean;
  readonly damage?: Damage;
  /** Bytes after the last complete document that are neither whitespace nor zero padding. */
  readonly trailing: number;
}

/** Walks the documents of `data` (one, or several back to back), collecting the elements of every `Records` array. */
function scanDocuments(data: Buffer, checker: RecordChecker): Scan {
  const records: Buffer[] = [];
  const dropped = new Map<string, number>();
  const drop = (reason: string, count = 1) => dropped.set(reason, (dropped.get(reason) ?? 0) + count);
  let hasRecords = false;
  let at = data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf ? 3 : 0;
  const skip = (padding = false) => {
    while (isWhitespace(data[at]) || (padding && data[at] === 0)) at++;
  };
  const result = (damage?: Damage, trailing = 0): Scan => {
    if (damage?.kind === 'cut') drop(CUT_OFF, damage.inRecord ? 1 : 0);
    if (damage?.kind === 'broken')
      drop(`not valid JSON at byte ${damage.at} (${damage.detail}): the rest of the file could not be read`, damage.inRecord ? 1 : 0);
    return { records, dropped, hasRecords, damage, trailing };
  };

  /** The elements of a `Records` array whose `[` is at `at`; returns damage, if any. */
  const elements = (): Damage | undefined => {
    at++;
    skip();
    if (data[at] === RBRACKET) {
      at++;
      return undefined;
    }
    for (;;) {
      skip();
      if (at >= data.length) return { kind: 'cut', inRecord: true };
      const start = at;
      const end = valueEnd(data, start);
      if (end === CUT) return { kind: 'cut', inRecord: true };
      if (typeof end !== 'number') return { kind: 'broken', at: end.broken, detail: 'a bracket closes the wrong thing', inRecord: true };
      const raw = data.subarray(start, end);
      const reason = isUtf8(raw) ? checker.check(raw.toString('utf8')) : 'invalid UTF-8';
      if (reason === undefined) records.push(raw);
      else drop(reason);
      at = end;
      skip();
      if (at >= data.length) return { kind: 'cut', inRecord: false };
      const next = data[at++];
      if (next === RBRACKET) return undefined;
      if (next !== COMMA) return { kind: 'broken', at: at - 1, detail: 'expected "," or "]" after a record', inRecord: false };
    }
  };

  for (let documents = 0; ; documents++) {
    skip(documents > 0);
    if (at >= data.length) return result();
    if (data[at] !== LBRACE) {
      // Text after a complete document is ignored (and said so); text instead of one is not JSON.
      if (documents > 0) return result(undefined, data.length - at);
      return result({ kind: 'broken', at, detail: 'expected a JSON object', inRecord: false });
    }
    at++;
    skip();
    if (data[at] === RBRACE) {
      at++;
      continue;
    }
    for (;;) {
      skip();
      if (at >= data.length) return result({ kind: 'cut', inRecord: false });
      if (data[at] !== QUOTE) return result({ kind: 'broken', at, detail: 'expected a key', inRecord: false });
      const keyEnd = stringEnd(data, at);
      if (keyEnd === CUT) return result({ kind: 'cut', inRecord: false });
      let key: unknown;
      try {
        key = JSON.parse(data.toString('utf8', at, keyEnd));
      } catch {
        return result({ kind: 'broken', at, detail: 'a key that is not a valid string', inRecord: false });
      }
      at = keyEnd;
      skip();
      if (at >= data.length) return result({ kind: 'cut', inRecord: false });
      if (data[at++] !== COLON) return result({ kind: 'broken', at: at - 1, detail: 'expected ":"', inRecord: false });
      skip();
      if (at >= data.length) return result({ kind: 'cut', inRecord: false });
      if (key === 'Records' && data[at] === LBRACKET) {
        hasRecords = true;
        const damage = elements();
        if (damage) return result(damage);
      } else {
        const end = valueEnd(data, at);
        if (end === CUT) return result({ kind: 'cut', inRecord: false });
        if (typeof end !== 'number') return result({ kind: 'broken', at: end.broken, detail: 'a bracket closes the wrong thing', inRecord: false });
        at = end;
      }
      skip();
      if (at >= data.length) return result({ kind: 'cut', inRecord: false });
      const next = data[at++];
      if (next === RBRACE) break;
      if (next !== COMMA) return result({ kind: 'broken', at: at - 1, detail: 'expected "," or "}"', inRecord: false });
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// One file

/** A short list of what was dropped, for a file that yields nothing: `2 × userIdentity: expected an object, …`. */
function summarise(dropped: ReadonlyMap<string, number>): string {
  return [...dropped]
    .filter(([, count]) => count > 0)
    .map(([reason, count]) => `${count} × ${reason}`)
    .join('; ');
}

/**
 * Recovers every usable record of a delivery file's bytes. `gzipName`: the file is named `.gz` (its bytes are
 * gunzipped whenever they start like gzip, whatever the name).
 */
export async function salvageRecords(bytes: Buffer, gzipName: boolean, fields: LoadFields): Promise<SalvagedFile> {
  const gzipped = bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
  const inflated: Inflated = gzipped ? await gunzipTolerant(bytes) : { data: bytes };
  const after = gzipped ? ' after decompression' : '';
  const scan = scanDocuments(inflated.data, new RecordChecker(fields));
  const dropped = new Map(scan.dropped);

  // Say what the damage was: where the data ends early, why; bytes past the end, that they were ignored.
  const cut = dropped.get(CUT_OFF);
  if (cut !== undefined && inflated.error) {
    dropped.delete(CUT_OFF);
    dropped.set(`cut off where the compressed data is damaged (${inflated.error})`, cut);
  }
  if (scan.damage === undefined && inflated.error) {
    const checksum = /incorrect (data|length) check/.test(inflated.error);
    dropped.set(
      checksum
        ? `the gzip checksum does not match (${inflated.error}): some records may be damaged`
        : `data after the end of the gzip stream is not gzip (${inflated.error}): ignored`,
      0,
    );
  }
  if (scan.trailing > 0) dropped.set(`${scan.trailing} byte(s) after the end of the JSON document${gzipped ? ' (decompressed)' : ''}: ignored`, 0);

  if (scan.records.length > 0) return { records: scan.records, dropped };

  const where = (at: number, detail: string) => `not valid JSON at byte ${at}${after} (${detail}): the file is truncated or corrupt`;
  const cutDetail = inflated.error ? `the compressed data is damaged: ${inflated.error}` : CUT_OFF;
  const lost = summarise(dropped);
  let unreadable: string;
  if (gzipped && inflated.data.length === 0 && !inflated.error) {
    unreadable = 'no JSON document could be read (empty or truncated file)';
  } else if ((gzipped && inflated.data.length === 0) || (gzipName && !gzipped && !scan.hasRecords)) {
    unreadable = 'not a valid gzip file (corrupt, or not gzip-compressed despite its .gz name)';
  } else if (lost !== '') {
    unreadable = `no usable record: ${lost}`;
  } else if (scan.damage?.kind === 'broken') {
    unreadable = where(scan.damage.at, scan.damage.detail);
  } else if (scan.damage?.kind === 'cut') {
    unreadable = where(inflated.data.length, scan.hasRecords ? `${cutDetail}, before its first complete record` : cutDetail);
  } else {
    unreadable = scan.hasRecords ? 'no usable record (the Records array is empty)' : 'JSON without a "Records" array (expected {"Records": [...]})';
  }
  return { records: [], dropped, unreadable };
}

// ---------------------------------------------------------------------------------------------------
// A quick check of whole files

/** What `precheck` makes of a file. */
export type Precheck = 'readable' | 'damaged' | 'large';

/** Whether a parsed JSON value fits a column type the way DuckDB's reader requires (see `refuses`). */
function fits(value: unknown, type: ColumnType | 'record'): boolean {
  if (value === null || value === undefined) return true;
  const kind = type === 'record' ? 'struct' : type.kind;
  if (kind === 'string' || kind === 'json') return true;
  if (kind === 'array') return Array.isArray(value) && value.every((element) => fits(element, (type as { of: ColumnType }).of));
  if (typeof value !== 'object' || Array.isArray(value)) return false;
  const object = value as Record<string, unknown>;
  if (kind === 'map') return Object.values(object).every((v) => fits(v, (type as { of: ColumnType }).of));
  return (type as { fields: readonly TableField[] }).fields.every((field) => fits(object[field.key], field.type));
}

/** The keys of every object in a parsed JSON value. */
function keyCount(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  if (Array.isArray(value)) return value.reduce((n: number, element) => n + keyCount(element), 0);
  let count = 0;
  for (const key in value) count += 1 + keyCount((value as Record<string, unknown>)[key]);
  return count;
}

/**
 * Colons outside strings: the number of keys a JSON text holds, duplicates included; -1 when a string holds a
 * surrogate escape (`\uD800`–`\uDFFF`), which JSON.parse takes unpaired and DuckDB does not: look closer then.
 */
function keysInText(text: string): number {
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) {
        if (text.charCodeAt(i + 1) === 0x75 && (text.charCodeAt(i + 2) | 0x20) === 0x64 && /[89a-fA-F]/.test(text[i + 3] ?? '')) return -1;
        i++;
      } else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === COLON) keys++;
  }
  return keys;
}

/**
 * Whether a record's text (valid UTF-8) surely loads, judged with JSON.parse: valid JSON, no unpaired-surrogate
 * escape (JSON.parse takes them, DuckDB does not), no duplicate key (JSON.parse keeps the last: the text then holds
 * more keys than the value), null or an object of the record type's shape. False means "look closer", not "bad".
 */
function fitsAsParsed(text: string, record: ColumnType): boolean {
  const keys = keysInText(text);
  if (keys < 0) return false;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return false;
  }
  return (value === null || (typeof value === 'object' && !Array.isArray(value))) && keys === keyCount(value) && fits(value, record);
}

const gunzipAsync = promisify(gunzip);

/**
 * A quick guess, with Node's native gunzip and JSON.parse, at whether DuckDB reads a delivery file whole: where a
 * batch holds many bad files, checking every file so costs far less than one failed read statement per bad file.
 * A doubt ("damaged") only sends the file to `salvageRecords`, which decides; a file wrongly found readable fails
 * its load statement, which then finds it. "large": above `maxBytes` decompressed (DuckDB's `maximum_object_size`).
 * Reading and gunzip run off the main thread, so several files can be in flight while one is parsed.
 */
export async function precheck(file: string, record: LoadFields, maxBytes: number): Promise<Precheck> {
  const bytes = await readFile(file);
  let data = bytes;
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      data = await gunzipAsync(bytes, { maxOutputLength: maxBytes + 1 });
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' ? 'large' : 'damaged';
    }
    // Zero padding and further members, which gunzip reads, show in the trailer's size; DuckDB may not read them.
    if (bytes.length < 8 || bytes.readUInt32LE(bytes.length - 4) !== data.length % 2 ** 32) return 'damaged';
  }
  if (data.length > maxBytes) return 'large';
  if (!isUtf8(data)) return 'damaged';
  const text = data.toString('utf8');
  const keys = keysInText(text);
  // JSON.parse takes an unpaired surrogate escape, DuckDB does not.
  if (keys < 0) return 'damaged';
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return 'damaged';
  }
  // JSON.parse keeps the last of duplicate keys: then the text holds more keys than the value.
  if (keys !== keyCount(document)) return 'damaged';
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return 'damaged';
  const records = (document as Record<string, unknown>).Records;
  if (records === undefined || records === null) return 'readable';
  const type: ColumnType = { kind: 'struct', fields: record };
  return Array.isArray(records) && records.every((r) => fits(r, type)) ? 'readable' : 'damaged';
}
