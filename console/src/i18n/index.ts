import { createI18n } from "vue-i18n";
import en from "./en";
import zh from "./zh-CN";

export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];
const KEY = "lingtan.locale";

export function savedLocale(storage: Pick<Storage, "getItem"> = localStorage): Locale {
  const saved = storage.getItem(KEY);
  return (LOCALES as readonly string[]).includes(saved ?? "") ? (saved as Locale) : "zh-CN";
}

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zh, en },
  datetimeFormats: {
    "zh-CN": { short: { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false }, long: { dateStyle: "medium", timeStyle: "medium", hour12: false } },
    en: { short: { hour: "2-digit", minute: "2-digit", second: "2-digit" }, long: { dateStyle: "medium", timeStyle: "medium" } },
  },
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(KEY, locale);
  document.documentElement.lang = locale;
}
