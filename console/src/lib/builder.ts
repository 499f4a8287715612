// The VPP builder's membership edits, pure: the drag handlers call these, the preview
// call and the save call read the result.

export interface Draft {
  resource_id: string;
  allocation_ratio: number;
  priority: number;
}

export function addMember(members: readonly Draft[], id: string): Draft[] {
  if (members.some((m) => m.resource_id === id)) return members.slice();
  return [...members, { resource_id: id, allocation_ratio: 1, priority: 1 }];
}

export function removeMember(members: readonly Draft[], id: string): Draft[] {
  return members.filter((m) => m.resource_id !== id);
}

export function setRatio(members: readonly Draft[], id: string, ratio: number): Draft[] {
  const r = Math.min(1, Math.max(0.01, Number.isFinite(ratio) ? ratio : 1));
  return members.map((m) => (m.resource_id === id ? { ...m, allocation_ratio: r } : m));
}

export interface SavedMember {
  resource_id: string;
  allocation_ratio: number;
  priority: number;
}

/** The body of PUT /vpps/{id}/resources that turns `saved` into `draft`. */
export function diffMembers(saved: readonly SavedMember[], draft: readonly Draft[]) {
  const before = new Map(saved.map((m) => [m.resource_id, m]));
  const after = new Map(draft.map((m) => [m.resource_id, m]));
  const add_resources = draft.filter((m) => !before.has(m.resource_id));
  const remove_resources = saved.filter((m) => !after.has(m.resource_id)).map((m) => m.resource_id);
  const update_resources = draft
    .filter((m) => {
      const b = before.get(m.resource_id);
      return b !== undefined && (b.allocation_ratio !== m.allocation_ratio || b.priority !== m.priority);
    })
    .map((m) => ({ resource_id: m.resource_id, allocation_ratio: m.allocation_ratio, priority: m.priority }));
  return { add_resources, remove_resources, update_resources };
}

export function isDirty(saved: readonly SavedMember[], draft: readonly Draft[]): boolean {
  const d = diffMembers(saved, draft);
  return d.add_resources.length + d.remove_resources.length + d.update_resources.length > 0;
}
