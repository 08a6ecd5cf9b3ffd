// The dashboard: signs in with an admin, marketer or analyst key (kept in
// this tab's sessionStorage) and offers only what the key's role may do.
"use strict";

const VIEWS = [
  { id: "overview", label: "Overview", roles: ["admin", "marketer", "analyst"] },
  { id: "campaigns", label: "Campaigns", roles: ["admin", "marketer", "analyst"] },
  { id: "rules", label: "Rules", roles: ["admin", "marketer", "analyst"] },
  { id: "tiers", label: "Tiers", roles: ["admin", "marketer", "analyst"] },
  { id: "segments", label: "Segments", roles: ["admin", "marketer", "analyst"] },
  { id: "members", label: "Members", roles: ["admin", "marketer", "analyst"] },
  { id: "audit", label: "Audit", roles: ["admin"] },
];
let key = sessionStorage.getItem("fidelis.key") || "";
let session = null, charts = [], editing = null;

function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined && text !== null) e.textContent = text; if (cls) e.className = cls; return e; }
function row(...cells) { const tr = el("tr"); for (const c of cells) { const td = el("td"); if (c instanceof Node) td.append(c); else td.textContent = c ?? ""; tr.append(td); } return tr; }
function canWrite() { return session && (session.role === "admin" || session.role === "marketer"); }
function when(iso) { return iso ? new Date(iso).toLocaleString() : ""; }

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" } });
  const body = (res.headers.get("Content-Type") || "").startsWith("application/json") ? await res.json() : await res.text();
  if (!res.ok) { const e = new Error(body.error ? body.error.message : "HTTP " + res.status); e.body = body; throw e; }
  return body;
}
function problem(e) { $("problem").textContent = e ? e.message : ""; $("problem").classList.toggle("hidden", !e); }

async function signIn(k) {
  key = k;
  session = await api("/v1/session");
  if (!["admin", "marketer", "analyst"].includes(session.role)) throw new Error("this key's role may not use the dashboard");
  sessionStorage.setItem("fidelis.key", key);
  $("title").textContent = `${session.program.name} - ${session.role}`;
  $("login").classList.add("hidden");
  const tabs = VIEWS.filter(v => v.roles.includes(session.role)).map(v => {
    const b = el("button", v.label); b.dataset.view = v.id; b.addEventListener("click", () => show(v.id)); return b;
  });
  $("tabs").replaceChildren(...tabs);
  $("tabs").classList.remove("hidden");
  await show(location.hash.slice(1) || "overview");
}

async function show(id) {
  if (!VIEWS.some(v => v.id === id && v.roles.includes(session.role))) id = "overview";
  problem(null);
  document.querySelectorAll(".view").forEach(v => v.classList.toggle("hidden", v.id !== id));
  document.querySelectorAll("#tabs button").forEach(b => b.setAttribute("aria-current", b.dataset.view === id ? "page" : "false"));
  history.replaceState(null, "", "#" + id);
  try { await LOADERS[id](); } catch (e) { problem(e); }
}

const KPI_CARDS = [["members", "Members"], ["active_engagement_rate", "Active engagement", true], ["repeat_customer_rate", "Repeat customers", true],
  ["member_average_order_value", "Member AOV"], ["guest_average_order_value", "Guest AOV"], ["redemption_rate", "Redemption rate", true],
  ["points_outstanding", "Points outstanding"], ["liability", "Liability"], ["nps", "NPS"]];

