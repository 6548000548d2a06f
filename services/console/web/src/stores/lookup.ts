// What the desk looks up besides the caller card: the customer of an unknown caller (intake's
// directory, by account number, name or address) and the service areas an address lies in
// (dispatch's, with the names callers know them by).
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, unwrap, type Schemas } from '@/api/client'

export type CustomerFound = Schemas['CustomerFound']
export type ServiceArea = Schemas['ServiceArea']

/** The areas whose name or code holds `text`, named ones first (what callers say). */
export function matchAreas(areas: ServiceArea[], text: string): ServiceArea[] {
  const needle = text.trim().toLowerCase()
  const hits = needle
    ? areas.filter((a) => (a.name ?? '').toLowerCase().includes(needle) || a.area_code.toLowerCase().includes(needle))
    : [...areas]
  return hits.sort((a, b) => Number(!a.name) - Number(!b.name) || (a.name ?? a.area_code).localeCompare(b.name ?? b.area_code, 'zh-CN'))
}

export const useLookupStore = defineStore('lookup', () => {
  const found = ref<CustomerFound[]>([])
  const searched = ref(false)
  const areas = ref<ServiceArea[]>([])
  const areasLoaded = ref(false)
  const error = ref<string | null>(null)

  async function findCustomers(text: string): Promise<void> {
    const q = text.trim()
    error.value = null
    if (q.length < 2) {
      found.value = []
      searched.value = false
      return
    }
    try {
      found.value = await unwrap(api.GET('/api/customers', { params: { query: { q } } }))
      searched.value = true
    } catch (e) {
      error.value = e instanceof Error ? e.message : String(e)
    }
  }

  function clear(): void {
    found.value = []
    searched.value = false
  }

  async function loadAreas(): Promise<void> {
    if (areasLoaded.value) return
    try {
      areas.value = (await unwrap(api.GET('/api/service-areas'))) ?? []
      areasLoaded.value = true
    } catch {
      // The address field still takes text and outages show their codes' names once dispatch
      // answers: no error for the agent to act on, the next card asks again.
    }
  }

  function areaName(code: string | null | undefined): string {
    if (!code) return ''
    return areas.value.find((a) => a.area_code === code)?.name ?? code
  }

  return { found, searched, areas, areasLoaded, error, findCustomers, clear, loadAreas, areaName }
})
