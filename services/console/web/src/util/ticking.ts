// The clock a page counts its limits down by, and the list it keeps fresh while it is shown.
import { onBeforeUnmount, onMounted, ref, type Ref } from 'vue'

/** `now`, moved every second while the component is shown; `load` run when it is shown and again
 * every `reloadEvery` ms (others change the list meanwhile: transfers, replies, takes). */
export function useTicking(load: () => Promise<void>, reloadEvery: number): Ref<number> {
  const now = ref(Date.now())
  const timers: ReturnType<typeof setInterval>[] = []
  onMounted(() => {
    void load()
    timers.push(setInterval(() => (now.value = Date.now()), 1000))
    timers.push(setInterval(() => void load(), reloadEvery))
  })
  onBeforeUnmount(() => timers.forEach((timer) => clearInterval(timer)))
  return now
}
