// A preset template (created by the hub itself) is shown under its translated name;
// a custom template under the name its author gave it.
export interface Named {
  name: string;
  type: string;
  created_by?: string | null;
}

export function templateLabel(tpl: Named, te: (key: string) => boolean, t: (key: string) => string): string {
  const key = `presets.${tpl.type}`;
  return tpl.created_by === "system" && te(key) ? t(key) : tpl.name;
}
