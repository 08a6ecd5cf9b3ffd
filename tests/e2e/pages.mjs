// Browser steps of tests/api/test_pages.py, in Debian's headless Chromium
// driven by playwright-core (web/node_modules). Usage:
//   node pages.mjs SCENARIO BASE_URL ARGS_JSON SCREENSHOT_DIR
// Prints one JSON object of what the page showed; exits 1 on a failed step.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "web", "package.json"));
const { chromium } = require("playwright-core");

const [scenario, base, argsJson, shots] = process.argv.slice(2);
const args = JSON.parse(argsJson);

async function signIn(page, key) {
  await page.goto(base + "/admin.html");
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("#tabs button").first().waitFor();
}

const SCENARIOS = {
  // A member opens the link, sees the balance, redeems a reward and gets a QR code.
  async member(page) {
    await page.setViewportSize({ width: 390, height: 844 }); // a phone
    await page.goto(base + args.page_url);
    await page.getByTestId("balance").filter({ hasText: /\d/ }).waitFor();
    const before = await page.getByTestId("balance").textContent();
    const title = await page.locator("#title").textContent();
    const unavailable = await page.locator(`[data-reward="${args.too_dear}"]`).textContent();
    await page.screenshot({ path: path.join(shots, "member-before.png"), fullPage: true });
    await page.locator(`[data-reward="${args.reward}"] button`).click();
    await page.locator("#voucher-qr svg").waitFor();
    await page.waitForFunction(b => document.querySelector("[data-testid=balance]").textContent !== b, before);
    const after = await page.getByTestId("balance").textContent();
    const code = await page.locator("#voucher-code").textContent();
    await page.screenshot({ path: path.join(shots, "member-voucher.png"), fullPage: true });
    const leaked = page.url().includes("key=");
    const referral = await page.getByTestId("referral-code").textContent();
    const badges = await page.getByTestId("badges").textContent();
    const challenge = await page.locator('[data-challenge="Two quizzes"] p').textContent();
    return { before, after, code, title, unavailable, leaked, referral, badges, challenge,
             lang: await page.locator("html").getAttribute("lang") };
  },
  // A marketer switches a campaign off from the dashboard.
  async kill(page) {
    await signIn(page, args.key);
    await page.locator("#tabs button", { hasText: "Campaigns" }).click();
    await page.getByRole("button", { name: "Disable " + args.campaign }).click();
    await page.locator(`[data-campaign="${args.campaign}"] .pill.off`).waitFor();
    await page.screenshot({ path: path.join(shots, "dashboard-campaigns.png"), fullPage: true });
    return { state: await page.locator(`[data-campaign="${args.campaign}"] .pill`).textContent() };
  },
  // A marketer edits a rule with an invalid condition and sees why it is refused.
  async rule(page) {
    await signIn(page, args.key);
    await page.locator("#tabs button", { hasText: "Rules" }).click();
    await page.getByRole("button", { name: "Edit " + args.rule }).click();
    await page.getByLabel("Condition (JSONLogic)").fill('{"and": [{"no_such_op": [1]}, true]}');
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#rule-error").filter({ hasText: /./ }).waitFor();
    await page.screenshot({ path: path.join(shots, "dashboard-rule-error.png"), fullPage: true });
    const error = await page.locator("#rule-error").textContent();
    await page.getByLabel("Condition (JSONLogic)").fill('{">": [{"var": "order.total"}, 50]}');
    // simulate the edited rule before saving it: 100.00 passes the condition, 40.00 not
    await page.getByLabel("Order total").fill("100.00");
    await page.getByRole("button", { name: "Simulate" }).click();
    await page.locator("#sim-result").filter({ hasText: /points/ }).waitFor();
    const simulated = await page.locator("#sim-result").textContent();
    await page.getByLabel("Order total").fill("40.00");
    await page.getByRole("button", { name: "Simulate" }).click();
    await page.locator("#sim-result").filter({ hasText: /condition_false/ }).waitFor();
    const simulatedLow = await page.locator("#sim-result").textContent();
    await page.getByRole("button", { name: "Save" }).click();
    await page.locator("#rule-saved").filter({ hasText: /version/ }).waitFor();
    return { error, simulated, simulatedLow, saved: await page.locator("#rule-saved").textContent() };
  },
  // The overview draws its charts; an analyst sees no switch and no audit log.
  async overview(page) {
    await signIn(page, args.key);
    await page.locator("[data-kpi=members] .big").waitFor();
    await page.waitForFunction(() => window.Chart && Chart.getChart("chart-revenue") && Chart.getChart("chart-segments"));
    const segments = await page.evaluate(() => Chart.getChart("chart-segments").data.labels);
    await page.screenshot({ path: path.join(shots, "dashboard-overview.png"), fullPage: true });
    const tabs = await page.locator("#tabs button").allTextContents();
    await page.locator("#tabs button", { hasText: "Campaigns" }).click();
    await page.locator("[data-campaign]").first().waitFor();
    const buttons = await page.locator("#campaign-rows button").count();
    return { members: await page.locator("[data-kpi=members] .big").textContent(), tabs, buttons, segments };
  },
  // A visitor signs up on a campaign's landing page.
  async landing(page) {
    await page.goto(base + "/c/" + args.campaign_id);
    const heading = await page.locator("h1").textContent();
    const primary = await page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue("--primary").trim());
    await page.getByLabel("Email", { exact: true }).fill(args.email);
    await page.getByLabel("I want to receive offers by email").check();
    await page.getByRole("button", { name: "Join" }).click();
    await page.locator(".notice").waitFor();
    await page.screenshot({ path: path.join(shots, "landing.png"), fullPage: true });
    return { heading, primary, notice: await page.locator(".notice").textContent() };
  },
  // The confirmation link of the webhook's email.
  async confirm(page) {
    await page.goto(base + args.url);
    return { notice: await page.locator(".notice").textContent() };
  },
};

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium", args: ["--no-sandbox"] });
let code = 0;
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(15000);
  const errors = [];
  page.on("pageerror", e => errors.push(e.message));
  const out = await SCENARIOS[scenario](page);
  out.page_errors = errors;
  console.log(JSON.stringify(out));
} catch (e) {
  console.error(e.stack || String(e));
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
