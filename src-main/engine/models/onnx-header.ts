/**
 * Reads what a model folder validation needs from an .onnx file — graph inputs and outputs with
 * their element types and shapes, opset, and the external-data files its weights live in — without
 * loading the weights: large fields are skipped by seeking, so a multi-gigabyte export is checked
 * in milliseconds. Field numbers follow onnx/onnx.proto (ModelProto, GraphProto, ValueInfoProto,
 * TypeProto, TensorShapeProto, TensorProto).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/** TensorProto.DataType names for the element types exports use. */
export const ONNX_DTYPES: Record<number, string> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  16: 'bfloat16',
};

export interface OnnxValueInfo {
  readonly name: string;
  readonly dtype: string;
  /** A number for a fixed dimension, a string for a symbolic one, null when unknown. */
  readonly shape: readonly (number | string | null)[];
}

export interface OnnxHeader {
  readonly irVersion: number;
  readonly opset: number | null;
  readonly inputs: readonly OnnxValueInfo[];
  readonly outputs: readonly OnnxValueInfo[];
  /** External weight files referenced by initializers, with the bytes each must hold at least. */
  readonly externalData: ReadonlyMap<string, number>;
  readonly fileBytes: number;
  readonly initializerDtypes: ReadonlySet<string>;
}

export class OnnxHeaderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxHeaderError';
  }
}

/** Random-access protobuf reader over a file, with a small read-ahead buffer. */
class FileReader {
  private readonly fd: number;
  readonly size: number;
  private buf = Buffer.alloc(0);
  private bufStart = 0;

  constructor(fd: number) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
  }

  private ensure(pos: number, n: number): void {
    if (pos >= this.bufStart && pos + n <= this.bufStart + this.buf.length) return;
    if (pos + n > this.size) throw new OnnxHeaderError('the file ends in the middle of a field (truncated download?)');
    const len = Math.min(Math.max(n, 64 * 1024), this.size - pos);
    const b = Buffer.alloc(len);
    readSync(this.fd, b, 0, len, pos);
    this.buf = b;
    this.bufStart = pos;
  }

  byte(pos: number): number {
    this.ensure(pos, 1);
    return this.buf[pos - this.bufStart]!;
  }

  bytes(pos: number, n: number): Buffer {
    this.ensure(pos, n);
    return this.buf.subarray(pos - this.bufStart, pos - this.bufStart + n);
  }

  /** A varint at pos: [value, next position]. Values above 2^53 lose precision (never needed here). */
  varint(pos: number): [number, number] {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte(pos + i);
      result += (b & 0x7f) * scale;
      if (b < 0x80) return [result, pos + i + 1];
      scale *= 128;
    }
    throw new OnnxHeaderError('malformed varint');
  }
}

interface Field {
  readonly no: number;
  readonly wire: number;
  /** varint value, or the start of a length-delimited payload. */
  readonly value: number;
  readonly length: number;
}

function* fields(r: FileReader, start: number, end: number): Generator<Field> {
  let pos = start;
  while (pos < end) {
    const [key, p1] = r.varint(pos);
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const [v, p2] = r.varint(p1);
      yield { no, wire, value: v, length: 0 };
      pos = p2;
    } else if (wire === 2) {
      const [len, p2] = r.varint(p1);
      if (p2 + len > end) throw new OnnxHeaderError('a field runs past the end of its message (truncated or corrupt file)');
      yield { no, wire, value: p2, length: len };
      pos = p2 + len;
    } else if (wire === 1) {
      pos = p1 + 8;
    } else if (wire === 5) {
      pos = p1 + 4;
    } else {
      throw new OnnxHeaderError(`unsupported protobuf wire type ${wire}: not an ONNX model`);
    }
  }
  if (pos !== end) throw new OnnxHeaderError('message boundaries do not line up (corrupt file)');
}

function str(r: FileReader, f: Field): string {
  return r.bytes(f.value, f.length).toString('utf8');
}

