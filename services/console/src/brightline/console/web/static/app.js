// Bootstrap: sign-in, then the softphone (agents) or the supervisor console, the live stream,
// the language switch and the keyboard shortcuts.
import { api, openStream, session } from "./api.js";
import { applyStatic, getLang, setLang, t } from "./i18n.js";
import { mountSoftphone, unmountSoftphone } from "./softphone.js";
import { mountSupervisor, unmountSupervisor } from "./supervisor.js";
import { $, esc, toast, typing } from "./util.js";

let view = null;
let stopStream = null;

function header() {
  const s = session.get();
  $("#who").textContent = s ? `${s.user.name} · ${s.user.staff_no || ""} · ${s.user.roles.map((r) => r === "supervisor" ? (getLang() === "zh" ? "值班长" : "Supervisor") : (getLang() === "zh" ? "坐席" : "Agent")).join("/")}` : "";
  $("#signout").hidden = !s;
  $("#lang").textContent = getLang() === "zh" ? "EN" : "中文";
  document.title = getLang() === "zh" ? "光明服务 95598 坐席工作台" : "Bright Service 95598 console";
  applyStatic();
}

function renderSignIn() {
  // Sign-in is the identity provider's login page (authorization code + PKCE through the BFF).
  unmountSoftphone(); unmountSupervisor();
  view = null;
  $("#main").innerHTML = `<section class="panel signin"><h2>${esc(t("signin_title"))}</h2>
    <p><a class="button" id="signin-link" href="/auth/login?next=/">${esc(t("signin"))}</a></p></section>`;
}

function start() {
  header();
  const s = session.get();
  if (!s) { renderSignIn(); return; }
  const main = $("#main");
  view = s.user.roles.includes("supervisor") ? mountSupervisor(main) : mountSoftphone(main);
  stopStream?.();
  stopStream = openStream((msg) => view?.onMessage(msg), (on) => {
    const c = $("#conn"); c.dataset.state = on ? "on" : "off"; c.textContent = t(on ? "live_on" : "live_off");
  });
}

$("#lang").onclick = () => { setLang(getLang() === "zh" ? "en" : "zh"); header(); if (view) view.rerender(); else renderSignIn(); };
$("#signout").onclick = () => { stopStream?.(); stopStream = null; session.clear(); window.location.assign("/auth/logout"); };
document.addEventListener("keydown", (event) => {
  if (!typing(document.activeElement) && !event.ctrlKey && !event.metaKey && !event.altKey && event.key.toLowerCase() === "l") {
    $("#lang").click(); return;
  }
  if (view?.onKey(event)) event.preventDefault();
});
setLang(getLang());
// The cookie's session, if any: who is signed in; otherwise the sign-in link.
api("GET", "/api/me").then((user) => { session.set({ user }); start(); }).catch(() => { session.clear(); header(); renderSignIn(); });
