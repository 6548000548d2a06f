// Everything about who is signed in lives here (and in api/client.ts). Two ways in:
// - the server-side OIDC code flow: /auth/login?next=… sets an HttpOnly cookie; GET /api/me
//   answers; no token ever reaches the page;
// - until that lands, POST /api/sessions with user name and password returns a bearer token,
//   kept in sessionStorage and attached by the API client.
// Switching to the cookie flow alone means deleting `signInWithPassword` and the token.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, connectAuth, unwrap, type Schemas } from '@/api/client'

const TOKEN = 'brightline.token'

export type AuthStatus = 'unknown' | 'signed-in' | 'signed-out'

export const useAuthStore = defineStore('auth', () => {
  const token = ref<string | null>(sessionStorage.getItem(TOKEN))
  const user = ref<Schemas['UserRead'] | null>(null)
  const status = ref<AuthStatus>('unknown')

  const isAgent = computed(() => !!user.value?.roles.includes('agent'))
  const isSupervisor = computed(() => !!user.value?.roles.includes('supervisor'))

  function forget(): void {
    token.value = null
    user.value = null
    sessionStorage.removeItem(TOKEN)
    status.value = 'signed-out'
  }

  connectAuth({ token: () => token.value, unauthorized: forget })

  /** At start: who is signed in (cookie or stored token)? 401 → the sign-in view. */
  async function init(): Promise<void> {
    try {
      user.value = await unwrap(api.GET('/api/me'))
      status.value = 'signed-in'
    } catch {
      forget()
    }
  }

  async function signInWithPassword(username: string, password: string): Promise<void> {
    const session = await unwrap(api.POST('/api/sessions', { body: { username, password } }))
    token.value = session.token
    sessionStorage.setItem(TOKEN, session.token)
    user.value = session.user
    status.value = 'signed-in'
  }

  /** Where the identity provider's sign-in starts; it comes back to `next`. */
  function loginUrl(next: string): string {
    return `/auth/login?next=${encodeURIComponent(next)}`
  }

  function signOut(): void {
    const hadToken = !!token.value
    forget()
    // With the cookie flow the server ends the session (and the provider's).
    if (!hadToken) window.location.assign('/auth/logout')
  }

  return { token, user, status, isAgent, isSupervisor, init, signInWithPassword, loginUrl, signOut, forget }
})
