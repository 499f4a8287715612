import { defineStore } from "pinia";
import { computed, ref, shallowRef } from "vue";
import { api, authHeaders, type Schemas, unwrap } from "@/api/client";
import { pushBounded } from "@/lib/series";
import { SseParser } from "@/lib/sse";

export type Snapshot = Schemas["LiveSnapshot"];
export type LiveState = "idle" | "connecting" | "live" | "disconnected";

const HISTORY = 300;
const IDLE_MS = 10_000;

/** The hub's live push (SSE over fetch, with the bearer token): one snapshot at a time,
 *  plus a bounded history of each VPP's and each resource's power for the charts. */
export const useLive = defineStore("live", () => {
  const snapshot = shallowRef<Snapshot | null>(null);
  const state = ref<LiveState>("idle");
  const resyncs = ref(0);
  const vppSeries = shallowRef<Record<string, [number, number][]>>({});
  const resourceSeries = shallowRef<Record<string, [number, number | null][]>>({});
  let controller: AbortController | null = null;
  // Power series are kept only for resources a view asked for (a detail page), not for
  // every one of a thousand resources on every snapshot.
  const watched = new Set<string>();
  let users = 0;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;

  function apply(snap: Snapshot): void {
    snapshot.value = snap;
    const t = new Date(snap.ts).getTime();
    const vs = { ...vppSeries.value };
    for (const v of snap.vpps) vs[v.id] = pushBounded(vs[v.id] ?? [], [t, v.params.current_power ?? 0], HISTORY);
    vppSeries.value = vs;
    if (watched.size > 0) {
      const rs = { ...resourceSeries.value };
      for (const r of snap.resources) if (watched.has(r.id)) rs[r.id] = pushBounded(rs[r.id] ?? [], [t, r.p_kw ?? null], HISTORY);
      resourceSeries.value = rs;
    }
  }

  async function resync(): Promise<void> {
    resyncs.value += 1;
    apply(unwrap(await api.GET("/api/v1/vpp/console/snapshot")));
  }

  async function run(signal: AbortSignal): Promise<void> {
    let backoff = 500;
    while (!signal.aborted) {
      state.value = "connecting";
      try {
        const response = await fetch("/api/v1/vpp/console/stream", {
          headers: { Accept: "text/event-stream", ...authHeaders() },
          signal,
        });
        if (response.status === 401) {
          await api.GET("/api/v1/auth/me"); // lets the client's 401 handling log out
          state.value = "disconnected";
          return;
        }
        if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        const parser = new SseParser();
        backoff = 500;
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          for (const ev of parser.push(value)) {
            if (ev.event === "live") {
              state.value = "live";
              apply(JSON.parse(ev.data) as Snapshot);
            } else if (ev.event === "resync") {
              await resync();
            }
          }
        }
      } catch (err) {
        if (signal.aborted) return;
      }
      state.value = "disconnected";
      await new Promise((r) => setTimeout(r, backoff));
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  /** Start the stream for a view; it stops a while after the last view released it, so
   *  moving between live pages keeps one connection and the data already shown. */
  function acquire(): void {
    users += 1;
    clearTimeout(idleTimer);
    if (controller) return;
    controller = new AbortController();
    void run(controller.signal);
  }

  function release(): void {
    users = Math.max(0, users - 1);
    clearTimeout(idleTimer);
    if (users === 0) idleTimer = setTimeout(stop, IDLE_MS);
  }

  function stop(): void {
    clearTimeout(idleTimer);
    controller?.abort();
    controller = null;
    state.value = "idle";
  }

  function watchSeries(id: string): void {
    watched.add(id);
  }

  function unwatchSeries(id: string): void {
    watched.delete(id);
  }

  const resourceById = computed(() => new Map((snapshot.value?.resources ?? []).map((r) => [r.id, r])));

  return { snapshot, state, resyncs, vppSeries, resourceSeries, resourceById, acquire, release, stop, apply, resync, watchSeries, unwatchSeries };
});
