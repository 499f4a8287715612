import { defineStore } from "pinia";
import { computed, ref } from "vue";
import { api, configureApi, unwrap } from "@/api/client";
import { asRole, type Role } from "@/lib/roles";

const KEY = "lingtan.session";

interface Session {
  token: string;
  username: string;
  role: Role;
  expiresAt: number;
}

function load(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    return s.expiresAt > Date.now() ? s : null;
  } catch {
    return null;
  }
}

/** The session: a JWT kept in localStorage so a reload keeps you logged in. */
export const useAuth = defineStore("auth", () => {
  const session = ref<Session | null>(load());
  const message = ref<"" | "expired" | "loggedOut">("");
  const loggedIn = computed(() => session.value !== null);
  const role = computed<Role>(() => session.value?.role ?? "viewer");
  const username = computed(() => session.value?.username ?? "");

  async function login(user: string, password: string): Promise<void> {
    const token = unwrap(await api.POST("/api/v1/auth/login", { body: { username: user, password } }));
    session.value = {
      token: token.access_token,
      username: user,
      role: asRole(token.role),
      expiresAt: Date.now() + token.expires_in * 1000,
    };
    localStorage.setItem(KEY, JSON.stringify(session.value));
    message.value = "";
  }

  /** Check the stored token against the hub (role changes apply at once). */
  async function refresh(): Promise<void> {
    if (!session.value) return;
    const { data, response } = await api.GET("/api/v1/auth/me");
    if (response.ok && data && session.value) {
      session.value = { ...session.value, role: asRole(data.role), username: data.username };
      localStorage.setItem(KEY, JSON.stringify(session.value));
    }
  }

  function logout(why: "expired" | "loggedOut" = "loggedOut"): void {
    session.value = null;
    localStorage.removeItem(KEY);
    message.value = why;
  }

  return { session, message, loggedIn, role, username, login, refresh, logout };
});

export function wireApi(auth: ReturnType<typeof useAuth>, onExpired: () => void): void {
  configureApi({
    token: () => auth.session?.token ?? null,
    onUnauthorized: () => {
      if (auth.loggedIn) {
        auth.logout("expired");
        onExpired();
      }
    },
  });
}
