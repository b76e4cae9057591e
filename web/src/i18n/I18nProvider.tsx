// All user-facing text comes from the pl/en/uk message files; t() fills {placeholders}.
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import en from "./en.json";
import pl from "./pl.json";
import uk from "./uk.json";

export type Language = "pl" | "en" | "uk";
export type MessageKey = keyof typeof en;
export const LANGUAGES: readonly Language[] = ["pl", "en", "uk"];
const CATALOGS: Record<Language, Record<MessageKey, string>> = { en, pl, uk };
const STORAGE_KEY = "message-center.language";
// Dates and times as people in the marketplaces write them (24-hour clock).
const LOCALES: Record<Language, string> = { pl: "pl-PL", en: "en-GB", uk: "uk-UA" };

interface I18n {
  language: Language;
  setLanguage: (language: Language) => void;
  t: (key: MessageKey, values?: Record<string, string | number>) => string;
  has: (key: string) => key is MessageKey;
  formatTime: (iso: string) => string;
  formatDay: (iso: string) => string;
  formatShort: (iso: string) => string;
}

const I18nContext = createContext<I18n | null>(null);

function initialLanguage(): Language {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored && (LANGUAGES as readonly string[]).includes(stored)) return stored as Language;
  const browser = navigator.language.slice(0, 2);
  return (LANGUAGES as readonly string[]).includes(browser) ? (browser as Language) : "pl";
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [language, setLanguageState] = useState<Language>(initialLanguage);

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  const setLanguage = useCallback((next: Language) => {
    localStorage.setItem(STORAGE_KEY, next);
    setLanguageState(next);
  }, []);

  const value = useMemo<I18n>(() => {
    const catalog = CATALOGS[language];
    const locale = LOCALES[language];
    const t = (key: MessageKey, values?: Record<string, string | number>) =>
      catalog[key].replace(/\{(\w+)\}/g, (whole, name: string) => (values && name in values ? String(values[name]) : whole));
    const time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit" });
    const day = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric" });
    const short = new Intl.DateTimeFormat(locale, { day: "numeric", month: "short" });
    return {
      language,
      setLanguage,
      t,
      has: (key: string): key is MessageKey => key in catalog,
      formatTime: (iso) => time.format(new Date(iso)),
      formatDay: (iso) => {
        const date = new Date(iso);
        const today = new Date();
        const yesterday = new Date(today.getTime() - 86_400_000);
        if (sameDay(date, today)) return t("day.today");
        if (sameDay(date, yesterday)) return t("day.yesterday");
        return day.format(date);
      },
      formatShort: (iso) => (sameDay(new Date(iso), new Date()) ? time.format(new Date(iso)) : short.format(new Date(iso))),
    };
  }, [language, setLanguage]);

  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const context = useContext(I18nContext);
  if (!context) throw new Error("useI18n outside I18nProvider");
  return context;
}
