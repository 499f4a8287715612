// Where each resource sits on the park's site plan (SVG user units, metres), pure.
// A resource's location_info may give {x, y} (metres on the plan) and a zone; those
// without a position are laid out on a grid below the plan.

export interface Placeable {
  id: string;
  location_info: Record<string, unknown>;
}
export interface Placed {
  id: string;
  x: number;
  y: number;
  zone: string;
  placed: boolean;
}

export const PLAN = { width: 400, height: 240 };

function num(v: unknown): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}

export function layout(items: readonly Placeable[], columns = 8): { placed: Placed[]; height: number } {
  const out: Placed[] = [];
  let k = 0;
  for (const item of items) {
    const x = num(item.location_info["x"]);
    const y = num(item.location_info["y"]);
    const zone = typeof item.location_info["zone"] === "string" ? (item.location_info["zone"] as string) : "";
    if (x !== null && y !== null) {
      out.push({ id: item.id, x: Math.min(PLAN.width, Math.max(0, x)), y: Math.min(PLAN.height, Math.max(0, y)), zone, placed: true });
    } else {
      const col = k % columns;
      const row = Math.floor(k / columns);
      out.push({ id: item.id, x: 25 + col * (PLAN.width - 50) / Math.max(1, columns - 1), y: PLAN.height + 30 + row * 30, zone, placed: false });
      k += 1;
    }
  }
  const rows = Math.ceil(k / columns);
  return { placed: out, height: PLAN.height + (rows > 0 ? 20 + rows * 30 : 0) };
}

export const STATUS_COLOURS: Record<string, string> = {
  ONLINE: "#22c55e",
  OFFLINE: "#94a3b8",
  MAINTENANCE: "#f59e0b",
  ERROR: "#ef4444",
};

export function statusColour(status: string): string {
  return STATUS_COLOURS[status] ?? "#64748b";
}
