// Typed reads of `ip -j` / `bridge -j` objects. A missing or mistyped field
// becomes a ProbeOutputError naming the probe and the field, so a changed
// iproute2 format is reported as such instead of crashing with a TypeError.
import { ProbeOutputError, parseJsonArray } from "./probe.js";

export class JsonFields {
  constructor(
    private readonly probe: string,
    private readonly obj: Record<string, unknown>,
  ) {}

  string(key: string): string {
    return this.required(key, this.optString(key));
  }

  optString(key: string): string | undefined {
    return this.typed(key, "string", (v): v is string => typeof v === "string");
  }

  number(key: string): number {
    return this.required(
      key,
      this.typed(key, "number", (v): v is number => typeof v === "number" && Number.isFinite(v)),
    );
  }

  optBoolean(key: string): boolean | undefined {
    return this.typed(key, "boolean", (v): v is boolean => typeof v === "boolean");
  }

  /** absent means empty: iproute2 omits empty flag lists */
  strings(key: string): string[] {
    const list = this.typed(key, "array", isArray) ?? [];
    if (!list.every((v): v is string => typeof v === "string")) this.fail(`"${key}" should hold strings`);
    return list;
  }

  object(key: string): JsonFields {
    return this.required(key, this.optObject(key));
  }

  optObject(key: string): JsonFields | undefined {
    const value = this.typed(key, "object", isRecord);
    return value && new JsonFields(this.probe, value);
  }

  /** absent means empty */
  objects(key: string): JsonFields[] {
    const list = this.typed(key, "array", isArray) ?? [];
    return list.map((item) => {
      if (!isRecord(item)) this.fail(`"${key}" should hold objects`);
      return new JsonFields(this.probe, item);
    });
  }

  private typed<T>(key: string, expected: string, is: (v: unknown) => v is T): T | undefined {
    const value = this.obj[key];
    if (value === undefined) return undefined;
    if (!is(value)) this.fail(`"${key}" should be ${expected === "array" || expected === "object" ? "an" : "a"} ${expected}`);
    return value;
  }

  private required<T>(key: string, value: T | undefined): T {
    if (value === undefined) this.fail(`"${key}" is missing`);
    return value;
  }

  private fail(detail: string): never {
    throw new ProbeOutputError(this.probe, detail, JSON.stringify(this.obj));
  }
}

function isArray(value: unknown): value is unknown[] {
  return Array.isArray(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The JSON array of objects that `ip -j` / `bridge -j` prints. */
export function readJsonObjects(probe: string, stdout: string): JsonFields[] {
  return jsonObjects(probe, parseJsonArray(probe, stdout));
}

/** Each item of an already parsed array as an object's fields. */
export function jsonObjects(probe: string, list: readonly unknown[]): JsonFields[] {
  return list.map((item) => {
    if (!isRecord(item)) throw new ProbeOutputError(probe, "expected an array of objects", JSON.stringify(item) ?? "");
    return new JsonFields(probe, item);
  });
}
