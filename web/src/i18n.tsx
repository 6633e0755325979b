import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { MESSAGES, type MessageKey } from './messages.js';

/** The portal's two languages: Chinese (the default) and English. */
export type Lang = 'zh' | 'en';
const STORAGE_KEY = 'suanwang.lang';

interface I18n {
  readonly lang: Lang;
  setLang(lang: Lang): void;
  /** The message in the current language, `{name}` placeholders filled from `vars`. */
  t(key: MessageKey | `${string}.${string}`, vars?: Readonly<Record<string, string | number>>): string;
}

const I18nContext = createContext<I18n | null>(null);

function initialLang(): Lang {
  const saved = localStorage.getItem(STORAGE_KEY);
  if (saved === 'zh' || saved === 'en') return saved;
  return navigator.language.toLowerCase().startsWith('en') ? 'en' : 'zh';
}

export function I18nProvider({ children }: { readonly children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const setLang = useCallback((l: Lang) => {
    localStorage.setItem(STORAGE_KEY, l);
    document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
    setLangState(l);
  }, []);
  const value = useMemo<I18n>(
    () => ({
      lang,
      setLang,
      t: (key, vars) => {
        const entry = (MESSAGES as Record<string, readonly [string, string] | undefined>)[key];
        if (entry === undefined) return key;
        const text = entry[lang === 'zh' ? 0 : 1];
        return vars ? text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : text;
      },
    }),
    [lang, setLang],
  );
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (!i18n) throw new Error('useI18n outside I18nProvider');
  return i18n;
}