async function loadOverview() {
  const [rep, series] = await Promise.all([api("/v1/reports/kpis"), api("/v1/reports/kpis/series?interval=day")]);
  $("period").textContent = `${rep.from} to ${rep.to}`;
  $("kpis").replaceChildren(...KPI_CARDS.map(([name, label, pct]) => {
    const v = rep.kpis[name];
    const c = el("div", undefined, "card"); c.dataset.kpi = name;
    c.append(el("div", label, "muted"), el("div", v === null ? "-" : pct ? (v * 100).toFixed(1) + " %" : String(v), "big"));
    return c;
  }));
  charts.forEach(c => c.destroy());
  const labels = series.points.map(p => p.from);
  const k = name => series.points.map(p => Number(p.kpis[name] || 0));
  charts = [
    new Chart($("chart-revenue"), { type: "line", data: { labels, datasets: [
      { label: "Revenue", data: k("member_revenue"), yAxisID: "y" },
      { label: "Orders", data: k("member_orders"), yAxisID: "y1" }] },
      options: { animation: false, scales: { y1: { position: "right" } } } }),
    new Chart($("chart-points"), { type: "bar", data: { labels, datasets: [
      { label: "Issued", data: k("points_issued") }, { label: "Redeemed", data: k("points_redeemed") },
      { label: "Expired", data: k("points_expired") }] }, options: { animation: false } }),
  ];
  await distributions();
}

// Distributions: members per segment, and the CLV percentiles when the model can be fitted.
async function distributions() {
  const segs = await api("/v1/segments?limit=50");
  const counts = await Promise.all(segs.data.map(s => api(`/v1/segments/${s.id}/count`).then(c => c.members).catch(() => 0)));
  charts.push(new Chart($("chart-segments"), { type: "bar", data: { labels: segs.data.map(s => s.name),
    datasets: [{ label: "Members", data: counts }] }, options: { animation: false, indexAxis: "y" } }));
  try {
    const clv = await api("/v1/reports/clv?horizon_weeks=52");
    const d = clv.distribution;
    charts.push(new Chart($("chart-clv"), { type: "bar", data: { labels: ["10th percentile", "median", "mean", "90th percentile"],
      datasets: [{ label: session.program.currency, data: [d.p10, d.median, d.mean, d.p90] }] }, options: { animation: false } }));
    $("clv-note").textContent = "";
  } catch (e) {
    $("clv-note").textContent = "Not enough purchase history to fit the model yet (" + e.message + ").";
  }
}

async function loadCampaigns() {
  const list = await api("/v1/campaigns?limit=500");
  $("campaign-rows").replaceChildren(...list.data.map(c => {
    const state = el("span", c.active ? "on" : "off", "pill " + (c.active ? "on" : "off"));
    let action = "";
    if (canWrite()) {
      action = el("button", c.active ? "Disable" : "Enable", c.active ? "" : "secondary");
      action.setAttribute("aria-label", `${c.active ? "Disable" : "Enable"} ${c.name}`);
      action.addEventListener("click", async () => {
        try { await api(`/v1/campaigns/${c.id}`, { method: "PATCH", body: JSON.stringify({ active: !c.active }) }); await loadCampaigns(); }
        catch (e) { problem(e); }
      });
    }
    const u = c.usage, budget = u.discount.limit ? `${u.discount.used} of ${u.discount.limit}` : u.discount.used;
    const tr = row(c.name, state, u.uses.limit ? `${u.uses.used} of ${u.uses.limit}` : String(u.uses.used), budget, action);
    tr.dataset.campaign = c.name;
    return tr;
  }));
}

async function loadRules() {
  const list = await api("/v1/earning-rules?limit=500");
  $("rule-rows").replaceChildren(...list.data.map(r => {
    let edit = "";
    if (canWrite()) { edit = el("button", "Edit", "secondary"); edit.setAttribute("aria-label", "Edit " + r.name); edit.addEventListener("click", () => openRule(r)); }
    const tr = row(r.name, r.trigger, el("span", r.active ? "on" : "off", "pill " + (r.active ? "on" : "off")), String(r.points_awarded), edit);
    tr.dataset.rule = r.name;
    return tr;
  }));
}

function openRule(r) {
  editing = r;
  $("rule-title").textContent = r.name;
  $("rule-condition").value = r.condition ? JSON.stringify(r.condition, null, 2) : "";
  $("rule-error").textContent = ""; $("rule-saved").textContent = ""; $("sim-result").textContent = "";
  $("rule-editor").classList.remove("hidden");
  $("rule-condition").focus();
}

