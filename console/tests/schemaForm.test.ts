import { describe, expect, it } from "vitest";
import { fieldsOf, parseValues } from "../src/lib/schemaForm";

const schema = {
  rated_kw: { type: "number" as const, unit: "kW", min: 0, required: true },
  cycles: { type: "integer" as const, max: 10 },
  curtailable: { type: "boolean" as const, default: true },
  vendor: { type: "string" as const, default: "acme" },
};

describe("form from a parameter schema", () => {
  it("lists required fields first with their defaults", () => {
    const f = fieldsOf(schema);
    expect(f.map((x) => x.name)).toEqual(["rated_kw", "curtailable", "cycles", "vendor"]);
    expect(f.find((x) => x.name === "curtailable")?.initial).toBe(true);
    expect(f.find((x) => x.name === "vendor")?.initial).toBe("acme");
  });
  it("parses values and names each field's error", () => {
    const f = fieldsOf(schema);
    const bad = parseValues(f, { rated_kw: "", cycles: "1.5", curtailable: false, vendor: "" });
    expect(bad.errors["rated_kw"]?.key).toBe("fieldRequired");
    expect(bad.errors["cycles"]?.key).toBe("fieldNumber");
    expect(parseValues(f, { rated_kw: "-1", cycles: "11" }).errors).toMatchObject({
      rated_kw: { key: "fieldMin", params: { min: 0 } },
      cycles: { key: "fieldMax", params: { max: 10 } },
    });
    const ok = parseValues(f, { rated_kw: " 250 ", cycles: "3", curtailable: false, vendor: "x" });
    expect(ok.errors).toEqual({});
    expect(ok.values).toEqual({ rated_kw: 250, cycles: 3, curtailable: false, vendor: "x" });
  });
});
