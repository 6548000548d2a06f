// The supervisor console: live queues and agent states, escalations, the feed and latest tickets
// (floor tab); the SLA board with charts and the breach list with chase (SLA tab); crews, work
// orders and outages (repair tab).
import { api } from "./api.js";
import { columns, bars, gauge } from "./charts.js";
import { t } from "./i18n.js";
import { $, esc, hhmm, problemText, since, toast, typing } from "./util.js";

const sv = { tab: "floor", floor: { queues: [], agents: [], waiting: [] }, feed: [], tickets: [], escalations: [], board: null, breaches: [], repair: null };
let ticker = null;

export function mountSupervisor(main) {
  main.innerHTML = `
    <div class="tabs" role="tablist" aria-label="${esc(t("sup_title"))}">
      ${["floor", "sla", "repair"].map((x, i) => `<button type="button" role="tab" id="tab-${x}" aria-controls="view" aria-selected="${sv.tab === x}">${i + 1} · ${esc(t(x === "floor" ? "tab_console" : x === "sla" ? "tab_sla" : "tab_repair"))}</button>`).join("")}
    </div>
    <div id="view" role="tabpanel"></div>`;
  for (const x of ["floor", "sla", "repair"]) $(`#tab-${x}`).onclick = () => switchTab(x);
  clearInterval(ticker);
  ticker = setInterval(() => { if (sv.tab === "floor") renderAgents(); }, 1000);
  loadAll();
  switchTab(sv.tab);
  return { onMessage, onKey, rerender: () => mountSupervisor(main) };
}

function switchTab(tab) {
  sv.tab = tab;
  for (const x of ["floor", "sla", "repair"]) $(`#tab-${x}`).setAttribute("aria-selected", String(x === tab));
  const view = $("#view");
  if (tab === "floor") {
    view.className = "supervisor";
    view.innerHTML = `<section class="panel" id="s-queues"></section><section class="panel span2" id="s-agents"></section>
      <section class="panel" id="s-escalations"></section><section class="panel" id="s-tickets"></section><section class="panel" id="s-feed"></section>`;
    renderQueues(); renderAgents(); renderEscalations(); renderTickets(); renderFeed();
  } else if (tab === "sla") {
    view.className = "supervisor sla";
    view.innerHTML = `<section class="panel" id="c-answer"></section><section class="panel" id="c-callback"></section><section class="panel" id="c-breaches"></section>
      <section class="panel span3" id="s-breaches"></section>`;
    renderBoard(); renderBreaches(); loadBoard();
  } else {
    view.className = "supervisor repair";
    view.innerHTML = `<section class="panel" id="r-crews"></section><section class="panel" id="r-orders"></section>`;
    renderRepair(); loadRepair();
  }
}

async function loadAll() {
  try { sv.floor = await api("GET", "/api/supervisor/floor"); renderQueues(); renderAgents(); } catch (e) { toast(problemText(e), "error"); }
  try {
    sv.feed = await api("GET", "/api/supervisor/feed");
    sv.tickets = sv.feed.filter((m) => m.type === "ticket.recorded").map((m) => m.data);
    renderFeed(); renderTickets();
  } catch (e) { toast(problemText(e), "error"); }
  loadEscalations();
}

async function loadEscalations() {
  try { sv.escalations = await api("GET", "/api/supervisor/escalations"); } catch (e) { sv.escalations = []; toast(problemText(e), "error"); }
  renderEscalations();
}

async function loadBoard() {
  try { sv.board = await api("GET", "/api/supervisor/sla-board"); } catch (e) { toast(problemText(e), "error"); }
  renderBoard();
  try { sv.breaches = await api("GET", "/api/supervisor/breaches"); } catch (e) { toast(problemText(e), "error"); }
  renderBreaches();
}

async function loadRepair() {
  try { sv.repair = await api("GET", "/api/supervisor/repair-board"); } catch (e) { toast(problemText(e), "error"); }
  renderRepair();
}

let reloadSoon = null;
function later(fn, ms = 800) { clearTimeout(reloadSoon); reloadSoon = setTimeout(fn, ms); }