function editedRule() {
  const text = $("rule-condition").value.trim();
  let condition = null;
  if (text) {
    try { condition = JSON.parse(text); } catch (e) { throw new Error("the condition is not valid JSON: " + e.message); }
  }
  const def = { ...editing, condition };
  if (!text) delete def.condition;
  return def;
}

async function saveRule(ev) {
  ev.preventDefault();
  $("rule-error").textContent = ""; $("rule-saved").textContent = "";
  try {
    const saved = await api(`/v1/earning-rules/${editing.id}`, { method: "PUT", body: JSON.stringify(editedRule()) });
    editing = saved;
    $("rule-saved").textContent = `Saved as version ${saved.version}.`;
    await loadRules();
  } catch (e) {
    const err = e.body && e.body.error;
    $("rule-error").textContent = err ? `${err.field ? err.field + ": " : ""}${err.message}` : e.message;
  }
}

// Simulates an order with the rule as edited, saved or not (draft_rule).
async function simulate() {
  try {
    const body = { type: editing.trigger, order: { id: "SIM", total: $("sim-total").value, currency: session.program.currency },
                   draft_rule: editedRule() };
    if ($("sim-member").value) body.external_id = $("sim-member").value;
    const r = await api("/v1/simulate", { method: "POST", body: JSON.stringify(body) });
    $("sim-result").textContent = `${r.points} points\n` + r.rules.map(x => `${x.name}: ${x.points} (${x.reason})`).join("\n");
  } catch (e) {
    const err = e.body && e.body.error;
    $("sim-result").textContent = err ? `${err.field ? err.field + ": " : ""}${err.message}` : e.message;
  }
}

async function loadTiers() {
  const t = await api("/v1/tiers");
  $("tier-metric").textContent = t.metric ? `Metric: ${t.metric}` : "No tiers defined.";
  $("tier-rows").replaceChildren(...(t.tiers || []).map(x => row(x.name, String(x.threshold), JSON.stringify(x.benefits || {}))));
}

async function loadSegments() {
  const list = await api("/v1/segments?limit=500");
  const counts = await Promise.all(list.data.map(s => api(`/v1/segments/${s.id}/count`).then(c => c.members).catch(() => "?")));
  $("segment-rows").replaceChildren(...list.data.map((s, i) => { const tr = row(s.name, String(counts[i])); tr.dataset.segment = s.name; return tr; }));
}

async function findMember(ev) {
  ev.preventDefault();
  const q = $("member-query").value.trim();
  const by = q.includes("@") ? "email" : "external_id";
  try {
    let m;
    try { m = await api(`/v1/members/lookup?${by}=${encodeURIComponent(q)}`); }
    catch (e) { m = await api(`/v1/members/lookup?phone=${encodeURIComponent(q)}`); }
    const ledger = await api(`/v1/members/${m.id}/ledger?limit=50`);
    $("member-title").textContent = `${m.external_id} (#${m.id})`;
    $("member-summary").textContent = `Balance ${m.balance}, pending ${m.pending}, tier ${m.tier ? m.tier.name : "-"}, consent ${m.consent.marketing}`;
    $("member-ledger").replaceChildren(...ledger.data.map(e => row(when(e.created_at), e.kind, String(e.points), String(e.balance_after), e.reason || "")));
    $("member-detail").classList.remove("hidden");
  } catch (e) { problem(e); }
}

async function loadAudit() {
  const list = await api("/v1/audit?limit=100");
  $("audit-rows").replaceChildren(...list.data.map(a => row(when(a.created_at), a.actor, a.action, `${a.object_type || ""} ${a.object_id || ""}`)));
}

const LOADERS = { overview: loadOverview, campaigns: loadCampaigns, rules: loadRules, tiers: loadTiers,
  segments: loadSegments, members: async () => {}, audit: loadAudit };

$("login").addEventListener("submit", ev => { ev.preventDefault(); signIn($("key").value.trim()).catch(problem); });
$("rule-editor").addEventListener("submit", saveRule);
$("sim-run").addEventListener("click", simulate);
$("member-search").addEventListener("submit", findMember);
if (key) signIn(key).catch(e => { sessionStorage.removeItem("fidelis.key"); problem(e); });
