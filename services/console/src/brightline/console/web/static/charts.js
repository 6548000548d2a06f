// Small inline-SVG charts drawn here (no library, no network): a gauge, bars, a line.
const NS = "http://www.w3.org/2000/svg";
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const pct = (v) => (v == null ? "—" : `${(v * 100).toFixed(1)}%`);

export function gauge(value, { target = null, label = "" } = {}) {
  const v = value == null ? 0 : Math.max(0, Math.min(1, value));
  const r = 60, cx = 80, cy = 76, len = Math.PI * r;
  const color = value == null ? "#c7cfd8" : target != null && value < target ? "#b3261e" : "#1b7f3b";
  const tx = target == null ? "" : (() => {
    const a = Math.PI * (1 - target);
    const x1 = cx + (r - 12) * Math.cos(a), y1 = cy - (r - 12) * Math.sin(a);
    const x2 = cx + (r + 10) * Math.cos(a), y2 = cy - (r + 10) * Math.sin(a);
    return `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="#1d2733" stroke-width="2"/>`;
  })();
  return `<svg class="chart" viewBox="0 0 160 100" role="img" aria-label="${esc(label)}: ${pct(value)}" xmlns="${NS}">
    <path d="M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r} ${cy}" fill="none" stroke="#e6ebf0" stroke-width="14"/>
    <path d="M ${cx - r} ${cy} A ${r} ${r} 0 0 1 ${cx + r} ${cy}" fill="none" stroke="${color}" stroke-width="14"
          stroke-dasharray="${len * v} ${len}"/>
    ${tx}
    <text x="${cx}" y="${cy - 6}" text-anchor="middle" font-size="22" font-weight="700" fill="#1d2733">${pct(value)}</text>
  </svg>`;
}

export function bars(items, { label = "", max = null, color = "#00706b", format = (v) => v } = {}) {
  if (!items.length) return "";
  const w = 320, rowH = 22, h = items.length * rowH + 4, left = 120;
  const top = max ?? Math.max(1, ...items.map((i) => i.value));
  const rows = items.map((item, i) => {
    const bw = ((w - left - 40) * item.value) / top;
    const y = i * rowH + 2;
    return `<text x="${left - 6}" y="${y + 15}" text-anchor="end" font-size="12" fill="#5d6b7a">${esc(item.label)}</text>
      <rect x="${left}" y="${y + 3}" width="${Math.max(bw, 1)}" height="${rowH - 8}" rx="3" fill="${color}"/>
      <text x="${left + bw + 4}" y="${y + 15}" font-size="12" fill="#1d2733">${esc(format(item.value))}</text>`;
  }).join("");
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}" xmlns="${NS}">${rows}</svg>`;
}

export function columns(items, { label = "", target = null } = {}) {
  // items: [{label, value (0..1 or null)}]
  const w = 320, h = 130, base = 108, top = 10, n = Math.max(items.length, 1), slot = (w - 30) / n;
  const y = (v) => base - (base - top) * v;
  const cols = items.map((item, i) => {
    const x = 30 + i * slot + slot * 0.2, bw = slot * 0.6;
    const v = item.value;
    const bar = v == null ? `<rect x="${x}" y="${base - 2}" width="${bw}" height="2" fill="#c7cfd8"/>`
      : `<rect x="${x}" y="${y(v)}" width="${bw}" height="${base - y(v)}" rx="2" fill="${target != null && v < target ? "#b3261e" : "#00706b"}"/>`;
    return `${bar}<text x="${x + bw / 2}" y="${base + 14}" text-anchor="middle" font-size="10" fill="#5d6b7a">${esc(item.label)}</text>
      <text x="${x + bw / 2}" y="${v == null ? base - 6 : y(v) - 3}" text-anchor="middle" font-size="9" fill="#1d2733">${v == null ? "—" : Math.round(v * 100)}</text>`;
  }).join("");
  const t = target == null ? "" : `<line x1="28" x2="${w}" y1="${y(target)}" y2="${y(target)}" stroke="#b25e00" stroke-dasharray="4 3"/>
    <text x="2" y="${y(target) + 4}" font-size="10" fill="#b25e00">${Math.round(target * 100)}%</text>`;
  return `<svg class="chart" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(label)}" xmlns="${NS}">
    <line x1="28" x2="${w}" y1="${base}" y2="${base}" stroke="#d9e0e8"/>${t}${cols}</svg>`;
}
