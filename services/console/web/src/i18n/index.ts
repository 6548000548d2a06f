import { createI18n } from 'vue-i18n'
import zhCN from './zh-CN'
import en from './en'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: Locale[] = ['zh-CN', 'en']
const STORAGE = 'brightline.locale'

export function savedLocale(): Locale {
  const value = typeof localStorage === 'undefined' ? null : localStorage.getItem(STORAGE)
  return value === 'en' ? 'en' : 'zh-CN'
}

export function rememberLocale(locale: Locale): void {
  localStorage.setItem(STORAGE, locale)
  document.documentElement.lang = locale
}

// A key without a message would show the key itself: count it (the browser test reads
// window.__missingI18n and fails on any) and fall back to nothing visible rather than the key.
export const missing: string[] = []

export const i18n = createI18n({
  legacy: false,
  locale: savedLocale(),
  fallbackLocale: false,
  messages: { 'zh-CN': zhCN, en },
  missingWarn: false,
  fallbackWarn: false,
  missing: (locale: string, key: string) => {
    missing.push(`${locale}:${key}`)
    if (typeof window !== 'undefined') {
      ;(window as unknown as { __missingI18n: string[] }).__missingI18n = missing
    }
    return '？'
  },
})

export type Messages = typeof zhCN
