import { defineStore } from "pinia";
import { ref } from "vue";
import { api, type Schemas, unwrap } from "@/api/client";

export type Template = Schemas["Template"];

/** The template library (presets and custom templates, with versions). */
export const useTemplates = defineStore("templates", () => {
  const items = ref<Template[]>([]);
  const loading = ref(false);

  async function fetchAll(): Promise<void> {
    loading.value = true;
    try {
      const out: Template[] = [];
      for (let page = 1; page <= 20; page++) {
        const p = unwrap(await api.GET("/api/v1/vpp/resource-templates", { params: { query: { page, size: 100 } } }));
        out.push(...p.items);
        if (out.length >= p.total || p.items.length === 0) break;
      }
      items.value = out;
    } finally {
      loading.value = false;
    }
  }

  async function create(body: Schemas["TemplateCreate"]): Promise<Template> {
    const t = unwrap(await api.POST("/api/v1/vpp/resource-templates", { body }));
    await fetchAll();
    return t;
  }

  async function update(id: string, body: Schemas["TemplateUpdate"]): Promise<Template> {
    const t = unwrap(await api.PUT("/api/v1/vpp/resource-templates/{template_id}", { params: { path: { template_id: id } }, body }));
    await fetchAll();
    return t;
  }

  return { items, loading, fetchAll, create, update };
});
