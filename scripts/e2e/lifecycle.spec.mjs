// A request's whole life through the web pages, role by role, in headless Chromium (issue #6).
//
// Starts `jiesu serve` on a fresh SQLite data folder with a known admin password, creates one
// user per role with `jiesu user add`, then: the operator records a call with live suggestions
// (Ctrl+Enter) → the dispatcher dispatches → the unit acknowledges and replies → the callback
// agent records "unsatisfied" → rework: the unit replies again → the callback agent records
// "satisfied" → closed. A citizen tracks it by number and query code (a wrong code finds nothing)
// and submits one of their own; a supervisor sees the ranking; a handler of another unit gets
// the refusal page. A supervisor opens a proactive task from a hotspot, another at the same
// problem elsewhere (举一反三), makes a monthly topic of them, and sees the unit's reply counted.
// Three levels (issue #18): after the rework callback 望京街道's manager appeals the order's
// assessment on the workbench and the center grants it on its appeals page; 望京街道 passes
// another order down to 花家地西里社区 (下派), whose handler replies, is sent back once with a
// reason and replies again, and the street signs off (签批): the center's order is replied.
// Screenshots of every main page go to $E2E_SCREENSHOTS (default
// target/e2e-screenshots).
//
//   node scripts/e2e/lifecycle.spec.mjs --bin target/release/jiesu
import { chromium } from "playwright-core";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const argBin = process.argv.indexOf("--bin");
const bin = argBin > 0 ? process.argv[argBin + 1]
  : process.env.JIESU_BIN || path.join(process.env.CARGO_TARGET_DIR || path.join(repo, "target"), "release", "jiesu");
const shots = path.resolve(process.env.E2E_SCREENSHOTS || path.join(repo, "target", "e2e-screenshots"));
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

const WANGJING = "110105026"; // 望京街道, the street that must act
const OTHER = "110108001"; // a street in 海淀, which must not see it
const HUAJIADI = "110105026034"; // 花家地西里社区, a community under 望京街道
const PHONE = "13812345678";
const TEXT = "望京西园三区工地夜间施工噪音扰民，凌晨两点仍在施工，严重影响休息。";

const pageErrors = [];
let passed = 0;
let failed = 0;
function ok(cond, what) {
  if (!cond) {
    failed++;
    throw new Error("FAIL: " + what);
  }
  passed++;
  console.log("ok:", what);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

const data = mkdtempSync(path.join(tmpdir(), "jiesu-e2e-"));
const env = { ...process.env, JIESU_DATA_DIR: data, JIESU_ADMIN_PASSWORD: "admin-pass-1", JIESU_LOG: "warn" };
delete env.JIESU_DATABASE_URL;

const staff = [
  ["op", "operator", null], ["disp", "dispatcher", null], ["cb", "callback_agent", null],
  ["sup", "supervisor", null], ["wj", "unit_manager", WANGJING], ["other", "unit_handler", OTHER],
  ["hjd", "unit_handler", HUAJIADI],
];

async function main() {
  mkdirSync(shots, { recursive: true });
  for (const [name, role, unit] of staff) {
    const args = ["user", "add", "--username", name, "--role", role, "--password-stdin"];
    if (unit) args.push("--unit", unit);
    const r = spawnSync(bin, args, { env, input: `password-${name}\n`, encoding: "utf8" });
    ok(r.status === 0, `jiesu user add ${name} (${role}) ${r.stderr || ""}`.trim());
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(bin, ["serve", "--addr", `127.0.0.1:${port}`], { env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  server.stdout.on("data", (d) => { log += d; });
  server.stderr.on("data", (d) => { log += d; });
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ["--no-sandbox"] });
  try {
    for (let i = 0; ; i++) {
      try { if ((await fetch(base + "/healthz")).ok) break; } catch { /* not yet */ }
      if (i > 300) throw new Error("server did not become healthy:\n" + log);
      await new Promise((r) => setTimeout(r, 100));
    }
    await story(browser, base);
  } catch (e) {
    if (!String(e.message).startsWith("FAIL")) failed++;
    console.error(e.message || e);
    console.error("--- server log ---\n" + log.slice(-4000));
  } finally {
    await browser.close();
    // Wait for the server to exit (it seals the audit chain into the data folder on the way
    // out) before removing the folder.
    const exited = new Promise((r) => server.once("exit", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15000))]);
    rmSync(data, { recursive: true, force: true });
  }
  console.log(`screenshots: ${shots}`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

async function as(browser, base, user) {
  const ctx = await browser.newContext({ viewport: { width: 1920, height: 1080 }, locale: "zh-CN", baseURL: base });
  const page = await ctx.newPage();
  page.setDefaultTimeout(20000);
  // Script errors and blocked content (CSP) fail the test; HTTP 4xx pages are expected.
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) pageErrors.push(m.text());
  });
  if (user) {
    await page.goto("/ui/login");
    await page.fill("input[name=username]", user);
    await page.fill("input[name=password]", user === "admin" ? env.JIESU_ADMIN_PASSWORD : `password-${user}`);
    await page.click("button[type=submit]");
    await page.waitForURL(/\/ui\/$/);
  }
  return { ctx, page };
}

async function shot(page, name) {
  await page.screenshot({ path: path.join(shots, `${name}.png`), fullPage: true });
}

