import { describe, expect, it } from "vitest";
import en from "../src/i18n/en";
import zh from "../src/i18n/zh-CN";
import { savedLocale } from "../src/i18n";
import { fmtNumber, fmtTime } from "../src/lib/format";

function keys(o: object, prefix = ""): string[] {
  return Object.entries(o).flatMap(([k, v]) => (typeof v === "object" && v !== null ? keys(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}

describe("translations", () => {
  it("have the same keys in Chinese and English, none empty", () => {
    expect(keys(en).sort()).toEqual(keys(zh).sort());
    for (const k of keys(zh)) expect(k.split(".").reduce((o: any, p) => o[p], zh)).not.toBe("");
  });
  it("default to Chinese and remember a valid choice only", () => {
    expect(savedLocale({ getItem: () => null })).toBe("zh-CN");
    expect(savedLocale({ getItem: () => "en" })).toBe("en");
    expect(savedLocale({ getItem: () => "fr" })).toBe("zh-CN");
  });
  it("format numbers and times per locale", () => {
    expect(fmtNumber("en", 12345.67)).toBe("12,345.7");
    expect(fmtNumber("de-DE", 12345.67)).toBe("12.345,7");
    expect(fmtNumber("en", null)).toBe("—");
    expect(fmtNumber("en", -0.01)).toBe("0");
    expect(fmtNumber("en", -0.06)).toBe("-0.1");
    expect(fmtTime("en", "not a date")).toBe("—");
    expect(fmtTime("zh-CN", "2026-01-01T08:09:10Z")).toMatch(/\d{2}:09:10/);
  });
});
