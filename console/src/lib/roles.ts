// What each role sees and may do, mirroring the hub's guards (hub/_security.py):
// viewer reads; operator (and admin) writes templates, instances and VPPs; operator,
// trader and admin dispatch. The hub enforces it; the console only hides what would 403.

export type Role = "viewer" | "operator" | "trader" | "admin";
export const ROLES: readonly Role[] = ["viewer", "operator", "trader", "admin"];

export type Page = "resources" | "templates" | "builder" | "wall" | "dispatch" | "map" | "park3d";
export type Action = "write" | "dispatch";

const PAGES: Record<Page, readonly Role[]> = {
  resources: ROLES,
  templates: ROLES,
  map: ROLES,
  park3d: ROLES,
  wall: ROLES,
  builder: ["operator", "admin"],
  dispatch: ["operator", "trader", "admin"],
};

const ACTIONS: Record<Action, readonly Role[]> = {
  write: ["operator", "admin"],
  dispatch: ["operator", "trader", "admin"],
};

export function asRole(value: string | null | undefined): Role {
  return (ROLES as readonly string[]).includes(value ?? "") ? (value as Role) : "viewer";
}

export function canSee(page: Page, role: Role): boolean {
  return PAGES[page].includes(role);
}

export function can(action: Action, role: Role): boolean {
  return ACTIONS[action].includes(role);
}

export const NAV_ORDER: readonly Page[] = ["wall", "resources", "map", "park3d", "templates", "builder", "dispatch"];

export function navFor(role: Role): Page[] {
  return NAV_ORDER.filter((p) => canSee(p, role));
}