async function story(browser, base) {
  // Login page, in Chinese first, then the language switch.
  let { ctx, page } = await as(browser, base, null);
  await page.goto("/ui/login");
  ok(await page.locator("h1").innerText() === "登录", "the login page is in Chinese by default");
  await shot(page, "01-login");
  await page.goto("/ui/login?lang=en");
  ok(await page.locator("h1").innerText() === "Log in", "?lang=en switches the pages to English");
  await page.goto("/ui/portal");
  ok((await page.locator("h1").innerText()).includes("Citizen"), "the language choice is remembered in a cookie");
  await ctx.close();

  // Operator: intake with live suggestions, keyboard-first.
  ({ ctx, page } = await as(browser, base, "op"));
  ok(await page.locator("[data-testid=user]").innerText() === "op", "the header shows the logged-in user");
  await shot(page, "02-home-operator");
  await page.goto("/ui/intake");
  ok(await page.evaluate(() => document.activeElement && document.activeElement.name) === "name", "intake focuses the requester's name first");
  await page.keyboard.type("王女士");
  await page.keyboard.press("Tab");
  await page.keyboard.type(PHONE);
  await page.fill("textarea[name=text]", "");
  await page.locator("textarea[name=text]").pressSequentially(TEXT, { delay: 5 });
  await page.locator("input[name=address]").pressSequentially("朝阳区望京西园三区", { delay: 5 });
  await page.waitForSelector("[data-testid=suggested-units] li");
  const place = await page.locator("[data-testid=place]").innerText();
  ok(place.includes("望京"), `suggestions resolve the place while typing (${place})`);
  ok(await page.locator("input[name=suggestion_id]").count() === 1, "the suggestion id rides along with the form");
  await shot(page, "03-intake-suggestions");
  await page.locator("textarea[name=text]").focus();
  await page.keyboard.press("Control+Enter");
  await page.waitForURL(/\/ui\/requests\/[^/?]+\?done=created/);
  const id = new URL(page.url()).pathname.split("/").pop();
  const number = await page.locator("[data-testid=number]").innerText();
  ok(/^\d{8}-\d{6}$/.test(number), `Ctrl+Enter records the request (${number})`);
  const code = await page.locator("[data-testid=query-code]").innerText();
  ok(/^[2-9A-HJKMNP-Z]{8}$/.test(code), `the operator sees the query code to read out (${code})`);
  ok((await page.locator("[data-testid=requester]").innerText()).includes("138****5678"), "the operator sees the phone masked");
  await shot(page, "04-request-received");
  await ctx.close();

  // Dispatcher: the queue, then dispatch to 望京街道 as lead.
  ({ ctx, page } = await as(browser, base, "disp"));
  await page.goto("/ui/dispatch");
  ok(await page.locator(`[data-testid=dispatch-${number}]`).count() === 1, "the new request waits in the dispatch queue");
  await shot(page, "05-dispatch-queue");
  await page.click(`[data-testid=dispatch-${number}]`);
  await page.fill("[data-testid=lead]", WANGJING);
  await page.fill("[data-testid=co]", "");
  await shot(page, "06-dispatch-form");
  await page.click("button[type=submit].primary");
  await page.waitForURL(/done=dispatched/);
  ok(await page.locator(`[data-testid=dispatch-${number}]`).count() === 0, "dispatched: it leaves the queue");
  await ctx.close();
  await callerHistory(browser, base, id); // issue 23 (i23-places)
  await knowledgeBase(browser, base); // issue 23: the knowledge base's pages

  // Unit: acknowledge and send the dual reply.
  async function unitReplies(round) {
    const { ctx, page } = await as(browser, base, "wj");
    await page.goto("/ui/unit");
    const row = page.locator(`[data-testid=order-${number}]`);
    ok(await row.count() === 1, `round ${round}: the order is on 望京街道's workbench`);
    ok(/\d\d:\d\d:\d\d/.test(await row.locator(".countdown").innerText()), `round ${round}: a live countdown ticks to the deadline`);
    if (round === 1) await shot(page, "07-unit-workbench");
    await row.locator("[data-testid=ack]").click();
    await page.waitForURL(/done=acknowledged/);
    const row2 = page.locator(`[data-testid=order-${number}]`);
    await row2.locator("[data-testid=reply-box] summary").click();
    await row2.locator("textarea[name=to_requester]").fill(`第${round}次答复：已责令工地夜间停工，后续加强巡查。`);
    await row2.locator("textarea[name=to_center]").fill("现场核查属实，已下达停工通知书（编号 2026-118），城管夜间巡查。");
    if (round === 1) await shot(page, "08-unit-reply");
    await row2.locator("[data-testid=reply-box] button.primary").click();
    await page.waitForURL(/done=replied/);
    ok(await page.locator(`[data-testid=order-${number}]`).count() === 0, `round ${round}: replied, the order leaves the workbench`);
    await ctx.close();
  }
  await unitReplies(1);

  // Callback agent: unsatisfied → rework.
  async function callback(verdict, name) {
    const { ctx, page } = await as(browser, base, "cb");
    await page.goto("/ui/callback");
    const card = page.locator(`[data-testid=callback-${number}]`);
    ok(await card.count() === 1, `the request is due for a callback (${verdict})`);
    ok((await card.locator("[data-testid=phone]").innerText()) === PHONE, "the callback agent sees the full number");
    if (name) await shot(page, name);
    await card.locator(`[data-testid=cb-${verdict}]`).click();
    await page.waitForURL(verdict === "satisfied" ? /done=closed/ : /done=rework/);
    await ctx.close();
  }
  await callback("unsatisfied", "09-callback");
  await appealFiled(browser, base, number);
  await unitReplies(2);
  await callback("satisfied", null);
  await appealGranted(browser, base);

  ({ ctx, page } = await as(browser, base, "op"));
  await page.goto(`/ui/requests/${id}`);
  ok(await page.locator("[data-testid=status]").innerText() === "已办结", "after a satisfied callback the request is closed");
  const timeline = await page.locator("[data-testid=timeline]").innerText();
  ok(timeline.includes("二次办理") && timeline.includes("回访办结"), "the timeline shows the rework and the closing callback");
  await shot(page, "10-request-closed");
  await ctx.close();

  // Citizen: track by number and query code; submit a request of their own.
  ({ ctx, page } = await as(browser, base, null));
  await page.goto("/ui/portal/track");
  await page.fill("input[name=number]", number);
  await page.fill("input[name=code]", code === "22222222" ? "33333333" : "22222222");
  await page.click("button[type=submit]");
  ok(await page.locator("[data-testid=track-not-found]").count() === 1, "a wrong code finds nothing");
  await page.fill("input[name=number]", number);
  await page.fill("input[name=code]", code.toLowerCase());
  await page.click("button[type=submit]");
  ok(await page.locator("[data-testid=tracked-status]").innerText() === "已办结", "number + code show the status");
  ok((await page.locator("[data-testid=tracked]").innerText()).includes("第2次答复"), "and the replies meant for the requester");
  await shot(page, "11-citizen-track");
  await page.goto("/ui/portal");
  await page.fill("input[name=name]", "李先生");
  await page.fill("input[name=phone]", "13698765432");
  await page.fill("textarea[name=text]", "<script>alert(1)</script> 花家地西里小区门口路灯不亮");
  await page.fill("input[name=address]", "朝阳区花家地西里");
  // The map pin (issue 20): a click on the district map puts the pin there (WGS-84).
  const pin = page.locator("[data-testid=pin-map][data-ready='1']");
  await pin.waitFor();
  const box = await pin.boundingBox();
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.waitForFunction(() => document.querySelector("input[name=lat]").value !== "");
  const [plat, plon] = [await page.inputValue("input[name=lat]"), await page.inputValue("input[name=lon]")].map(Number);
  ok(plat > 39.4 && plat < 41.1 && plon > 115.4 && plon < 117.6, `a click on the portal's map pins a place in Beijing (${plat}, ${plon})`);
  ok(await canvasInk(page, "pin-map") > 0, "the portal's map is drawn from the server's shapes");
  await shot(page, "12a-portal-map-pin");
  // 使用我的位置 (issue 20): the browser's position rides along as WGS-84.
  await ctx.grantPermissions(["geolocation"], { origin: base });
  await ctx.setGeolocation({ latitude: 39.98250, longitude: 116.46600 });
  await page.click("[data-testid=locate]");
  await page.waitForFunction(() => document.querySelector("input[name=lat]").value === "39.982500");
  ok((await page.locator("[data-testid=located]").innerText()).includes("39.98250"), "使用我的位置 attaches the phone's position");
  await page.click("button[type=submit]");
  const own = await page.locator("[data-testid=portal-number]").innerText();
  ok(/^\d{8}-\d{6}$/.test(own), `a citizen submits on the portal and gets a number (${own})`);
  ok(/^[2-9A-HJKMNP-Z]{8}$/.test(await page.locator("[data-testid=portal-code]").innerText()), "and a query code");
  await shot(page, "12-citizen-submitted");
  await ctx.close();

  // Supervisor: the dashboard with the month's ranking (it opens on the last complete month,
  // so ask for this one: the server's day is Beijing time).
  ({ ctx, page } = await as(browser, base, "sup"));
  await page.goto(`/ui/dashboard?month=${thisMonth()}`);
  const ranking = await page.locator("[data-testid=ranking]").innerText();
  ok(ranking.includes("望京街道"), "the supervisor's dashboard ranks 望京街道");
  await page.waitForSelector(".chart canvas");
  ok(await page.locator("[data-testid=report-link]").count() === 1, "the monthly report is one click away");
  ok(await page.locator("[data-testid=hotspots]").count() === 1, "the dashboard lists the hot problems (热点)");
  await shot(page, "13-dashboard");
  await districtMaps(page);
  await ctx.close();

  await governance(browser, base);
  await passDownAndSignOff(browser, base);

  // Another unit's handler: the page of a request that does not exist, not the request.
  ({ ctx, page } = await as(browser, base, "other"));
  const resp = await page.goto(`/ui/requests/${id}`);
  ok(resp.status() === 404, "another unit's handler gets HTTP 404, as for a missing request");
  ok(await page.locator("[data-testid=error-page]").count() === 1 && !(await page.content()).includes(TEXT), "with an error page that shows nothing of the request");
  await shot(page, "14-refused");
  await ctx.close();

  // Admin: the configuration pages.
  ({ ctx, page } = await as(browser, base, "admin"));
  await page.goto("/ui/admin?view=limits");
  ok((await page.locator("[data-testid=admin-table]").innerText()).includes("general"), "the admin sees the time limits in force");
  await shot(page, "15-admin-limits");
  // Categories (issue #18): the admin opens a category's edit form from its row, renames it,
  // and the table shows the new name at once.
  await page.goto("/ui/admin?view=categories&q=cxjs.csgl.hw");
  await page.click('[data-testid="edit-cxjs.csgl.hw"]');
  const edit = page.locator("[data-testid=category-edit]");
  await edit.locator("input[name=name]").fill("环境卫生与垃圾分类管理");
  await edit.locator("button.primary").click();
  await page.waitForURL(/done=category_saved/);
  ok((await page.locator("[data-testid=admin-table]").innerText()).includes("环境卫生与垃圾分类管理"), "the admin renames a category on the admin page and the table shows the new name");
  await shot(page, "16-admin-categories");
  // SMS templates (issue #19): from the admin page's tab; a text over 300 characters is
  // refused with the reason beside its template, a good one is saved.
  await page.click("[data-testid=admin-sms]");
  await page.waitForURL(/\/ui\/admin\/sms/);
  const tpl = page.locator("[data-testid=sms-template-extended]");
  await tpl.locator("textarea[name=zh]").fill("长".repeat(301));
  await tpl.locator("button.primary").click();
  ok((await page.locator("[data-testid=sms-template-error]").innerText()).includes("300"), "a too long SMS template is refused on its page with the reason");
  await page.locator("[data-testid=sms-template-extended] textarea[name=zh]").fill("【12345】您的诉求{number}办理期限延至{deadline}");
  await page.locator("[data-testid=sms-template-extended] button.primary").click();
  await page.waitForURL(/done=sms_template_saved/);
  await shot(page, "17-admin-sms-templates");
  await ctx.close();

  // ---- issue 20: attachments (i20-files) ----
  await attachmentFiles(browser, base);
  // ---- end issue 20: attachments ----

  ok(pageErrors.length === 0, `no script errors or blocked content in any page ${pageErrors.join(" | ")}`.trim());
}

