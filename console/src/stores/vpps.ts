import { defineStore } from "pinia";
import { ref } from "vue";
import { api, type Schemas, unwrap } from "@/api/client";
import { type Draft, diffMembers } from "@/lib/builder";

export type Vpp = Schemas["VppOut"];
export type Preview = Schemas["AggregationPreview"];
export type MarketType = "SPOT" | "ANCILLARY" | "CAPACITY";

/** VPPs: list, create, membership changes and the unsaved aggregation preview. */
export const useVpps = defineStore("vpps", () => {
  const items = ref<Vpp[]>([]);

  async function fetchAll(): Promise<void> {
    const out: Vpp[] = [];
    for (let page = 1; page <= 20; page++) {
      const p = unwrap(await api.GET("/api/v1/vpp/vpps", { params: { query: { page, size: 100 } } }));
      out.push(...p.items);
      if (out.length >= p.total || p.items.length === 0) break;
    }
    items.value = out;
  }

  async function create(name: string, market_type: MarketType, description: string): Promise<Vpp> {
    const v = unwrap(await api.POST("/api/v1/vpp/vpps", { body: { name, market_type, description, resource_ids: [] } }));
    await fetchAll();
    return v;
  }

  async function saveMembers(vpp: Vpp, draft: Draft[]): Promise<Vpp> {
    const body = diffMembers(vpp.resources, draft);
    const v = unwrap(await api.PUT("/api/v1/vpp/vpps/{vpp_id}/resources", { params: { path: { vpp_id: vpp.id } }, body }));
    await fetchAll();
    return v;
  }

  async function preview(members: Draft[], vppId: string | null, market: MarketType | null): Promise<Preview> {
    return unwrap(
      await api.POST("/api/v1/vpp/console/aggregation-preview", {
        body: { members, vpp_id: vppId ?? undefined, market_type: market ?? undefined },
      }),
    );
  }

  return { items, fetchAll, create, saveMembers, preview };
});
