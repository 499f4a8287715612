import { defineStore } from "pinia";
import { ref } from "vue";
import { api, type Schemas, unwrap } from "@/api/client";

/** Dispatch: send instructions; their execution is followed on the live feed. */
export const useDispatch = defineStore("dispatch", () => {
  const last = ref<Schemas["DispatchAccepted"] | null>(null);

  async function send(vppId: string, resourceId: string | null, targetKw: number, durationS: number) {
    last.value = unwrap(
      await api.POST("/api/v1/vpp/trading/execute-dispatch", {
        body: {
          vpp_id: vppId,
          dispatch_instructions: [{ resource_id: resourceId ?? undefined, target_power: targetKw, duration: durationS }],
        },
      }),
    );
    return last.value;
  }

  async function status(id: string): Promise<Schemas["ExecutionStatus"]> {
    return unwrap(await api.GET("/api/v1/vpp/trading/execution-status/{instruction_id}", { params: { path: { instruction_id: id } } }));
  }

  return { last, send, status };
});