// A supervisor's proactive work (issue #7): from a hotspot to a task, 举一反三 to a task at
// another place, then a monthly topic chosen from the proposals, tracked on its page.
function thisMonth() {
  return new Date(Date.now() + 8 * 3600e3).toISOString().slice(0, 7);
}

// ---- issue 20: district maps (dashboard and governance) ----------------------------------
// The maps are drawn from the server's GeoJSON with the vendored ECharts: the canvas has
// drawn pixels, a click on 朝阳区 goes to its streets' ranking, both are screenshotted.
async function canvasInk(page, testid) {
  return page.evaluate((id) => {
    const c = document.querySelector(`[data-testid=${id}] canvas`);
    if (!c) return 0;
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++;
    return n;
  }, testid);
}

async function districtMaps(page) {
  await page.waitForSelector("[data-testid=district-map][data-ready='1'] canvas");
  ok(await canvasInk(page, "district-map") > 10000, "the dashboard's district map is drawn");
  for (const m of ["response", "overdue", "volume"]) await page.click(`[data-testid=map-metric-${m}]`);
  ok(await page.locator("[data-testid=district-map]").getAttribute("data-metric") === "volume", "its colouring switches between the metrics");
  await page.locator("[data-testid=district-map-card]").scrollIntoViewIfNeeded();
  await shot(page, "13b-dashboard-map");
  // Where 朝阳区's label point is on the canvas, from the chart itself.
  const at = await page.evaluate(async () => {
    const el = document.querySelector("[data-testid=district-map]");
    const geo = await (await fetch("/api/v1/maps/districts")).json();
    const f = geo.features.find((x) => x.properties.name === "朝阳区");
    const [x, y] = el.jiesuChart.convertToPixel({ seriesIndex: 0 }, f.properties.cp);
    const r = el.getBoundingClientRect();
    return { x: r.left + x, y: r.top + y };
  });
  await page.mouse.click(at.x, at.y);
  await page.waitForURL(/district=110105/);
  ok((await page.locator("[data-testid=ranking]").innerText()).includes("望京街道"), "a click on 朝阳区 shows its streets' ranking");
  ok(!(await page.locator("[data-testid=ranking]").innerText()).includes("海淀"), "and only its streets");
}

