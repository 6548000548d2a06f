import { createRouter, createWebHistory } from 'vue-router'
import { useAuthStore } from '@/stores/auth'

// The console serves index.html at each of these paths (services/console main.py APP_PATHS).
export const router = createRouter({
  history: createWebHistory(),
  routes: [
    { path: '/', redirect: '/desk' },
    { path: '/signin', name: 'signin', component: () => import('@/views/SignIn.vue') },
    { path: '/desk', name: 'desk', component: () => import('@/views/AgentDesk.vue') },
    { path: '/supervisor', name: 'supervisor', component: () => import('@/views/SupervisorDesk.vue') },
    { path: '/wallboard', name: 'wallboard', component: () => import('@/views/Wallboard.vue') },
    { path: '/dispatch', name: 'dispatch', component: () => import('@/views/DispatchBoard.vue') },
    { path: '/department', name: 'department', component: () => import('@/views/DepartmentDesk.vue') },
  ],
})

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  if (auth.status === 'unknown') await auth.init()
  if (to.name === 'signin') return auth.status === 'signed-in' ? auth.home : true
  if (auth.status !== 'signed-in') return { name: 'signin', query: { next: to.fullPath } }
  // A department's caseworker has one page; the floor's pages are not theirs.
  if (auth.isCaseworkerOnly) return to.name === 'department' ? true : '/department'
  if (to.name === 'desk' && !auth.isAgent && auth.isSupervisor) return '/supervisor'
  return true
})
