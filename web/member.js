// The member page: opened with the link POST /v1/members/{id}/token gives
// (/member.html#member=ID&key=KEY). The key stays in the fragment (never sent
// to a server) and in this tab's sessionStorage; it sees only this member.
"use strict";

const WORDS = {
  en: { balance: "Balance", tier: "Tier", expiring: "Expiring soon", rewards: "Rewards",
        voucher: "Your voucher", vouchers: "My vouchers", history: "History", more: "More",
        status: "Status", until: "Valid until", date: "Date", what: "What", points: "Points",
        hello: "Hello", pending: "pending, spendable from", redeem: "Redeem", nothing: "Nothing expires in the next 90 days.",
        expires: "expire on", top: "You reached the top tier.", to: "more to", noTier: "No tier yet",
        invite: "Invite friends", yourCode: "Your code", badges: "Badges", challenges: "Challenges", done: "done" },
  de: { balance: "Kontostand", tier: "Stufe", expiring: "Bald verfallend", rewards: "Prämien",
        voucher: "Ihr Gutschein", vouchers: "Meine Gutscheine", history: "Verlauf", more: "Mehr",
        status: "Status", until: "Gültig bis", date: "Datum", what: "Was", points: "Punkte",
        hello: "Hallo", pending: "vorgemerkt, einlösbar ab", redeem: "Einlösen", nothing: "In den nächsten 90 Tagen verfällt nichts.",
        expires: "verfallen am", top: "Sie haben die höchste Stufe erreicht.", to: "bis", noTier: "Noch keine Stufe",
        invite: "Freunde einladen", yourCode: "Ihr Code", badges: "Abzeichen", challenges: "Herausforderungen", done: "geschafft" },
};
let words = WORDS.en, pointName = "points", member = 0, key = "", cursor = null;