async function governanceMap(page) {
  await page.waitForSelector("[data-testid=governance-map][data-ready='1'] canvas");
  ok(await canvasInk(page, "governance-map") > 10000, "the governance map is drawn");
  await page.locator("[data-testid=governance-map-card]").scrollIntoViewIfNeeded();
  await shot(page, "16b-governance-map");
}
// ---- end issue 20 --------------------------------------------------------------------------

async function governance(browser, base) {
  // Three more complaints at 望京西园三区 and two at 翠林小区, through the API as the operator.
  const login = await fetch(base + "/api/v1/auth/token", {
    method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: "op", password: "password-op" }),
  });
  const { token } = await login.json();
  const seeds = [
    ["望京西园三区工地夜间施工噪音太大，晚上睡不着", "朝阳区望京西园三区", "13811110001"],
    ["投诉望京西园三区附近工地夜间施工噪音扰民", "朝阳区望京西园三区", "13811110002"],
    ["望京西园三区工地半夜施工噪音扰民，请管一管", "朝阳区望京西园三区", "13811110003"],
    ["翠林小区旁工地夜间施工噪音扰民，凌晨还在施工", "丰台区右安门翠林小区", "13911110001"],
    ["翠林小区工地夜间施工噪音扰民严重", "丰台区右安门翠林小区", "13911110002"],
  ];
  for (const [text, address, phone] of seeds) {
    const r = await fetch(base + "/api/v1/requests", {
      method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ kind: "complaint", channel: "phone", text, address, category_code: "hjbh.zs.sg", requester: { name: "居民", phone } }),
    });
    ok(r.status === 201, `seeded: ${text}`);
  }

  const { ctx, page } = await as(browser, base, "sup");
  await page.click("header nav a[href='/ui/governance']");
  await page.waitForURL(/\/ui\/governance$/);
  const row = page.locator("[data-testid=hotspot-row]", { hasText: "望京西园三区" }).first();
  ok(await row.count() === 1, "the governance page lists the hotspot at 望京西园三区");
  ok(await page.locator("[data-testid=gov-alerts]").count() === 1, "and the day's burst alerts (未诉先办)");
  await shot(page, "16-governance");
  await governanceMap(page);

  // 立案 from the hotspot: the form comes with the description and the linked requests.
  await row.locator("[data-testid=open-task]").click();
  await page.waitForURL(/\/ui\/tasks\/new\?hotspot=/);
  const linked = await page.locator("[data-testid=linked] input[name=request_id]:checked").count();
  ok(linked >= 4, `the task form links the hotspot's requests (${linked})`);
  ok((await page.locator("[data-testid=task-title]").inputValue()).includes("望京西园三区"), "and is titled by place and problem");
  await page.fill("[data-testid=lead]", WANGJING);
  await page.fill("[data-testid=co]", "dept.cgzf");
  await page.selectOption("[data-testid=time-limit]", "general");
  await shot(page, "17-task-form");
  await page.click("[data-testid=task-submit]");
  await page.waitForURL(/\/ui\/tasks\/[^/?]+\?done=task_opened/);
  const taskNumber = await page.locator("[data-testid=number]").innerText();
  const orders = await page.locator("[data-testid=task-orders]").innerText();
  ok(orders.includes("望京街道") && orders.includes("城市管理综合行政执法局"), `task ${taskNumber} went to the lead and the co-handler`);
  ok(await page.locator("[data-testid=request-link]").count() === 1, "the task links to its request detail and timeline");
  const elsewhere = page.locator("[data-testid=elsewhere-row]", { hasText: "右安门" });
  ok(await elsewhere.count() === 1, "举一反三 finds the same problem at 右安门");
  await shot(page, "18-task");

  // …and opens a task there too.
  await elsewhere.locator("[data-testid=open-here]").click();
  await page.waitForURL(/elsewhere=/);
  await page.fill("[data-testid=lead]", "110106001");
  await page.fill("[data-testid=co]", "");
  await page.click("[data-testid=task-submit]");
  await page.waitForURL(/done=task_opened/);
  const thereNumber = await page.locator("[data-testid=number]").innerText();
  ok((await page.locator("[data-testid=task-orders]").innerText()).includes("右安门街道"), `task ${thereNumber} at 右安门`);

  // 每月一题: the proposals, the first chosen, its tasks ticked, a second problem named.
  await page.goto("/ui/governance");
  await page.click("[data-testid=proposals-link]");
  const first = page.locator("[data-testid=proposal-row]").first();
  ok((await first.innerText()).includes("夜间施工噪音"), "night construction noise is the first proposal");
  await shot(page, "19-proposals");
  await first.locator("[data-testid=choose]").click();
  await page.waitForURL(/\/ui\/topics\/new\?/);
  ok(await page.locator(`[data-testid=task-${taskNumber}]`).isChecked() && await page.locator(`[data-testid=task-${thereNumber}]`).isChecked(), "both tasks are ticked for the topic");
  await page.fill("[data-testid=topic-title]", "居民区周边工地夜间施工扰民");
  await page.selectOption("[data-testid=p2-category]", "hjbh.zs.sh");
  await page.fill("[data-testid=p2-description]", "夜间社会生活噪声");
  await shot(page, "20-topic-form");
  await page.click("[data-testid=topic-submit]");
  await page.waitForURL(/\/ui\/topics\/[^/?]+\?done=topic_created/);
  ok((await page.locator("[data-testid=topic-progress]").innerText()).includes("0/2"), "the topic tracks its two tasks");
  ok((await page.locator("[data-testid=topic-lead]").innerText()).includes("城市管理综合行政执法局"), "with its lead department");
  await page.waitForSelector(".chart canvas");
  await shot(page, "21-topic");
  await ctx.close();

  // The unit acknowledges and replies on its workbench; the topic shows the progress.
  {
    const { ctx, page } = await as(browser, base, "wj");
    await page.goto("/ui/unit");
    const order = page.locator(`[data-testid=order-${taskNumber}]`);
    ok(await order.count() === 1, "the proactive task is on 望京街道's workbench");
    await order.locator("[data-testid=ack]").click();
    await page.waitForURL(/done=acknowledged/);
    const o = page.locator(`[data-testid=order-${taskNumber}]`);
    await o.locator("[data-testid=reply-box] summary").click();
    await o.locator("textarea[name=to_requester]").fill("已责令工地夜间停工。");
    await o.locator("textarea[name=to_center]").fill("现场核查属实，已下达停工通知，城管夜间巡查。");
    await o.locator("[data-testid=reply-box] button.primary").click();
    await page.waitForURL(/done=replied/);
    await ctx.close();
  }
  {
    const { ctx, page } = await as(browser, base, "sup");
    await page.goto("/ui/governance");
    const task = page.locator(`[data-testid=task-${taskNumber}]`);
    ok((await task.innerText()).includes("1/2"), "the governance page shows one of the task's two orders replied");
    ok((await page.locator("[data-testid=topic-row]").innerText()).includes("居民区周边工地夜间施工扰民"), "and the monthly topic");
    await shot(page, "22-governance-tracked");
    await ctx.close();
  }
}

