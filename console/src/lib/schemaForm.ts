// A form generated from a template's parameter schema (hub ParamSpec), pure.

export type ParamType = "number" | "integer" | "boolean" | "string";
export interface ParamSpec {
  type?: ParamType;
  unit?: string;
  min?: number | null;
  max?: number | null;
  default?: number | boolean | string | null;
  required?: boolean;
  description?: string;
}
export interface Field {
  name: string;
  type: ParamType;
  unit: string;
  min: number | null;
  max: number | null;
  required: boolean;
  description: string;
  initial: string | boolean;
}
export type FieldError = { key: "fieldRequired" | "fieldMin" | "fieldMax" | "fieldNumber"; params: Record<string, string | number> };
export type ParamValue = number | boolean | string;

export function fieldsOf(schema: Record<string, ParamSpec>): Field[] {
  return Object.entries(schema)
    .map(([name, s]) => {
      const type = s.type ?? "number";
      const d = s.default;
      return {
        name,
        type,
        unit: s.unit ?? "",
        min: s.min ?? null,
        max: s.max ?? null,
        required: Boolean(s.required),
        description: s.description ?? "",
        initial: type === "boolean" ? Boolean(d ?? false) : d === null || d === undefined ? "" : String(d),
      };
    })
    .sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name));
}

/** Parsed values (blank optional fields left out) and the errors, per field. */
export function parseValues(
  fields: readonly Field[],
  raw: Record<string, string | boolean>,
): { values: Record<string, ParamValue>; errors: Record<string, FieldError> } {
  const values: Record<string, ParamValue> = {};
  const errors: Record<string, FieldError> = {};
  for (const f of fields) {
    const v = raw[f.name];
    if (f.type === "boolean") {
      values[f.name] = Boolean(v);
      continue;
    }
    const text = typeof v === "string" ? v.trim() : "";
    if (text === "") {
      if (f.required) errors[f.name] = { key: "fieldRequired", params: { field: f.name } };
      continue;
    }
    if (f.type === "string") {
      values[f.name] = text;
      continue;
    }
    const n = Number(text);
    if (!Number.isFinite(n) || (f.type === "integer" && !Number.isInteger(n))) {
      errors[f.name] = { key: "fieldNumber", params: { field: f.name } };
      continue;
    }
    if (f.min !== null && n < f.min) {
      errors[f.name] = { key: "fieldMin", params: { field: f.name, min: f.min } };
      continue;
    }
    if (f.max !== null && n > f.max) {
      errors[f.name] = { key: "fieldMax", params: { field: f.name, max: f.max } };
      continue;
    }
    values[f.name] = n;
  }
  return { values, errors };
}
