// The agent softphone: ready / not ready, the ringing call with its 12-second clock, the caller
// card and greeting, the guided script that fills the ticket form, escalation, wrap-up with the
// closing line, and the callback worklist.
import { api, uuid } from "./api.js";
import { t, getLang } from "./i18n.js";
import { $, esc, problemText, toast, typing, hhmm } from "./util.js";

const FIELDS = ["caller_name", "phone", "address", "fault_scope", "fault_started_at", "customer_number", "complaint_subtype",
  "complaint_grade", "anonymous", "reported_party", "praised_party", "description"];
const TYPES = ["repair", "consultation", "service_request", "complaint", "report", "opinion", "suggestion", "praise"];
const LIMIT = 12;

const ph = {
  seat: { state: "offline" }, offer: null, call: null, card: null, greeting: null,
  script: { type: "repair", answers: {}, step: null }, form: {}, recorded: null, closing: null,
  callback: null, tickets: [], idem: null,
};
let timer = null;

export function mountSoftphone(main) {
  main.innerHTML = `
  <div class="softphone">
    <div class="col">
      <section class="panel" id="p-state" aria-labelledby="h-state"></section>
      <section class="panel" id="p-call" aria-labelledby="h-call" aria-live="assertive"></section>
      <section class="panel" id="p-callback" aria-labelledby="h-callback"></section>
    </div>
    <div class="col">
      <section class="panel" id="p-card" aria-labelledby="h-card"></section>
      <section class="panel" id="p-script" aria-labelledby="h-script"></section>
    </div>
    <div class="col">
      <section class="panel" id="p-form" aria-labelledby="h-form"></section>
      <section class="panel" id="p-wrap" aria-labelledby="h-wrap"></section>
      <p class="shortcuts">${esc(t("shortcuts"))}</p>
    </div>
  </div>`;
  clearInterval(timer);
  timer = setInterval(renderClock, 250);
  refreshState();
  renderAll();
  return { onMessage, onKey, rerender: renderAll };
}

async function refreshState() {
  try {
    const seat = await api("GET", "/api/agent/state");
    ph.seat = seat;
    if (seat.offer && !ph.call) ph.offer = seat.offer;
    renderState(); renderCall();
  } catch (e) { toast(problemText(e), "error"); }
}

function onMessage(msg) {
  if (msg.kind === "agent") { ph.seat = { ...ph.seat, ...msg.data }; renderState(); }
  else if (msg.kind === "offer") { ph.offer = msg.data; renderCall(); $("#answer")?.focus(); }
  else if (msg.kind === "offer_withdrawn") { if (ph.offer?.call_id === msg.data.call_id) { ph.offer = null; renderCall(); } }
  else if (msg.kind === "call_ended") { if (ph.call?.call_id === msg.data.call_id) { ph.call.ended = true; loadClosing(); renderCall(); } }
}

function onKey(event) {
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") { event.preventDefault(); recordTicket(); return true; }
  if (typing(document.activeElement) || event.ctrlKey || event.metaKey || event.altKey) return false;
  const k = event.key.toLowerCase();
  if (k === "a" && ph.offer) { answer(); return true; }
  if (k === "r") { setState("ready"); return true; }
  if (k === "n") { setState("not_ready"); return true; }
  if (k === "e" && ph.call) { $("#esc-reason")?.focus(); return true; }
  if (k === "h" && ph.call && !ph.call.ended) { hangUp(); return true; }
  if (k === "c") { takeCallback(); return true; }
  return false;
}

// ------------------------------------------------------------------ state
async function setState(state) {
  try { ph.seat = await api("PUT", "/api/agent/state", { state }); renderState(); }
  catch (e) { toast(problemText(e), "error"); }
}