// 考核申诉 (issue #18): the unit manager contests the rework order's response on the workbench.
async function appealFiled(browser, base, number) {
  const { ctx, page } = await as(browser, base, "wj");
  await page.goto("/ui/unit");
  const row = page.locator(`[data-testid=order-${number}]`);
  ok(await row.count() === 1, "the rework order is back on 望京街道's workbench");
  await row.locator("[data-testid=appeal-box] summary").click();
  await row.locator("[data-testid=appeal-box] select[name=part]").selectOption("response");
  await row.locator("[data-testid=appeal-box] textarea[name=reason]").fill("派单时系统故障，签收超时不应计入");
  await row.locator("[data-testid=appeal-box] textarea[name=evidence]").fill("运维通报 2026-11-02");
  await shot(page, "23-appeal-form");
  await row.locator("[data-testid=appeal-box] button").click();
  await page.waitForURL(/done=appealed/);
  const mine = await page.locator("[data-testid=appeals]").innerText();
  ok(mine.includes("派单时系统故障") && mine.includes("待审核"), "the unit sees its appeal waiting (待审核)");
  await ctx.close();
}

// The center (supervisor) grants the appeal on its page; the unit sees 申诉成立.
async function appealGranted(browser, base) {
  {
    const { ctx, page } = await as(browser, base, "sup");
    await page.click("header nav a[href='/ui/appeals']");
    await page.waitForURL(/\/ui\/appeals$/);
    const open = page.locator("[data-testid=appeal-open]", { hasText: "派单时系统故障" });
    ok(await open.count() === 1, "the center sees the open appeal on /ui/appeals");
    await open.locator("textarea[name=reason]").fill("系统故障属实，予以免责");
    await shot(page, "24-appeals-center");
    await open.locator("[data-testid=appeal-grant]").click();
    await page.waitForURL(/done=appeal_granted/);
    ok(await page.locator("[data-testid=appeal-granted]", { hasText: "派单时系统故障" }).count() === 1, "granted: the appeal is no longer open");
    await ctx.close();
  }
  const { ctx, page } = await as(browser, base, "wj");
  await page.goto("/ui/unit");
  const mine = await page.locator("[data-testid=appeals]").innerText();
  ok(mine.includes("申诉成立") && mine.includes("系统故障属实"), "the unit sees 申诉成立 and the center's reason");
  await shot(page, "25-appeal-granted");
  await ctx.close();
}

