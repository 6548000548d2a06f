// Everything about who is signed in lives here (and in api/client.ts). The console signs people
// in with the server-side OIDC code flow: /auth/login?next=… goes to the identity provider and
// comes back with an HttpOnly session cookie; GET /api/me says who it is. No token ever reaches
// the page (the API client sends the cookie, nothing else).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, connectAuth, unwrap, type Schemas } from '@/api/client'

export type AuthStatus = 'unknown' | 'signed-in' | 'signed-out'

export const useAuthStore = defineStore('auth', () => {
  const user = ref<Schemas['UserRead'] | null>(null)
  const status = ref<AuthStatus>('unknown')

  const isAgent = computed(() => !!user.value?.roles.includes('agent'))
  const isSupervisor = computed(() => !!user.value?.roles.includes('supervisor'))
  // A department's caseworker (承办部门) and nothing on the floor: the department desk only.
  const isCaseworkerOnly = computed(
    () => !!user.value?.roles.includes('caseworker') && !isAgent.value && !isSupervisor.value,
  )
  /** The page a signed-in user starts on. */
  const home = computed(() => (isCaseworkerOnly.value ? '/department' : isSupervisor.value && !isAgent.value ? '/supervisor' : '/desk'))

  function forget(): void {
    user.value = null
    status.value = 'signed-out'
  }

  connectAuth({ unauthorized: forget })

  /** At start: who is signed in (the session cookie)? 401 → the sign-in view. */
  async function init(): Promise<void> {
    try {
      user.value = await unwrap(api.GET('/api/me'))
      status.value = 'signed-in'
    } catch {
      forget()
    }
  }

  /** Where the identity provider's sign-in starts; it comes back to `next`. */
  function loginUrl(next: string): string {
    return `/auth/login?next=${encodeURIComponent(next)}`
  }

  /** The server ends the session and the provider's, then sends the browser back here. */
  function signOut(): void {
    forget()
    window.location.assign('/auth/logout')
  }

  return { user, status, isAgent, isSupervisor, isCaseworkerOnly, home, init, loginUrl, signOut, forget }
})