function $(id) { return document.getElementById(id); }
function el(tag, text, cls) { const e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function day(iso) { return iso ? new Date(iso).toLocaleDateString(document.documentElement.lang) : "-"; }

async function api(path, options = {}) {
  const res = await fetch(path, { ...options, headers: { Authorization: "Bearer " + key, "Content-Type": "application/json" } });
  const type = res.headers.get("Content-Type") || "";
  const body = type.startsWith("application/json") ? await res.json() : await res.text();
  if (!res.ok) throw new Error(body && body.error ? body.error.message : "HTTP " + res.status);
  return body;
}

function readLink() {
  const h = new URLSearchParams(location.hash.slice(1));
  if (h.get("key")) {
    sessionStorage.setItem("fidelis.member", JSON.stringify({ member: h.get("member"), key: h.get("key") }));
    history.replaceState(null, "", location.pathname); // the key leaves the address bar
  }
  const saved = JSON.parse(sessionStorage.getItem("fidelis.member") || "{}");
  member = Number(saved.member); key = saved.key || "";
}

function theme(session) {
  const b = session.branding || {};
  if (b.primary_color) document.documentElement.style.setProperty("--primary", b.primary_color);
  if (b.accent_color) document.documentElement.style.setProperty("--accent", b.accent_color);
  if (b.logo_url) { $("logo").src = b.logo_url; $("logo").classList.remove("hidden"); }
  $("title").textContent = b.program_title || session.program.name;
  pointName = b.point_name || "points";
  const lang = WORDS[b.language] ? b.language : "en";
  document.documentElement.lang = lang;
  words = WORDS[lang];
  document.querySelectorAll("[data-t]").forEach(e => { e.textContent = words[e.dataset.t]; });
  document.querySelectorAll(".points-name").forEach(e => { e.textContent = pointName; });
}

async function showSummary() {
  const [m, lots, progress] = await Promise.all([
    api(`/v1/members/${member}`), api(`/v1/members/${member}/lots?limit=500`),
    api(`/v1/members/${member}/progress`).catch(() => null)]);
  $("greeting").textContent = `${words.hello}${m.external_id && !m.external_id.startsWith("web:") ? ", " + m.external_id : ""}`;
  $("balance").textContent = m.balance;
  const pending = lots.data.filter(l => l.status === "pending");
  $("pending").textContent = pending.map(l => `${l.remaining} ${words.pending} ${day(l.matures_at)}`).join("; ");
  const soon = Date.now() + 90 * 86400e3;
  const expiring = lots.data.filter(l => l.status === "active" && l.remaining > 0 && l.expires_at && Date.parse(l.expires_at) < soon);
  $("expiring").replaceChildren(...(expiring.length ? expiring.map(l => el("li", `${l.remaining} ${pointName} ${words.expires} ${day(l.expires_at)}`)) : [el("li", words.nothing)]));
  if (progress && progress.tier) {
    $("tier").textContent = progress.tier;
    const value = progress.metric ? Number(progress.metric.value) : 0;
    const missing = Number(progress.missing || 0);
    const pct = progress.next_tier ? Math.round(100 * value / Math.max(1, value + missing)) : 100;
    $("progress").style.width = pct + "%";
    $("progressbar").setAttribute("aria-valuenow", pct);
    $("progress-text").textContent = progress.next_tier ? progress.message : words.top;
  } else {
    $("tier").textContent = words.noTier;
  }
}

async function showRewards() {
  const r = await api(`/v1/members/${member}/rewards`);
  const rows = [];
  for (const w of r.available) {
    const b = el("button", `${words.redeem} (${w.cost} ${pointName})`);
    b.addEventListener("click", () => redeem(w, b));
    const row = el("div", undefined, "reward"); row.dataset.reward = w.name;
    row.append(el("span", w.name), b); rows.push(row);
  }
  for (const w of r.unavailable) {
    const row = el("div", undefined, "reward"); row.dataset.reward = w.name;
    const b = el("button", `${w.cost} ${pointName}`); b.disabled = true;
    row.append(el("span", `${w.name} - ${w.reason.message}`, "muted"), b); rows.push(row);
  }
  $("rewards").replaceChildren(...rows);
}

async function redeem(reward, button) {
  button.disabled = true;
  try {
    const v = await api(`/v1/members/${member}/rewards/${reward.id}/redeem`, { method: "POST",
      body: JSON.stringify({ request_id: "page-" + crypto.randomUUID() }) });
    await showVoucher(v);
    await Promise.all([showSummary(), showRewards(), showVouchers(), showHistory(false)]);
  } catch (e) {
    $("problem").textContent = e.message; $("problem").classList.remove("hidden");
    button.disabled = false;
  }
}

async function showVoucher(v) {
  $("voucher-code").textContent = v.code;
  const [qr, bar] = await Promise.all([api(v.qr_url), api(v.barcode_url)]);
  // the SVGs come from our own API (drawn from the code's characters only)
  $("voucher-qr").innerHTML = qr;
  $("voucher-barcode").innerHTML = bar;
  $("voucher-qr").querySelector("svg").setAttribute("aria-label", "QR code " + v.code);
  $("voucher-expiry").textContent = `${words.until}: ${day(v.expires_at)}`;
  $("voucher").classList.remove("hidden");
}

async function showVouchers() {
  const list = await api(`/v1/members/${member}/vouchers?limit=100`);
  $("vouchers").replaceChildren(...list.data.map(v => {
    const tr = el("tr");
    const show = el("button", v.code, "secondary");
    show.addEventListener("click", () => showVoucher({ ...v, qr_url: `/v1/members/${member}/vouchers/${v.code}/qr`, barcode_url: `/v1/members/${member}/vouchers/${v.code}/barcode` }));
    const td = el("td"); td.append(show);
    tr.append(td, el("td", v.uses > 0 ? "used" : v.status), el("td", day(v.expires_at)));
    return tr;
  }));
}

// Badges earned, and the progress in each running challenge.
async function showEngagement() {
  const [badges, challenges] = await Promise.all([api(`/v1/members/${member}/badges?limit=100`),
                                                  api(`/v1/members/${member}/challenges`)]);
  $("badges").replaceChildren(...badges.data.map(b => el("li", `${b.name} (${day(b.earned_at)})`)));
  $("badges-card").classList.toggle("hidden", badges.data.length === 0);
  $("challenges").replaceChildren(...challenges.data.map(c => {
    const box = el("div"); box.dataset.challenge = c.name;
    const pct = Math.round(100 * Math.min(c.progress, c.target) / c.target);
    const bar = el("div", undefined, "progress"); bar.setAttribute("role", "progressbar");
    bar.setAttribute("aria-label", c.name); bar.setAttribute("aria-valuenow", pct);
    const fill = el("div"); fill.style.width = pct + "%"; bar.append(fill);
    box.append(el("p", `${c.name}: ${c.progress} / ${c.target}${c.completed_at ? " - " + words.done : ""}`), bar);
    return box;
  }));
  $("challenges-card").classList.toggle("hidden", challenges.data.length === 0);
}

// The referral code and link, when the programme runs referrals.
async function showReferral() {
  const r = await api(`/v1/members/${member}/referral`);
  if (!r.enabled) return;
  $("referral-code").textContent = r.code;
  if (r.link) { $("referral-link").href = r.link; $("referral-link").textContent = r.link; $("referral-link-row").classList.remove("hidden"); }
  $("referral").classList.remove("hidden");
}

async function showHistory(more) {
  const page = await api(`/v1/members/${member}/ledger?limit=20${more && cursor ? "&cursor=" + cursor : ""}`);
  const rows = page.data.map(e => { const tr = el("tr"); tr.append(el("td", day(e.created_at)), el("td", e.reason || e.kind), el("td", e.points > 0 ? "+" + e.points : String(e.points || e.pending))); return tr; });
  if (more) $("history").append(...rows); else $("history").replaceChildren(...rows);
  cursor = page.next_cursor;
  $("more").classList.toggle("hidden", !cursor);
}

async function main() {
  readLink();
  if (!member || !key) throw new Error("Open this page with the link you received.");
  theme(await api("/v1/session"));
  await Promise.all([showSummary(), showRewards(), showVouchers(), showHistory(false), showReferral(),
                     showEngagement()]);
  $("more").addEventListener("click", () => showHistory(true));
  $("page").classList.remove("hidden");
}

main().catch(e => { $("problem").textContent = e.message; $("problem").classList.remove("hidden"); });