function renderState() {
  const s = ph.seat.state || "offline";
  $("#p-state").innerHTML = `
    <h2 id="h-state">${esc(t("my_state"))} <span class="pill ${s}" id="my-state" data-state="${s}">${esc(t("state_" + s))}</span></h2>
    <div class="statebar">
      <button type="button" id="btn-ready" ${s === "ready" ? 'aria-pressed="true"' : ""}>${esc(t("ready"))}</button>
      <button type="button" id="btn-not-ready" class="secondary">${esc(t("not_ready"))}</button>
    </div>`;
  $("#btn-ready").onclick = () => setState("ready");
  $("#btn-not-ready").onclick = () => setState("not_ready");
}

// ------------------------------------------------------------------ ringing, answer, clock
function ringSeconds() {
  const c = ph.call || ph.offer;
  if (!c?.rang_at) return 0;
  const end = ph.call?.answered_at ? new Date(ph.call.answered_at) : new Date();
  return Math.max(0, (end - new Date(c.rang_at)) / 1000);
}

function clockSvg(secs) {
  const f = Math.min(secs / LIMIT, 1), r = 26, len = 2 * Math.PI * r;
  const color = secs > LIMIT ? "#b3261e" : secs > 8 ? "#b25e00" : "#1b7f3b";
  return `<svg width="64" height="64" viewBox="0 0 64 64" aria-hidden="true">
    <circle cx="32" cy="32" r="${r}" fill="none" stroke="#e6ebf0" stroke-width="7"/>
    <circle cx="32" cy="32" r="${r}" fill="none" stroke="${color}" stroke-width="7" stroke-dasharray="${len * f} ${len}"
      transform="rotate(-90 32 32)" stroke-linecap="round"/></svg>`;
}

function renderClock() {
  const box = $("#clock");
  if (!box) return;
  const secs = ringSeconds();
  box.classList.toggle("over", secs > LIMIT);
  box.querySelector(".gauge").innerHTML = clockSvg(secs);
  box.querySelector(".secs").textContent = `${secs.toFixed(0)} s`;
  box.querySelector(".rule").textContent = secs > LIMIT ? t("over", { s: LIMIT }) : t("within", { s: LIMIT });
}

function renderCall() {
  const p = $("#p-call");
  if (ph.offer && !ph.call) {
    p.className = "panel ring";
    p.innerHTML = `<h2 id="h-call">${esc(t("incoming"))} <span class="pill ringing">${esc(ph.offer.queue || "95598")}</span></h2>
      <div class="muted">${esc(t("caller_number"))}: <strong id="offer-number">${esc(ph.offer.caller_number || "")}</strong></div>
      <div class="clock" id="clock"><span class="gauge"></span><div><div class="secs"></div><div class="rule muted"></div></div></div>
      <div class="actions"><button type="button" class="big" id="answer">${esc(t("answer"))}</button></div>`;
    $("#answer").onclick = answer;
  } else if (ph.call) {
    p.className = "panel";
    p.innerHTML = `<h2 id="h-call">${esc(ph.call.ended ? t("wrap_up") : t("state_talking"))} <span class="pill ${ph.call.ended ? "wrap_up" : "talking"}">${esc(ph.call.call_id)}</span></h2>
      <div class="clock" id="clock"><span class="gauge"></span><div><div class="secs"></div><div class="rule muted"></div>
      <div class="muted" id="answer-delay">${esc(t("answer_clock"))}: ${ph.call.answer_delay_seconds != null ? ph.call.answer_delay_seconds.toFixed(1) + " s" : "—"}</div></div></div>
      <div class="actions">${ph.call.ended ? "" : `<button type="button" class="secondary" id="hangup">${esc(t("hangup"))}</button>`}</div>`;
    $("#hangup") && ($("#hangup").onclick = hangUp);
  } else {
    p.className = "panel";
    p.innerHTML = `<h2 id="h-call">${esc(t("incoming"))}</h2><p class="muted">${esc(ph.seat.state === "ready" ? t("waiting_calls") : t("not_ready_hint"))}</p>`;
  }
  renderClock();
}