// 下派 → 签批 (issue #18): a new order at 望京街道 passed down to 花家地西里社区 from the order's
// page, replied there, sent back once, replied again and approved; the center's order is replied.
async function passDownAndSignOff(browser, base) {
  const token = async (username) => {
    const r = await fetch(base + "/api/v1/auth/token", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: `password-${username}` }),
    });
    return (await r.json()).token;
  };
  const post = async (who, url, body) => fetch(base + url, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${await token(who)}` },
    body: JSON.stringify(body),
  });
  const created = await post("op", "/api/v1/requests", {
    kind: "complaint", channel: "phone", text: "花家地西里小区垃圾堆放多日无人清理，气味难闻。",
    address: "朝阳区花家地西里", requester: { name: "张女士", phone: "13822223333" },
  });
  ok(created.status === 201, "a request about 花家地西里 is recorded");
  const req = await created.json();
  const dispatched = await post("disp", `/api/v1/requests/${req.id}/dispatch`, { assignments: [{ unit_code: WANGJING, role: "lead" }] });
  ok(dispatched.status === 200, "and dispatched to 望京街道");

  // The street acknowledges on its workbench and passes the order down from the order's page.
  let { ctx, page } = await as(browser, base, "wj");
  await page.goto("/ui/unit");
  const row = page.locator(`[data-testid=order-${req.number}]`);
  await row.locator("[data-testid=ack]").click();
  await page.waitForURL(/done=acknowledged/);
  await page.locator(`[data-testid=order-${req.number}] [data-testid=pass-down-link]`).click();
  await page.waitForURL(/\/ui\/orders\/[^/?]+$/);
  const orderUrl = new URL(page.url()).pathname;
  const parentBy = await page.locator("input[name=reply_by]").inputValue();
  ok(/^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(parentBy) && await page.locator("input[name=reply_by]").getAttribute("max") === parentBy, `the pass-down form offers the parent's deadline as the latest (${parentBy})`);
  // An hour before the parent's deadline (the arithmetic is on the wall-clock string).
  const childBy = new Date(new Date(parentBy + ":00Z").getTime() - 3600_000).toISOString().slice(0, 16);
  await page.selectOption("[data-testid=pass-units]", HUAJIADI);
  await page.fill("input[name=reply_by]", childBy);
  await page.fill("textarea[name=note]", "请社区核实并组织清理");
  await shot(page, "26-pass-down-form");
  await page.click("[data-testid=pass-submit]");
  await page.waitForURL(/done=passed_down/);
  const children = await page.locator("[data-testid=child-orders]").innerText();
  ok(children.includes("花家地西里社区") && children.includes(childBy.replace("T", " ")), `the child order to 花家地西里社区 is due ${childBy.replace("T", " ")}`);
  await ctx.close();

  // The community acknowledges and replies on its workbench.
  async function communityReplies(round) {
    const { ctx, page } = await as(browser, base, "hjd");
    await page.goto("/ui/unit");
    const sub = page.locator(`[data-testid=sub-${req.number}]`);
    ok(await sub.count() === 1, `round ${round}: the child order is on 花家地西里社区's workbench`);
    if (round === 1) {
      ok((await sub.innerText()).includes("请社区核实并组织清理"), "with the street's note");
      await shot(page, "27-community-workbench");
      await sub.locator("[data-testid=sub-ack]").click();
      await page.waitForURL(/done=sub_acknowledged/);
    } else {
      ok((await sub.locator("[data-testid=sent-back]").innerText()).includes("请附清理前后照片"), "the community reads why it was sent back");
      await shot(page, "29-community-sent-back");
    }
    const s = page.locator(`[data-testid=sub-${req.number}]`);
    await s.locator("[data-testid=sub-reply-box] summary").click();
    await s.locator("textarea[name=to_requester]").fill(`第${round}次答复：垃圾已清运，物业每日巡查。`);
    await s.locator("textarea[name=to_center]").fill(`第${round}次：社区组织清运三车，已约谈物业。`);
    await s.locator("select[name=outcome]").selectOption("resolved");
    await s.locator("[data-testid=sub-reply-box] button.primary").click();
    await page.waitForURL(/done=sub_replied/);
    await ctx.close();
  }
  await communityReplies(1);

  // The street sends the reply back once with a reason…
  ({ ctx, page } = await as(browser, base, "wj"));
  await page.goto("/ui/unit");
  let signoff = page.locator(`[data-testid=signoff-${req.number}]`);
  ok((await signoff.innerText()).includes("第1次：社区组织清运三车"), "the community's reply waits for the street's sign-off");
  await shot(page, "28-signoff");
  await signoff.locator("details summary").click();
  await signoff.locator("textarea[name=reason]").fill("请附清理前后照片");
  await signoff.locator("[data-testid=send-back]").click();
  await page.waitForURL(/done=signoff_sent_back/);
  ok(await page.locator(`[data-testid=signoff-${req.number}]`).count() === 0, "sent back: nothing waits for sign-off");
  await ctx.close();

  await communityReplies(2);

  // …then approves the second reply, which becomes the street's reply to the center.
  ({ ctx, page } = await as(browser, base, "wj"));
  await page.goto("/ui/unit");
  signoff = page.locator(`[data-testid=signoff-${req.number}]`);
  ok((await signoff.innerText()).includes("第2次：社区组织清运三车"), "the second reply waits for sign-off");
  await signoff.locator("[data-testid=approve]").click();
  await page.waitForURL(/done=signoff_approved/);
  ok(await page.locator(`[data-testid=order-${req.number}]`).count() === 0, "approved: the center's order leaves the street's workbench");
  ok((await page.locator("[data-testid=sub-tallies]").innerText()).includes("花家地西里社区"), "the street's sub-unit tallies list the community");
  await page.goto(orderUrl);
  await shot(page, "30-child-orders-approved");
  await page.goto(`/ui/requests/${req.id}`);
  ok(await page.locator("[data-testid=status]").innerText() === "已反馈", "the request is replied (已反馈)");
  const timeline = await page.locator("[data-testid=timeline]").innerText();
  ok(timeline.includes("下派") && timeline.includes("签批退回"), "the timeline names the pass-down and the send-back");
  await shot(page, "31-request-replied-after-signoff");
  await ctx.close();
}

