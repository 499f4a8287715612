import { describe, expect, it } from "vitest";
import { SseParser } from "../src/lib/sse";

describe("SseParser", () => {
  it("joins events split across chunks and keeps id and type", () => {
    const p = new SseParser();
    expect(p.push("retry: 2000\n\nevent: li")).toEqual([]);
    expect(p.retryMs).toBe(2000);
    const out = p.push('ve\nid: 7\ndata: {"a":\ndata: 1}\n\n: keep-alive\n\n');
    expect(out).toEqual([{ event: "live", id: "7", data: '{"a":\n1}' }]);
  });
  it("handles CRLF and events without a type", () => {
    const p = new SseParser();
    expect(p.push("data: x\r\n\r\nevent: resync\r\ndata: {}\r\n\r\n")).toEqual([
      { event: "message", id: null, data: "x" },
      { event: "resync", id: null, data: "{}" },
    ]);
  });
});