function readValueInfo(r: FileReader, f: Field): OnnxValueInfo {
  let name = '';
  let dtype = 'unknown';
  const shape: (number | string | null)[] = [];
  for (const v of fields(r, f.value, f.value + f.length)) {
    if (v.no === 1 && v.wire === 2) name = str(r, v);
    if (v.no === 2 && v.wire === 2) {
      for (const t of fields(r, v.value, v.value + v.length)) {
        if (t.no !== 1 || t.wire !== 2) continue; // tensor_type
        for (const tt of fields(r, t.value, t.value + t.length)) {
          if (tt.no === 1 && tt.wire === 0) dtype = ONNX_DTYPES[tt.value] ?? `onnx-type-${tt.value}`;
          if (tt.no === 2 && tt.wire === 2) {
            for (const d of fields(r, tt.value, tt.value + tt.length)) {
              if (d.no !== 1 || d.wire !== 2) continue;
              let dim: number | string | null = null;
              for (const dd of fields(r, d.value, d.value + d.length)) {
                if (dd.no === 1 && dd.wire === 0) dim = dd.value;
                if (dd.no === 2 && dd.wire === 2) dim = str(r, dd);
              }
              shape.push(dim);
            }
          }
        }
      }
    }
  }
  return { name, dtype, shape };
}

function readInitializer(r: FileReader, f: Field, external: Map<string, number>, dtypes: Set<string>, names: Set<string>): void {
  let location: string | null = null;
  let offset = 0;
  let length = 0;
  let isExternal = false;
  for (const t of fields(r, f.value, f.value + f.length)) {
    if (t.no === 8 && t.wire === 2) names.add(str(r, t));
    if (t.no === 2 && t.wire === 0) dtypes.add(ONNX_DTYPES[t.value] ?? `onnx-type-${t.value}`);
    if (t.no === 14 && t.wire === 0) isExternal = t.value === 1;
    if (t.no === 13 && t.wire === 2) {
      let key = '';
      let value = '';
      for (const kv of fields(r, t.value, t.value + t.length)) {
        if (kv.no === 1) key = str(r, kv);
        if (kv.no === 2) value = str(r, kv);
      }
      if (key === 'location') location = value;
      if (key === 'offset') offset = Number(value);
      if (key === 'length') length = Number(value);
    }
  }
  if (isExternal && location) external.set(location, Math.max(external.get(location) ?? 0, offset + length));
}

export function readOnnxHeader(path: string): OnnxHeader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new OnnxHeaderError(`cannot open ${path}: ${(e as Error).message}`);
  }
  try {
    const r = new FileReader(fd);
    if (r.size === 0) throw new OnnxHeaderError('the file is empty');
    let irVersion = 0;
    let opset: number | null = null;
    const inputs: OnnxValueInfo[] = [];
    const outputs: OnnxValueInfo[] = [];
    const external = new Map<string, number>();
    const initializerDtypes = new Set<string>();
    const initNames = new Set<string>();
    let sawGraph = false;
    for (const f of fields(r, 0, r.size)) {
      if (f.no === 1 && f.wire === 0) irVersion = f.value;
      if (f.no === 8 && f.wire === 2) {
        let domain = '';
        let version = 0;
        for (const o of fields(r, f.value, f.value + f.length)) {
          if (o.no === 1 && o.wire === 2) domain = str(r, o);
          if (o.no === 2 && o.wire === 0) version = o.value;
        }
        if (domain === '' || domain === 'ai.onnx') opset = version;
      }
      if (f.no === 7 && f.wire === 2) {
        sawGraph = true;
        for (const g of fields(r, f.value, f.value + f.length)) {
          if (g.wire !== 2) continue;
          if (g.no === 11) inputs.push(readValueInfo(r, g));
          else if (g.no === 12) outputs.push(readValueInfo(r, g));
          else if (g.no === 5) readInitializer(r, g, external, initializerDtypes, initNames);
        }
      }
    }
    if (!sawGraph || irVersion === 0) throw new OnnxHeaderError('no ONNX graph in this file: not an ONNX model');
    // Older exporters (IR < 4) list initializers among the graph inputs: those are weights, not inputs.
    return { irVersion, opset, inputs: inputs.filter((i) => !initNames.has(i.name)), outputs, externalData: external, fileBytes: r.size, initializerDtypes };
  } finally {
    closeSync(fd);
  }
}