async function answer() {
  const offer = ph.offer;
  if (!offer) return;
  try {
    const r = await api("POST", `/api/agent/calls/${encodeURIComponent(offer.call_id)}/answer`);
    ph.call = { ...offer, ...(r.call || {}), rang_at: r.call?.rang_at || offer.rang_at };
    ph.offer = null; ph.card = r.card; ph.greeting = r.greeting; ph.recorded = null; ph.closing = null;
    ph.idem = uuid();
    ph.form = { phone: offer.caller_number || "" };
    const customer = r.card?.customers?.[0];
    if (customer) {
      Object.assign(ph.form, { caller_name: customer.name || "", address: customer.address || "", customer_id: customer.customer_id });
      if (customer.area_code) ph.form.area_code = customer.area_code;
      if (customer.meter_no) ph.form.meter_no = customer.meter_no;
    }
    for (const p of r.problems || []) toast(p.title, "error");
    ph.script = { type: "repair", answers: {}, step: null };
    renderAll();
    await advance();
    $("#script-input, #script-choices button")?.focus();
  } catch (e) { toast(problemText(e), "error"); refreshState(); }
}

async function hangUp() {
  if (!ph.call) return;
  try { await api("POST", `/api/agent/calls/${encodeURIComponent(ph.call.call_id)}/hangup`); ph.call.ended = true; await loadClosing(); renderCall(); }
  catch (e) { toast(problemText(e), "error"); }
}

// ------------------------------------------------------------------ caller card, greeting
function renderCard() {
  const p = $("#p-card");
  if (!ph.call) { p.innerHTML = `<h2 id="h-card">${esc(t("caller_card"))}</h2><p class="muted">—</p>`; return; }
  const c = ph.card || {}, g = ph.greeting || {};
  const flags = c.flags || {};
  const badges = [flags.repeat_caller && t("repeat_caller"), flags.sensitive_customer && t("sensitive"), flags.harassing_number && t("harassing")]
    .filter(Boolean).map((f) => `<span class="pill flag">${esc(f)}</span>`).join(" ");
  const customers = (c.customers || []).map((x) => `<div><strong>${esc(x.name || "")}</strong> · ${esc(x.customer_id)}<br><span class="muted">${esc(x.address || "")}</span></div>`).join("")
    || `<div class="muted">${esc(t("no_customer"))}</div>`;
  const tickets = (c.open_tickets || []).map((x) => `<li>${esc(x.no)} · ${esc(t("t_" + x.ticket_type))} · ${esc(x.status)}</li>`).join("");
  const outages = (c.active_outages || []).map((o) => `<li>${esc(o.area_codes.join(", "))} ${o.expected_restore_at ? "→ " + esc(hhmm(o.expected_restore_at)) : ""}</li>`).join("");
  p.innerHTML = `<h2 id="h-card">${esc(t("caller_card"))} <span>${badges}</span></h2>
    <div class="muted">${esc(t("caller_number"))}: <strong>${esc(c.caller_number || ph.call.caller_number || "")}</strong></div>
    ${customers}
    ${tickets ? `<div class="muted">${esc(t("open_tickets"))}</div><ul>${tickets}</ul>` : ""}
    ${outages ? `<div class="muted">${esc(t("outages"))}</div><ul>${outages}</ul>` : ""}
    <div class="muted" style="margin-top:6px">${esc(t("greeting"))}</div>
    <div class="line" id="greeting-line">${esc(g.opening || "")}</div>
    ${(g.announcements || []).length ? `<div class="muted">${esc(t("announcements"))}</div>${g.announcements.map((a) => `<div class="line">${esc(a)}</div>`).join("")}` : ""}`;
}

// ------------------------------------------------------------------ guided script
async function advance() {
  try {
    ph.script.step = await api("POST", `/api/scripts/${ph.script.type}/next`, { answers: ph.script.answers, language: getLang() === "en" ? "en" : "zh" });
  } catch (e) { toast(problemText(e), "error"); }
  renderScript(); renderForm();
}

