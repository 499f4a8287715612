import { createRouter, createWebHistory, type RouteRecordRaw } from "vue-router";
import { canSee, navFor, type Page } from "./lib/roles";
import { useAuth } from "./stores/auth";

const routes: RouteRecordRaw[] = [
  { path: "/login", name: "login", component: () => import("./views/LoginView.vue"), meta: { public: true } },
  { path: "/", name: "home", redirect: () => ({ name: "wall" }) },
  { path: "/wall", name: "wall", component: () => import("./views/WallView.vue"), meta: { page: "wall" } },
  { path: "/resources", name: "resources", component: () => import("./views/ResourcesView.vue"), meta: { page: "resources" } },
  { path: "/resources/:id", name: "resource", component: () => import("./views/ResourceDetailView.vue"), meta: { page: "resources" }, props: true },
  { path: "/templates", name: "templates", component: () => import("./views/TemplatesView.vue"), meta: { page: "templates" } },
  { path: "/builder", name: "builder", component: () => import("./views/BuilderView.vue"), meta: { page: "builder" } },
  { path: "/dispatch", name: "dispatch", component: () => import("./views/DispatchView.vue"), meta: { page: "dispatch" } },
  { path: "/map", name: "map", component: () => import("./views/MapView.vue"), meta: { page: "map" } },
  { path: "/park3d", name: "park3d", component: () => import("./views/Park3DView.vue"), meta: { page: "park3d" } },
  { path: "/:rest(.*)*", redirect: { name: "wall" } },
];

export function makeRouter() {
  const router = createRouter({ history: createWebHistory("/"), routes });
  router.beforeEach((to) => {
    const auth = useAuth();
    if (to.meta["public"]) return true;
    if (!auth.loggedIn) return { name: "login", query: { next: to.fullPath } };
    const page = to.meta["page"] as Page | undefined;
    if (page && !canSee(page, auth.role)) return { name: navFor(auth.role)[0] ?? "wall" };
    return true;
  });
  return router;
}
