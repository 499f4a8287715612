import { defineStore } from "pinia";
import { ref } from "vue";
import { ApiError } from "@/api/client";

/** Errors no view handled itself, shown in a banner instead of failing silently. A 401 is
 *  not one of them: the API client already returned to the login page. */
export const useNotices = defineStore("notices", () => {
  const message = ref("");
  let timer: ReturnType<typeof setTimeout> | undefined;

  function report(err: unknown): void {
    if (err instanceof ApiError && err.status === 401) return;
    message.value = err instanceof ApiError ? `${err.status}: ${err.detail}` : err instanceof Error ? err.message : String(err);
    clearTimeout(timer);
    timer = setTimeout(() => (message.value = ""), 8000);
  }

  function clear(): void {
    message.value = "";
  }

  return { message, report, clear };
});