function answerStep(value) {
  const step = ph.script.step;
  if (!step?.key) return;
  ph.script.answers[step.key] = value;
  if (step.is_field) ph.form[step.key] = value;
  advance().then(() => $("#script-input, #script-choices button, #record")?.focus());
}

function renderScript() {
  const p = $("#p-script");
  const step = ph.script.step;
  const typeOptions = TYPES.map((x) => `<option value="${x}" ${x === ph.script.type ? "selected" : ""}>${esc(t("t_" + x))}</option>`).join("");
  let body = "";
  if (!ph.call) body = `<p class="muted">—</p>`;
  else if (step) {
    const isTime = step.key === "fault_started_at";
    const input = step.done ? "" : step.choices.length
      ? `<div class="choices" id="script-choices" role="group" aria-label="${esc(step.prompt)}">${step.choices.map((c, i) =>
          `<button type="button" data-i="${i}">${esc(c.label)}</button>`).join("")}</div>`
      : `<form id="script-form"><input id="script-input" ${isTime ? 'type="datetime-local"' : 'type="text"'} aria-label="${esc(t("f_" + step.key))}"
           value="${esc(isTime ? "" : ph.form[step.key] ?? "")}" ${step.optional || isTime ? "" : "required"}>
         <div class="actions"><button type="submit">${esc(t("next"))}</button></div></form>`;
    body = `<div class="prompt ${step.agent_only ? "agent-only" : ""}" id="script-prompt">${esc(step.prompt)}</div>${input}
      ${step.done && step.outcome ? `<div class="line" id="script-outcome"><strong>${esc(t("done_outcome"))}:</strong> ${esc(step.outcome.note)}</div>` : ""}
      <div class="path">${esc(step.script)} · ${esc(step.path.join(" → "))}</div>`;
  }
  p.innerHTML = `<h2 id="h-script">${esc(t("script"))}
      <select id="script-type" aria-label="${esc(t("ticket_type"))}" style="width:auto" ${ph.call ? "" : "disabled"}>${typeOptions}</select></h2>${body}`;
  $("#script-type").onchange = (e) => { ph.script = { type: e.target.value, answers: {}, step: null }; advance(); };
  for (const b of p.querySelectorAll("#script-choices button")) b.onclick = () => answerStep(step.choices[Number(b.dataset.i)].value);
  const form = $("#script-form");
  if (form) form.onsubmit = (e) => {
    e.preventDefault();
    const raw = $("#script-input").value.trim();
    if (step.key === "fault_started_at") answerStep(raw ? new Date(raw).toISOString() : (step.optional ? null : new Date().toISOString()));
    else answerStep(raw || null);
  };
}

// ------------------------------------------------------------------ ticket form
function shownValue(f) {
  const v = ph.form[f];
  if (v == null) return "";
  if (f === "fault_started_at") return hhmm(v);
  if (f === "fault_scope") return t("scope_" + v);
  return v;
}

function outcomeType() {
  const o = ph.script.step?.outcome;
  return o && o.ticket_type && (o.kind === "create_ticket" || o.kind === "link_to_existing") ? o.ticket_type : null;
}

