import { describe, expect, it } from "vitest";
import { asRole, can, canSee, navFor } from "../src/lib/roles";

describe("role-aware navigation", () => {
  it("mirrors the hub's guards", () => {
    expect(navFor("viewer")).not.toContain("builder");
    expect(navFor("viewer")).not.toContain("dispatch");
    expect(navFor("trader")).toContain("dispatch");
    expect(navFor("trader")).not.toContain("builder");
    expect(navFor("operator")).toEqual(expect.arrayContaining(["builder", "dispatch", "templates"]));
    expect(canSee("wall", "viewer")).toBe(true);
    expect(can("write", "trader")).toBe(false);
    expect(can("dispatch", "trader")).toBe(true);
    expect(asRole("root")).toBe("viewer");
  });
});
