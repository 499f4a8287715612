import { createPinia } from "pinia";
import { createApp } from "vue";
import App from "./App.vue";
import { i18n } from "./i18n";
import { makeRouter } from "./router";
import { useAuth, wireApi } from "./stores/auth";
import { useNotices } from "./stores/notices";
import "./style.css";

const app = createApp(App);
const pinia = createPinia();
app.use(pinia);
app.use(i18n);
const router = makeRouter();
const auth = useAuth(pinia);
wireApi(auth, () => {
  const here = router.currentRoute.value;
  if (here.name !== "login") void router.replace({ name: "login", query: { reason: "expired", next: here.fullPath } });
});
app.use(router);
const notices = useNotices(pinia);
app.config.errorHandler = (err) => notices.report(err);
window.addEventListener("unhandledrejection", (event) => {
  event.preventDefault();
  notices.report(event.reason);
});
document.documentElement.lang = i18n.global.locale.value;
app.mount("#app");
if (auth.loggedIn) void auth.refresh();
