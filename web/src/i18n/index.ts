import i18n from "i18next";
import { initReactI18next } from "react-i18next";
import * as common from "./common";
import { namespaces } from "./namespaces";

// German is the default (the seeds' language); the choice is kept in
// localStorage. A key that is missing in the shown language is reported
// (console.error and window.__absenderMissingKeys), so the end-to-end test
// that walks every page in both languages fails on it.
export const languages = ["de", "en"] as const;
export type Language = (typeof languages)[number];

declare global {
  interface Window {
    __absenderMissingKeys?: string[];
  }
}

const all = { common, ...namespaces } as Record<string, { en: object; de: object }>;

export function resources(): Record<Language, Record<string, object>> {
  const out: Record<Language, Record<string, object>> = { de: {}, en: {} };
  for (const [ns, cat] of Object.entries(all)) {
    out.de[ns] = cat.de;
    out.en[ns] = cat.en;
  }
  return out;
}

export function initialLanguage(): Language {
  try {
    const saved = localStorage.getItem("absender.language");
    if (saved === "de" || saved === "en") return saved;
  } catch {
    /* no storage: the default */
  }
  return "de";
}

export function setupI18n(lng: Language = initialLanguage()) {
  if (i18n.isInitialized) return i18n;
  void i18n.use(initReactI18next).init({
    resources: resources(),
    lng,
    fallbackLng: false,
    ns: Object.keys(all),
    defaultNS: "common",
    interpolation: { escapeValue: false },
    saveMissing: true,
    missingKeyHandler: (lngs, ns, key) => {
      const miss = `${lngs.join(",")}:${ns}:${key}`;
      (window.__absenderMissingKeys ??= []).push(miss);
      console.error(`i18n: missing key ${miss}`);
    },
    returnNull: false,
  });
  return i18n;
}

export function changeLanguage(lng: Language) {
  try {
    localStorage.setItem("absender.language", lng);
  } catch {
    /* ignore */
  }
  document.documentElement.lang = lng;
  return i18n.changeLanguage(lng);
}
