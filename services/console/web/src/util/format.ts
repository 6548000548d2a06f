// Times always with their date, in the business timezone (Asia/Shanghai).
const ZONE = 'Asia/Shanghai'

export function dateTime(value: string | null | undefined, locale: string): string {
  if (!value) return ''
  const d = new Date(value)
  if (Number.isNaN(d.getTime())) return ''
  return new Intl.DateTimeFormat(locale === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: ZONE,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
  }).format(d)
}

/** Seconds left now, counted down from `left`, what the console said (on the server's clock) at
 * `loadedAt`: the browser's own clock only measures the time since. */
export function countedDown(left: number | null | undefined, loadedAt: number, now: number): number | null {
  return left === null || left === undefined ? null : left - (now - loadedAt) / 1000
}

/** 75 → "01:15"; 3725 → "1:02:05" */
export function clock(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds))
  const h = Math.floor(s / 3600)
  const m = Math.floor((s % 3600) / 60)
  const r = s % 60
  const two = (n: number) => String(n).padStart(2, '0')
  return h ? `${h}:${two(m)}:${two(r)}` : `${two(m)}:${two(r)}`
}

export function typing(element: Element | null): boolean {
  if (!element) return false
  const tag = element.tagName
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (element as HTMLElement).isContentEditable
}
