import { describe, expect, it } from "vitest";
import { layout, PLAN, statusColour } from "../src/lib/layout";
import { pushBounded } from "../src/lib/series";

describe("site plan layout", () => {
  it("keeps given positions (clamped) and grids the rest below the plan", () => {
    const { placed, height } = layout([
      { id: "a", location_info: { x: 10, y: 20, zone: "storage" } },
      { id: "b", location_info: { x: 9999, y: -5 } },
      { id: "c", location_info: {} },
      { id: "d", location_info: { x: "1", y: 2 } },
    ]);
    expect(placed[0]).toEqual({ id: "a", x: 10, y: 20, zone: "storage", placed: true });
    expect(placed[1]).toMatchObject({ x: PLAN.width, y: 0, placed: true });
    expect(placed[2]?.placed).toBe(false);
    expect(placed[3]?.placed).toBe(false);
    expect(placed[2]!.y).toBeGreaterThan(PLAN.height);
    expect(height).toBeGreaterThan(PLAN.height);
    expect(statusColour("ONLINE")).not.toBe(statusColour("ERROR"));
  });
  it("bounds live series", () => {
    let s: number[] = [];
    for (let i = 0; i < 10; i++) s = pushBounded(s, i, 3);
    expect(s).toEqual([7, 8, 9]);
  });
});

import { templateLabel } from "../src/lib/templateName";

describe("template labels", () => {
  const te = (k: string) => k === "presets.battery_storage";
  const t = (k: string) => `T(${k})`;
  it("translate presets only", () => {
    expect(templateLabel({ name: "Battery", type: "battery_storage", created_by: "system" }, te, t)).toBe("T(presets.battery_storage)");
    expect(templateLabel({ name: "Mine", type: "battery_storage", created_by: "alice" }, te, t)).toBe("Mine");
    expect(templateLabel({ name: "Odd", type: "unknown", created_by: "system" }, te, t)).toBe("Odd");
  });
});
