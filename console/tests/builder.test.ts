import { describe, expect, it } from "vitest";
import { addMember, diffMembers, isDirty, removeMember, setRatio } from "../src/lib/builder";

describe("builder membership", () => {
  const saved = [
    { resource_id: "a", allocation_ratio: 1, priority: 1 },
    { resource_id: "b", allocation_ratio: 0.5, priority: 2 },
  ];
  it("adds once, removes, clamps ratios", () => {
    let d = addMember(saved, "c");
    d = addMember(d, "c");
    expect(d.map((m) => m.resource_id)).toEqual(["a", "b", "c"]);
    d = removeMember(d, "a");
    d = setRatio(d, "b", 7);
    expect(d.find((m) => m.resource_id === "b")?.allocation_ratio).toBe(1);
    expect(setRatio(d, "b", 0)[0]?.allocation_ratio).toBe(0.01);
  });
  it("diffs a draft into the PUT body", () => {
    const draft = setRatio(removeMember(addMember(saved, "c"), "a"), "b", 0.25);
    expect(diffMembers(saved, draft)).toEqual({
      add_resources: [{ resource_id: "c", allocation_ratio: 1, priority: 1 }],
      remove_resources: ["a"],
      update_resources: [{ resource_id: "b", allocation_ratio: 0.25, priority: 2 }],
    });
    expect(isDirty(saved, saved.map((m) => ({ ...m })))).toBe(false);
    expect(isDirty(saved, draft)).toBe(true);
  });
});
