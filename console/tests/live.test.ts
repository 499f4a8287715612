import { createPinia, setActivePinia } from "pinia";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { type Snapshot, useLive } from "../src/stores/live";

describe("live store", () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.useFakeTimers();
    vi.stubGlobal("fetch", vi.fn(() => new Promise(() => {}))); // a stream that never answers
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.unstubAllGlobals();
  });

  it("keeps one connection across views and stops a while after the last one", () => {
    const live = useLive();
    live.acquire();
    live.acquire();
    live.release();
    live.release();
    expect(vi.mocked(fetch)).toHaveBeenCalledTimes(1);
    live.acquire(); // the next page, within the idle time: same connection
    expect(vi.mocked(fetch)).toHaveBeenCalledTimes(1);
    live.release();
    expect(live.state).toBe("connecting");
    vi.advanceTimersByTime(10_001);
    expect(live.state).toBe("idle");
  });

  it("keeps power series only for watched resources, bounded", () => {
    const live = useLive();
    live.watchSeries("a");
    const snap = (i: number): Snapshot => ({
      seq: i,
      ts: new Date(1_000 * i).toISOString(),
      resources: ["a", "b"].map((id) => ({ id, name: id, category: null, status: "ONLINE", device_id: null, capacity: 1, p_kw: i, soc: null, ts: null, location_info: {} })),
      vpps: [{ id: "v", name: "v", status: "ACTIVE", market_type: "SPOT", params: { total_capacity: 0, available_up_capacity: 0, available_down_capacity: 0, response_time: 0, efficiency: 0, online_count: 0, member_count: 0, current_power: i } }],
      edges: [],
      dispatch: [],
      alarms: [],
    });
    for (let i = 0; i < 400; i++) live.apply(snap(i));
    expect(live.resourceSeries["a"]?.length).toBe(300);
    expect(live.resourceSeries["a"]?.at(-1)).toEqual([399_000, 399]);
    expect(live.resourceSeries["b"]).toBeUndefined();
    expect(live.vppSeries["v"]?.length).toBe(300);
    expect(live.resourceById.get("b")?.p_kw).toBe(399);
  });
});

import { ApiError } from "../src/api/client";
import { useNotices } from "../src/stores/notices";

describe("notices", () => {
  beforeEach(() => setActivePinia(createPinia()));
  it("show unhandled errors but not a 401 (the login page handles it)", () => {
    const n = useNotices();
    n.report(new ApiError(401, "expired"));
    expect(n.message).toBe("");
    n.report(new ApiError(409, "VPP is INACTIVE"));
    expect(n.message).toBe("409: VPP is INACTIVE");
    n.clear();
    n.report(new Error("network down"));
    expect(n.message).toBe("network down");
  });
});
