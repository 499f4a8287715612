import { defineStore } from "pinia";
import { ref } from "vue";
import { api, type Schemas, unwrap } from "@/api/client";

export type Instance = Schemas["Instance"];
export type Status = "ONLINE" | "OFFLINE" | "MAINTENANCE" | "ERROR";
export interface ResourceQuery {
  q: string;
  status: Status | "";
  templateId: string;
  page: number;
  size: number;
}

/** Resource instances: the paged, filtered list and one instance's detail. */
export const useResources = defineStore("resources", () => {
  const items = ref<Instance[]>([]);
  const total = ref(0);
  const loading = ref(false);
  const query = ref<ResourceQuery>({ q: "", status: "", templateId: "", page: 1, size: 20 });

  async function fetchPage(): Promise<void> {
    loading.value = true;
    try {
      const q = query.value;
      const page = unwrap(
        await api.GET("/api/v1/vpp/resource-instances", {
          params: {
            query: {
              page: q.page,
              size: q.size,
              q: q.q || undefined,
              status: q.status || undefined,
              template_id: q.templateId || undefined,
            },
          },
        }),
      );
      items.value = page.items;
      total.value = page.total;
    } finally {
      loading.value = false;
    }
  }

  async function get(id: string): Promise<Instance> {
    return unwrap(await api.GET("/api/v1/vpp/resource-instances/{instance_id}", { params: { path: { instance_id: id } } }));
  }

  async function realtime(id: string): Promise<Schemas["RealtimeData"] | null> {
    const r = await api.GET("/api/v1/vpp/resource-instances/{instance_id}/realtime-data", { params: { path: { instance_id: id } } });
    return r.response.status === 404 ? null : unwrap(r);
  }

  async function history(id: string, name: string, startIso: string, endIso: string, step: number): Promise<Schemas["History"]> {
    return unwrap(
      await api.GET("/api/v1/vpp/resource-instances/{instance_id}/history", {
        params: { path: { instance_id: id }, query: { start: startIso, end: endIso, name, step } },
      }),
    );
  }

  async function create(body: Schemas["InstanceCreate"]): Promise<Instance> {
    return unwrap(await api.POST("/api/v1/vpp/resource-instances", { body }));
  }

  return { items, total, loading, query, fetchPage, get, realtime, history, create };
});