function renderForm() {
  const p = $("#p-form");
  const required = new Set(ph.script.step?.fields_required || []);
  const shown = FIELDS.filter((f) => f in ph.form || required.has(f) || ["caller_name", "phone", "address", "description"].includes(f));
  const type = outcomeType();
  const recordable = ph.call && type && !ph.recorded;
  p.innerHTML = `<h2 id="h-form">${esc(t("ticket_form"))} ${type ? `<span class="pill">${esc(t("t_" + type))}</span>` : ""}</h2>
    <form id="ticket-form" class="formgrid">
      ${shown.map((f) => `<div class="${f === "description" || f === "address" ? "wide" : ""} ${required.has(f) ? "field-required" : ""}">
        <label for="f-${f}">${esc(t("f_" + f))}</label>
        ${f === "description" ? `<textarea id="f-${f}" name="${f}" rows="2">${esc(ph.form[f] ?? "")}</textarea>`
          : `<input id="f-${f}" name="${f}" value="${esc(shownValue(f))}" ${f === "fault_started_at" || f === "fault_scope" ? "readonly" : ""}>`}
      </div>`).join("")}
    </form>
    <div class="actions">
      <button type="button" id="record" ${recordable ? "" : "disabled"}>${esc(t("record"))}</button>
    </div>
    ${ph.recorded ? `<div class="line" id="recorded">${esc(t("recorded", { no: ph.recorded.no }))}${ph.recorded.linked ? "<br>" + esc(ph.recorded.linked.message) : ""}</div>` : ""}
    <div class="actions" style="margin-top:10px">
      <select id="esc-reason" aria-label="${esc(t("escalate_reason"))}" style="width:auto" ${ph.call ? "" : "disabled"}>
        ${["agitated", "harassing", "complex", "other"].map((r) => `<option value="${r}">${esc(t("reason_" + r))}</option>`).join("")}
      </select>
      <button type="button" class="danger" id="escalate" ${ph.call ? "" : "disabled"}>${esc(t("escalate"))}</button>
    </div>`;
  for (const el of p.querySelectorAll("#ticket-form input, #ticket-form textarea")) el.oninput = () => { if (!el.readOnly) ph.form[el.name] = el.value; };
  $("#record").onclick = recordTicket;
  $("#escalate").onclick = escalate;
}

async function recordTicket() {
  const type = outcomeType();
  if (!ph.call || !type || ph.recorded) return;
  const body = { ticket_type: type, call_id: ph.call.call_id, script: ph.script.step.script };
  for (const [k, v] of Object.entries(ph.form)) if (v !== "" && v != null) body[k] = v;
  if (!body.description) body.description = ph.script.step.outcome?.note || t("t_" + type);
  try {
    ph.recorded = await api("POST", "/api/tickets", body, { "Idempotency-Key": ph.idem });
    toast(t("recorded", { no: ph.recorded.no }));
    renderForm(); loadTickets();
    $("#record")?.blur(); $("#hangup")?.focus();
  } catch (e) { toast(problemText(e), "error"); }
}

async function escalate() {
  if (!ph.call) return;
  try {
    await api("POST", "/api/escalations", { kind: "help", reason: $("#esc-reason").value, call_id: ph.call.call_id,
      ticket_id: ph.recorded?.id, caller_number: ph.call.caller_number || undefined });
    toast(t("escalated"));
  } catch (e) { toast(problemText(e), "error"); }
}

// ------------------------------------------------------------------ wrap-up
async function loadClosing() {
  try {
    const type = ph.recorded?.ticket_type;
    const closingFor = type && ["complaint", "report", "repair", "suggestion", "opinion", "praise"].includes(type) ? type : "general";
    ph.closing = await api("GET", `/api/closing?closing_for=${closingFor}&language=${getLang() === "en" ? "en" : "zh"}` + (ph.call ? `&call_id=${encodeURIComponent(ph.call.call_id)}` : ""));
  } catch {
    try { ph.closing = await api("GET", `/api/closing?language=${getLang() === "en" ? "en" : "zh"}`); } catch (e) { toast(problemText(e), "error"); }
  }
  renderWrap();
}