function onMessage(msg) {
  if (msg.kind === "floor") { sv.floor = msg.floor; if (sv.tab === "floor") { renderQueues(); renderAgents(); } }
  else if (msg.kind === "agent") {
    const i = sv.floor.agents.findIndex((a) => a.agent_id === msg.data.agent_id);
    if (i >= 0) sv.floor.agents[i] = msg.data; else sv.floor.agents.push(msg.data);
    if (sv.tab === "floor") renderAgents();
  } else if (msg.kind === "event") {
    sv.feed.unshift(msg); sv.feed.length = Math.min(sv.feed.length, 200);
    if (msg.type === "ticket.recorded") { sv.tickets.unshift(msg.data); if (sv.tab === "floor") renderTickets(); }
    if (msg.type.startsWith("escalation.")) loadEscalations();
    if (sv.tab === "floor") renderFeed();
    if (sv.tab === "repair" && (msg.type.startsWith("work-order.") || msg.type.startsWith("outage."))) later(loadRepair);
    if (sv.tab === "sla" && (msg.type.startsWith("deadline.") || msg.type.startsWith("call."))) later(loadBoard, 2000);
  } else if (msg.kind === "chase" && sv.tab === "sla") later(loadBoard, 300);
}

function onKey(event) {
  if (typing(document.activeElement) || event.ctrlKey || event.metaKey || event.altKey) return false;
  const tabs = { 1: "floor", 2: "sla", 3: "repair" };
  if (tabs[event.key]) { switchTab(tabs[event.key]); $(`#tab-${tabs[event.key]}`).focus(); return true; }
  return false;
}