// ---- issue 20: attachments (i20-files) ----
// A citizen adds a photo on the tracking page and sees it as a thumbnail; the unit attaches
// a photo as evidence in its reply box and replies; the request page shows both thumbnails.
async function attachmentFiles(browser, base) {
  const token = async (username, password) => {
    const r = await fetch(base + "/api/v1/auth/token", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ username, password: password || `password-${username}` }),
    });
    return (await r.json()).token;
  };
  const post = async (who, url, body) => fetch(base + url, {
    method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${await token(who)}` },
    body: JSON.stringify(body),
  });
  const created = await post("op", "/api/v1/requests", {
    kind: "complaint", channel: "phone", text: "望京西园三区门口垃圾堆放多日无人清理。",
    address: "朝阳区望京西园三区", requester: { name: "赵女士", phone: "13833334444" },
  });
  ok(created.status === 201, "a request about a rubbish heap is recorded");
  const req = await created.json();

  // A photo drawn by the browser itself (a canvas as JPEG).
  let { ctx, page } = await as(browser, base, null);
  const photo = async (colour) => Buffer.from(await page.evaluate(async (c) => {
    const canvas = document.createElement("canvas");
    canvas.width = 480; canvas.height = 360;
    const g = canvas.getContext("2d");
    g.fillStyle = c; g.fillRect(0, 0, 480, 360);
    g.fillStyle = "#553"; g.beginPath(); g.arc(240, 220, 120, Math.PI, 0); g.fill();
    const blob = await new Promise((r) => canvas.toBlob(r, "image/jpeg", 0.85));
    return Array.from(new Uint8Array(await blob.arrayBuffer()));
  }, colour));
  await page.goto("/ui/portal/track");
  await page.fill("input[name=number]", req.number);
  await page.fill("input[name=code]", req.query_code);
  await page.click("button[type=submit]");
  const form = page.locator("[data-testid=portal-upload]");
  await form.locator("input[type=file]").setInputFiles({ name: "垃圾堆.jpg", mimeType: "image/jpeg", buffer: await photo("#8ab") });
  await form.locator("button").click();
  await form.locator("[data-upload-status]").filter({ hasText: "垃圾堆.jpg" }).waitFor();
  await page.fill("input[name=number]", req.number);
  await page.fill("input[name=code]", req.query_code);
  await page.click("form[action='/ui/portal/track'] button[type=submit]");
  const thumb = page.locator("[data-testid=tracked-files] img[data-testid=thumbnail]");
  await thumb.first().waitFor();
  // The element is there before its picture has loaded: wait for the load (or its error),
  // then look at what loaded.
  const loaded = await thumb.first().evaluate((i) => (i.complete ? Promise.resolve() : new Promise((r) => {
    i.addEventListener("load", r, { once: true });
    i.addEventListener("error", r, { once: true });
  })).then(() => i.naturalWidth > 0));
  ok(await thumb.count() === 1 && loaded, "the citizen's photo shows as a thumbnail on the tracking page");
  await shot(page, "32-citizen-photo");
  const evidencePhoto = await photo("#7a7");
  await ctx.close();

  const dispatched = await post("disp", `/api/v1/requests/${req.id}/dispatch`, { assignments: [{ unit_code: WANGJING, role: "lead" }] });
  ok(dispatched.status === 200, "dispatched to 望京街道");
  ({ ctx, page } = await as(browser, base, "wj"));
  await page.goto("/ui/unit");
  await page.locator(`[data-testid=order-${req.number}] [data-testid=ack]`).click();
  await page.waitForURL(/done=acknowledged/);
  const row = page.locator(`[data-testid=order-${req.number}]`);
  await row.locator("[data-testid=reply-box] summary").click();
  const up = row.locator("[data-testid=evidence-upload]");
  await up.locator("input[type=file]").setInputFiles({ name: "清理后.jpg", mimeType: "image/jpeg", buffer: evidencePhoto });
  await up.locator("input[name=public]").check();
  await up.locator("button").click();
  await up.locator("[data-upload-status]").filter({ hasText: "清理后.jpg" }).waitFor();
  await row.locator("textarea[name=to_requester]").fill("垃圾已清运，已安排每日巡查。");
  await row.locator("textarea[name=to_center]").fill("现场已清理，附清理后照片。");
  await shot(page, "33-unit-evidence");
  await row.locator("[data-testid=reply-box] button.primary").click();
  await page.waitForURL(/done=replied/);
  ok(true, "the unit attaches a photo as evidence and replies");
  await ctx.close();

  ({ ctx, page } = await as(browser, base, "op"));
  await page.goto(`/ui/requests/${req.id}`);
  const thumbs = page.locator("[data-testid=attachments] img[data-testid=thumbnail]");
  await thumbs.nth(1).waitFor();
  ok(await thumbs.count() === 2, "the request page shows the citizen's photo and the unit's evidence as thumbnails");
  ok((await page.locator("[data-testid=timeline]").innerText()).includes("添加附件"), "each upload is on the timeline");
  await shot(page, "34-request-files");
  await ctx.close();
}
// ---- end issue 20: attachments ----
// ---- issue 23: the caller's history at the intake desk (i23-places) ----
// The same number calls again about the open request: the desk shows the history once the
// number is complete, the open request on the same problem first, and 记为催办 records the call
// as a reminder on it instead of a new request; the dashboard counts the reminder call.
async function callerHistory(browser, base, id) {
  let { ctx, page } = await as(browser, base, "op");
  await page.goto("/ui/intake");
  await page.fill("input[name=name]", "王女士");
  await page.fill("textarea[name=text]", TEXT);
  await page.locator("input[name=phone]").pressSequentially(PHONE, { delay: 5 });
  const past = page.locator("[data-testid=caller-history] [data-testid=past-request]");
  await past.first().waitFor();
  ok(await past.count() === 1, "the desk shows the caller's earlier request once the number is complete");
  const history = await page.locator("[data-testid=caller-history]").innerText();
  ok(history.includes("138****5678") && !history.includes(PHONE), "the history shows the number masked");
  ok(await past.first().locator(".tag.warn").count() === 1, "the open request is marked as the same problem");
  await shot(page, "13-intake-caller-history");
  await past.first().locator("[data-testid=remind]").click();
  await page.waitForURL(new RegExp(`/ui/requests/${id}`));
  ok((await page.locator("[data-testid=timeline]").innerText()).includes("来电催办"), "记为催办 records the call as a reminder on the open request");
  await ctx.close();
  ({ ctx, page } = await as(browser, base, "sup"));
  // the dashboard opens on the last complete month (issue 20); the reminder is this month's
  await page.goto(`/ui/dashboard?month=${thisMonth()}`);
  const tile = page.locator("[data-testid=dashboard-repeat-callers]");
  ok(await tile.locator("[data-testid=reminder-calls]").innerText() === "1", "the dashboard counts the reminder call");
  await ctx.close();
}
// ---- end of issue 23 (i23-places) ----
// ---- issue 23: the knowledge base kept by the city ----
// The center writes an entry on the knowledge-base page (published); at the desk the answer is
// offered while the operator types, with 有用 / 没用 buttons that record a verdict in place
// (htmx); one click answers the call, and the request's page asks whether the answer helped.
async function knowledgeBase(browser, base) {
  let { ctx, page } = await as(browser, base, "sup");
  await page.goto("/ui/kb");
  await page.click("[data-testid=kb-new]");
  await page.fill("input[name=title]", "居住证在哪里办理？");
  await page.fill("textarea[name=answer]", "持身份证到居住地派出所或街道政务服务中心申领居住证。");
  await page.fill("input[name=tags]", "居住证，办理");
  await page.fill("input[name=source]", "市公安局人口管理总队");
  await page.click("[data-testid=kb-save]");
  await page.waitForURL(/\/ui\/kb\/[0-9a-f-]+\?done=kb_saved/);
  ok(await page.locator("[data-testid=kb-entry-status]").getAttribute("data-status") === "published", "the center's entry is published when saved");
  await shot(page, "30-kb-entry");
  // A file of entries from the list page: a dry run counts, the import stores (the form's
  // script sends the file as the body with the page's CSRF token and shows the answer).
  await page.goto("/ui/kb");
  const csv = "title,answer,category,keywords,status\n公积金怎么提取？,通过北京住房公积金网上业务系统申请提取。,住房保障,公积金|提取,published\n";
  const form = page.locator("[data-testid=kb-import]");
  await form.locator("input[type=file]").setInputFiles({ name: "知识库.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
  await form.locator("input[name=dry_run]").check();
  await form.locator("button").click();
  const said = form.locator("[data-testid=kb-import-status]");
  await page.waitForFunction(() => (document.querySelector("[data-testid=kb-import-status]")?.textContent || "").includes("试导入"));
  ok((await said.innerText()).includes("将新增 1 条"), "a dry run of the file counts the new entry");
  await form.locator("input[name=dry_run]").uncheck();
  await form.locator("button").click();
  await page.waitForFunction(() => (document.querySelector("[data-testid=kb-import-status]")?.textContent || "").includes("已导入"));
  ok((await said.innerText()).includes("新增 1 条"), "the import stores the entry");
  await shot(page, "30b-kb-import");
  await page.goto("/ui/kb?title=公积金");
  ok(await page.locator("[data-testid=kb-row]").count() === 1, "the imported entry is listed");
  await ctx.close();
  ({ ctx, page } = await as(browser, base, "op"));
  await page.goto("/ui/intake");
  await page.selectOption("select[name=kind]", "consultation");
  await page.fill("input[name=phone]", "13900002222");
  await page.locator("textarea[name=text]").pressSequentially("请问居住证在哪里办理", { delay: 5 });
  const offered = page.locator(".pick.kb");
  await offered.first().waitFor();
  await offered.first().locator("[data-testid=kb-helpful]").click();
  await offered.first().locator("[data-testid=kb-rated]").waitFor();
  ok((await offered.first().locator("[data-testid=kb-rated]").innerText()).includes("有用"), "a verdict at the desk is recorded in place");
  await shot(page, "31-intake-kb-rated");
  await offered.first().locator("button[value^='answer:']").click();
  await page.waitForURL(/\/ui\/requests\/.*done=answered/);
  // The verdict given at the desk went with the request the call made.
  await page.locator("[data-testid=kb-rated]").waitFor();
  ok((await page.locator("[data-testid=kb-rated]").innerText()).includes("有用"), "the request's page shows the desk's verdict on the answer");
  ok(await page.locator("[data-testid=kb-helpful]").count() === 0, "no second verdict is asked for");
  await ctx.close();
  // Another call answered from the entry without a verdict at the desk: its page asks.
  ({ ctx, page } = await as(browser, base, "op"));
  await page.goto("/ui/intake");
  await page.selectOption("select[name=kind]", "consultation");
  await page.fill("input[name=phone]", "13900002223");
  await page.locator("textarea[name=text]").pressSequentially("请问居住证在哪里办理", { delay: 5 });
  await page.locator(".pick.kb").first().waitFor();
  await page.locator(".pick.kb").first().locator("button[value^='answer:']").click();
  await page.waitForURL(/\/ui\/requests\/.*done=answered/);
  await page.locator("[data-testid=kb-unhelpful]").click();
  await page.locator("[data-testid=kb-rated]").waitFor();
  ok((await page.locator("[data-testid=kb-rated]").innerText()).includes("没用"), "the request's page records whether the answer helped");
  await ctx.close();
}
// ---- end of issue 23: the knowledge base ----

main();