function renderWrap() {
  const p = $("#p-wrap");
  const on = ph.call?.ended;
  p.innerHTML = `<h2 id="h-wrap">${esc(t("wrap_up"))}</h2>
    ${on ? `<div class="muted">${esc(t("closing"))}</div><div class="line" id="closing-line">${esc(ph.closing?.closing || "")}</div>
      ${ph.closing?.closing_reminder ? `<div class="muted">${esc(ph.closing.closing_reminder)}</div>` : ""}
      <div class="actions"><button type="button" id="wrap-ready">${esc(t("wrap_ready"))}</button>
      <button type="button" class="secondary" id="wrap-break">${esc(t("wrap_not_ready"))}</button></div>`
    : `<p class="muted">—</p>`}
    <h2 style="margin-top:10px">${esc(t("my_tickets"))}</h2>
    <ul class="feed" id="my-tickets">${ph.tickets.slice(0, 6).map((x) => `<li><span>${esc(x.no)}</span><span>${esc(t("t_" + x.ticket_type))}</span><span class="muted">${esc(x.status)}</span></li>`).join("")}</ul>`;
  if (on) {
    $("#wrap-ready").onclick = () => wrapUp(true);
    $("#wrap-break").onclick = () => wrapUp(false);
  }
}

async function wrapUp(ready) {
  try {
    ph.seat = await api("POST", "/api/agent/wrap-up", { ready });
  } catch (e) { toast(problemText(e), "error"); }
  ph.call = null; ph.card = null; ph.greeting = null; ph.form = {}; ph.recorded = null; ph.closing = null;
  ph.script = { type: "repair", answers: {}, step: null };
  renderAll();
  refreshState();
}

async function loadTickets() {
  try { ph.tickets = await api("GET", "/api/tickets/mine"); } catch { /* shown empty */ }
  renderWrap();
}

// ------------------------------------------------------------------ callback worklist
async function takeCallback() {
  try { ph.callback = await api("POST", "/api/callbacks/next"); renderCallback(); $("#cb-outcome")?.focus(); }
  catch (e) { toast(problemText(e), "error"); }
}

function renderCallback() {
  const p = $("#p-callback");
  const cb = ph.callback;
  let body = "";
  if (cb && cb.task) {
    const script = cb.script || {};
    const steps = (script.steps || []).map((s) => `<li>${esc(typeof s === "string" ? s : s[getLang()] || s.zh || s.text || JSON.stringify(s))}</li>`).join("");
    body = `<div><strong>${esc(cb.contact?.phone || "")}</strong> ${esc(cb.contact?.customer_name || "")} · ${esc(t("t_" + cb.task.ticket_type))}</div>
      <div class="muted">${esc(t("due"))}: ${esc(hhmm(cb.task.due_at))}</div>${steps ? `<ol>${steps}</ol>` : ""}
      <form id="cb-form">
        <label for="cb-outcome">${esc(t("callback_outcome"))}</label>
        <select id="cb-outcome">${["satisfied", "basically_satisfied", "unsatisfied", "unreachable", "declined"].map((o) => `<option value="${o}">${esc(t(o))}</option>`).join("")}</select>
        <label for="cb-reason">${esc(t("reason"))}</label><input id="cb-reason">
        <label for="cb-words">${esc(t("customer_words"))}</label><input id="cb-words">
        <div class="actions"><button type="submit">${esc(t("save"))}</button></div>
      </form>`;
  } else if (cb) body = `<p class="muted">${esc(t("no_callback"))}</p>`;
  p.innerHTML = `<h2 id="h-callback">${esc(t("callbacks"))} <button type="button" class="secondary" id="cb-take">${esc(t("take_callback"))}</button></h2>${body}`;
  $("#cb-take").onclick = takeCallback;
  const form = $("#cb-form");
  if (form) form.onsubmit = async (e) => {
    e.preventDefault();
    try {
      await api("POST", `/api/callbacks/${encodeURIComponent(cb.task.id)}/outcome`, {
        outcome: $("#cb-outcome").value, reason: $("#cb-reason").value || undefined, customer_words: $("#cb-words").value || undefined,
      }, { "Idempotency-Key": uuid() });
      toast(t("outcome_saved")); ph.callback = null; renderCallback();
    } catch (err) { toast(problemText(err), "error"); }
  };
}

function renderAll() {
  renderState(); renderCall(); renderCard(); renderScript(); renderForm(); renderWrap(); renderCallback();
}

export function unmountSoftphone() { clearInterval(timer); }
export { loadTickets };
