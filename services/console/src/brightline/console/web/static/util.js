import { t } from "./i18n.js";

export const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => [...root.querySelectorAll(sel)];

export function toast(text, kind = "info") {
  const box = document.getElementById("toast");
  const msg = document.createElement("div");
  msg.className = `msg ${kind}`;
  msg.textContent = text;
  box.append(msg);
  setTimeout(() => msg.remove(), kind === "error" ? 7000 : 4000);
}

export function problemText(error) {
  const b = error?.body;
  if (b?.service && error.status >= 502) return t("unavailable", { svc: b.service });
  const fields = (b?.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
  return [b?.title || error.message, b?.detail, fields].filter(Boolean).join(" — ");
}

export function hhmm(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return d.toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
}

export function since(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

export const typing = (el) => el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