// ------------------------------------------------------------------ floor tab
function renderQueues() {
  const p = $("#s-queues");
  if (!p) return;
  const rows = sv.floor.queues.map((q) => `<tr><td>${esc(q.queue)}</td><td>${q.waiting}</td><td>${q.talking}</td><td>${Math.round(q.longest_wait_seconds)} s</td></tr>`).join("");
  p.innerHTML = `<h2>${esc(t("queues"))}</h2><table id="queues-table"><thead><tr><th>${esc(t("queue"))}</th><th>${esc(t("waiting"))}</th><th>${esc(t("talking"))}</th><th>${esc(t("longest"))}</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="4" class="muted">${esc(t("no_data"))}</td></tr>`}</tbody></table>`;
}

function renderAgents() {
  const p = $("#s-agents");
  if (!p) return;
  const rows = sv.floor.agents.map((a) => `<tr data-agent="${esc(a.agent_id)}"><td>${esc(a.name)} <span class="muted">${esc(a.staff_no)}</span></td>
    <td><span class="pill ${a.state}">${esc(t("state_" + a.state))}</span></td><td>${esc(since(a.since))}</td><td>${esc(a.call_id || "")}</td><td>${a.answered_today}</td></tr>`).join("");
  p.innerHTML = `<h2>${esc(t("agents"))}</h2><table id="agents-table"><thead><tr><th>${esc(t("agent"))}</th><th>${esc(t("state"))}</th><th>${esc(t("since"))}</th><th>${esc(t("call"))}</th><th>${esc(t("answered_today"))}</th></tr></thead>
    <tbody>${rows || `<tr><td colspan="5" class="muted">${esc(t("no_data"))}</td></tr>`}</tbody></table>`;
}

function renderEscalations() {
  const p = $("#s-escalations");
  if (!p) return;
  const items = sv.escalations.map((e) => `<div class="esc" data-escalation="${esc(e.id)}">
      <div><strong>${esc(t("reason_" + e.reason))}</strong> · ${esc(e.agent_id)} · <span class="muted">${esc(hhmm(e.requested_at))}</span> <span class="pill">${esc(e.status)}</span></div>
      ${e.note ? `<div class="muted">${esc(e.note)}</div>` : ""}
      <div class="actions">${["accepted", "taken_over", "marked_harassing", "declined"].map((o) =>
        `<button type="button" data-outcome="${o}" class="${o === "declined" ? "secondary" : ""}">${esc(t({ accepted: "accept", taken_over: "take_over", marked_harassing: "mark_harassing", declined: "decline" }[o]))}</button>`).join("")}</div>
    </div>`).join("");
  p.innerHTML = `<h2>${esc(t("escalations"))} <span class="pill">${sv.escalations.length}</span></h2>${items || `<p class="muted">${esc(t("no_escalations"))}</p>`}`;
  for (const b of p.querySelectorAll("button[data-outcome]")) b.onclick = async () => {
    const id = b.closest("[data-escalation]").dataset.escalation;
    try { await api("POST", `/api/supervisor/escalations/${encodeURIComponent(id)}/resolution`, { outcome: b.dataset.outcome }); loadEscalations(); }
    catch (e) { toast(problemText(e), "error"); }
  };
}

function renderTickets() {
  const p = $("#s-tickets");
  if (!p) return;
  p.innerHTML = `<h2>${esc(t("recent_tickets_board"))}</h2><table id="tickets-table"><thead><tr><th>${esc(t("ticket"))}</th><th>${esc(t("ticket_type"))}</th><th>${esc(t("agent"))}</th><th></th></tr></thead>
    <tbody>${sv.tickets.slice(0, 30).map((x) => `<tr data-ticket="${esc(x.ticket_id)}"><td>${esc(x.ticket_no)}</td><td>${esc(t("t_" + x.ticket_type))}</td><td>${esc(x.first_ask_owner)}</td><td class="muted">${esc(hhmm(x.recorded_at))}</td></tr>`).join("")
      || `<tr><td colspan="4" class="muted">${esc(t("no_data"))}</td></tr>`}</tbody></table>`;
}

function renderFeed() {
  const p = $("#s-feed");
  if (!p) return;
  p.innerHTML = `<h2>${esc(t("feed"))}</h2><ul class="feed" id="feed">${sv.feed.slice(0, 40).map((m) =>
    `<li><time>${esc(hhmm(m.time))}</time><span>${esc(t("ev_" + m.type.replace(".", "_")))}</span><span class="muted">${esc(m.data.ticket_no || m.data.status || m.data.limit_key || m.data.queue || "")}</span></li>`).join("")}</ul>`;
}

// ------------------------------------------------------------------ SLA tab
const limitLabel = (k) => k;

function renderBoard() {
  const b = sv.board;
  const a = $("#c-answer"), c = $("#c-callback"), br = $("#c-breaches");
  if (!a) return;
  const today = b?.answer?.today;
  a.innerHTML = `<h2>${esc(t("answered_12s"))} <span class="muted">${today ? `${today.answered}/${today.offered}` : ""}</span></h2>
    <div class="gauge-box" id="chart-answer">${gauge(today?.within ?? null, { target: 0.9, label: t("answered_12s") })}</div>
    <div class="muted">${esc(t("answered_12s_week"))}</div>
    <div id="chart-answer-week">${b?.answer ? columns(b.answer.days.map((d) => ({ label: d.day.slice(5), value: d.within })), { label: t("answered_12s_week"), target: 0.9 }) : ""}</div>`;
  const month = b?.callback_month;
  const rate = b?.callback_rate_month ?? (month && month.finished ? month.called_back / month.finished : null);
  const target = month?.target ?? 0.9;
  c.innerHTML = `<h2>${esc(t("callback_rate"))} <span class="muted">${esc(t("target", { t: Math.round(target * 100) + "%" }))}</span></h2>
    <div class="gauge-box" id="chart-callback">${gauge(rate, { target, label: t("callback_rate") })}</div>
    <div id="chart-callback-days">${b?.callback_days?.length ? columns(b.callback_days.slice(-10).map((d) => ({ label: d.day.slice(5), value: d.rate })), { label: t("callback_rate"), target }) : `<p class="muted">${esc(t("no_data"))}</p>`}</div>`;
  const by = b?.breaches_by_type || [];
  br.innerHTML = `<h2>${esc(t("breaches_by_type"))} <span class="pill">${b?.open_breaches ?? 0}</span></h2>
    <div id="chart-breaches">${by.length ? bars(by.map((x) => ({ label: limitLabel(x.limit_key), value: x.count })), { label: t("breaches_by_type"), color: "#b3261e" }) : `<p class="muted">${esc(t("no_data"))}</p>`}</div>
    ${(b?.problems || []).map((p) => `<div class="muted">${esc(t("unavailable", { svc: p.service || "" }))}</div>`).join("")}`;
}

function renderBreaches() {
  const p = $("#s-breaches");
  if (!p) return;
  p.innerHTML = `<h2>${esc(t("breaches"))} <button type="button" class="secondary" id="reload-board">${esc(t("refresh"))}</button></h2>
    <table id="breaches-table"><thead><tr><th>${esc(t("limit"))}</th><th>${esc(t("ticket"))}</th><th>${esc(t("due"))}</th><th>${esc(t("state"))}</th><th></th></tr></thead>
    <tbody>${sv.breaches.map((x) => `<tr data-deadline="${esc(x.id)}"><td>${esc(x.limit_key)}</td><td>${esc(x.ticket_id || x.subject_id)}</td>
      <td>${esc(hhmm(x.due_at))}</td><td>${x.chases ? esc(t("chased", { n: x.chases })) : ""}</td>
      <td><button type="button" data-chase="${esc(x.id)}">${esc(t("chase"))}</button></td></tr>`).join("")
      || `<tr><td colspan="5" class="muted">${esc(t("no_data"))}</td></tr>`}</tbody></table>`;
  $("#reload-board").onclick = loadBoard;
  for (const b of p.querySelectorAll("button[data-chase]")) b.onclick = async () => {
    const row = sv.breaches.find((x) => x.id === b.dataset.chase);
    try {
      await api("POST", `/api/supervisor/breaches/${encodeURIComponent(row.id)}/chase`, { ticket_id: row.ticket_id, limit_key: row.limit_key });
      row.chases = (row.chases || 0) + 1; renderBreaches();
    } catch (e) { toast(problemText(e), "error"); }
  };
}

// ------------------------------------------------------------------ repair tab
function renderRepair() {
  const r = sv.repair || {};
  const crews = $("#r-crews"), orders = $("#r-orders");
  if (!crews) return;
  crews.innerHTML = `<h2>${esc(t("crews"))}</h2><table id="crews-table"><thead><tr><th>${esc(t("crew"))}</th><th>${esc(t("unit"))}</th><th>${esc(t("state"))}</th><th>${esc(t("open_orders"))}</th><th></th></tr></thead>
    <tbody>${(r.crews || []).map((c) => `<tr><td>${esc(c.name)}</td><td>${esc(c.unit_id)}</td><td><span class="pill ${c.on_duty ? "ready" : "not_ready"}">${esc(t(c.on_duty ? "on_duty" : "off_duty"))}</span></td>
      <td>${c.open_orders}</td><td class="muted">${c.latitude != null ? `${c.latitude.toFixed(3)}, ${c.longitude.toFixed(3)}` : ""}</td></tr>`).join("")
      || `<tr><td colspan="5" class="muted">${esc(t("no_data"))}</td></tr>`}</tbody></table>
    ${(r.outages || []).length ? `<h2 style="margin-top:10px">${esc(t("outages"))}</h2><ul>${r.outages.map((o) => `<li>${esc(o.id.slice(0, 8))} · ${esc(o.status)} · ${o.linked_ticket_ids.length}</li>`).join("")}</ul>` : ""}
    ${(r.problems || []).map((p) => `<div class="muted">${esc(t("unavailable", { svc: p.service || "" }))}</div>`).join("")}`;
  orders.innerHTML = `<h2>${esc(t("orders"))}</h2><table id="orders-table"><thead><tr><th>${esc(t("ticket"))}</th><th>${esc(t("unit"))}</th><th>${esc(t("crew"))}</th><th>${esc(t("status"))}</th><th></th></tr></thead>
    <tbody>${(r.orders || []).map((o) => `<tr data-ticket="${esc(o.ticket_id)}"><td>${esc(o.ticket_id.slice(0, 8))}</td><td>${esc(o.unit_id)}</td><td>${esc(o.crew_id || "")}</td>
      <td><span class="pill">${esc(o.status)}</span></td><td class="muted">${esc(hhmm(o.updated_at || o.created_at))}</td></tr>`).join("")
      || `<tr><td colspan="5" class="muted">${esc(t("no_data"))}</td></tr>`}</tbody></table>`;
}

export function unmountSupervisor() { clearInterval(ticker); }
