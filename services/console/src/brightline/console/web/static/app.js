// Bootstrap: sign-in, then the softphone (agents) or the supervisor console, the live stream,
// the language switch and the keyboard shortcuts.
import { api, openStream, session } from "./api.js";
import { applyStatic, getLang, setLang, t } from "./i18n.js";
import { mountSoftphone, unmountSoftphone } from "./softphone.js";
import { mountSupervisor, unmountSupervisor } from "./supervisor.js";
import { $, esc, problemText, toast, typing } from "./util.js";

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

async function renderSignIn() {
  unmountSoftphone(); unmountSupervisor();
  view = null;
  const main = $("#main");
  let hint = "";
  try { const h = await api("GET", "/api/sessions/demo-hint"); if (h.demo) hint = t("demo_hint", { pw: h.password }); } catch { /* no hint */ }
  main.innerHTML = `<section class="panel signin"><h2>${esc(t("signin_title"))}</h2>
    <form id="signin-form">
      <label for="username">${esc(t("username"))}</label><input id="username" name="username" autocomplete="username" required>
      <label for="password">${esc(t("password"))}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
      <button type="submit">${esc(t("signin"))}</button>
      <p class="muted" id="signin-error" role="alert"></p>
      ${hint ? `<p class="muted">${esc(hint)}</p>` : ""}
    </form></section>`;
  $("#username").focus();
  $("#signin-form").onsubmit = async (e) => {
    e.preventDefault();
    try {
      const s = await api("POST", "/api/sessions", { username: $("#username").value, password: $("#password").value });
      session.set(s);
      start();
    } catch (error) {
      $("#signin-error").textContent = error.status === 401 ? t("bad_credentials") : problemText(error);
    }
  };
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
$("#signout").onclick = () => { stopStream?.(); stopStream = null; session.clear(); header(); renderSignIn(); };
document.addEventListener("keydown", (event) => {
  if (!typing(document.activeElement) && !event.ctrlKey && !event.metaKey && !event.altKey && event.key.toLowerCase() === "l") {
    $("#lang").click(); return;
  }
  if (view?.onKey(event)) event.preventDefault();
});
setLang(getLang());
// A stored session whose token expired goes back to sign-in.
if (session.get()) api("GET", "/api/me").then(start).catch(() => { session.clear(); header(); renderSignIn(); });
else { header(); renderSignIn(); }
