// Opens a hubsim report.html in Debian's headless Chromium, drives the verdict and area filters, asserts no network request, saves a screenshot.
//
// Usage: node check-report.mjs REPORT.html OUTDIR
// Exit 0 when every check passed, 1 when one failed, 2 on usage or environment errors.
import { chromium } from 'playwright-core';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [reportArg, outArg] = process.argv.slice(2);
if (!reportArg || !outArg) {
  console.error('usage: node check-report.mjs REPORT.html OUTDIR');
  process.exit(2);
}
const report = resolve(reportArg);
const outDir = resolve(outArg);
const browserPath = process.env.HUBSIM_CHROMIUM || '/usr/bin/chromium';
if (!existsSync(report)) {
  console.error(`html-report: ${report} does not exist`);
  process.exit(2);
}
if (!existsSync(browserPath)) {
  console.error(`html-report: ${browserPath} not found; install Debian's browser: apt-get install -y chromium`);
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });

let passed = 0;
let failed = 0;
function check(ok, what) {
  if (ok) {
    passed++;
    console.log(`  ok    ${what}`);
  } else {
    failed++;
    console.log(`  FAIL  ${what}`);
  }
}

const reportUrl = pathToFileURL(report).href;
const browser = await chromium.launch({
  executablePath: browserPath,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  // Every request the page makes, apart from loading the report file itself,
  // is recorded and refused: the report must work with no network at all.
  const foreign = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === reportUrl) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  const pageErrors = [];
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') pageErrors.push(m.text()); });
  page.on('request', (r) => { if (r.url() !== reportUrl && !foreign.includes(r.url())) foreign.push(r.url()); });

  await page.goto(reportUrl, { waitUntil: 'load' });

  const cases = page.locator('#case-list details.case');
  const total = await cases.count();
  const shownCount = async () => Number(await page.locator('#shown-count').textContent());
  // Visible cases, with their verdict and area, read from the DOM as the user sees it.
  const visible = async () => page.$$eval('#case-list details.case', (els) =>
    els.filter((e) => e.offsetParent !== null || e.getClientRects().length > 0)
      .map((e) => ({ verdict: e.dataset.verdict, area: e.dataset.area, id: e.dataset.id })));
  const all = await page.$$eval('#case-list details.case', (els) =>
    els.map((e) => ({ verdict: e.dataset.verdict, area: e.dataset.area })));

  check(total > 0, `report lists cases (${total})`);
  check(total === Number(await page.locator('#case-total').textContent()), 'case total matches the list');
  check((await visible()).length === total && (await shownCount()) === total, 'all cases shown before filtering');

  const verdicts = [...new Set(all.map((c) => c.verdict))];
  const areas = [...new Set(all.map((c) => c.area))];
  const allVerdicts = ['PASS', 'NON-STRICT', 'WRONG-CODE', 'FAIL', 'SKIP', 'ERROR'];
  check(verdicts.every((v) => allVerdicts.includes(v)), `only known verdicts (${verdicts.join(', ')})`);

  // Verdict filters: each shows exactly the cases of that verdict.
  for (const v of verdicts) {
    await page.click(`#verdict-filters button[data-value="${v}"]`);
    const vis = await visible();
    const want = all.filter((c) => c.verdict === v).length;
    check(vis.length === want && vis.every((c) => c.verdict === v) && (await shownCount()) === want,
      `verdict filter ${v}: ${vis.length} shown, ${want} expected`);
    check((await page.getAttribute(`#verdict-filters button[data-value="${v}"]`, 'aria-pressed')) === 'true',
      `verdict filter ${v} shows as pressed`);
  }

  // Area filter combined with a verdict filter, then alone.
  const v0 = verdicts.includes('FAIL') ? 'FAIL' : verdicts[0];
  const a0 = all.find((c) => c.verdict === v0).area;
  await page.click(`#verdict-filters button[data-value="${v0}"]`);
  await page.click(`#area-filters button[data-value="${a0}"]`);
  let vis = await visible();
  let want = all.filter((c) => c.verdict === v0 && c.area === a0).length;
  check(vis.length === want && vis.every((c) => c.verdict === v0 && c.area === a0),
    `verdict ${v0} + area ${a0}: ${vis.length} shown, ${want} expected`);
  await page.click('#verdict-filters button[data-value=""]');
  for (const a of areas) {
    await page.click(`#area-filters button[data-value="${a}"]`);
    vis = await visible();
    want = all.filter((c) => c.area === a).length;
    check(vis.length === want && vis.every((c) => c.area === a), `area filter ${a}: ${vis.length} shown, ${want} expected`);
  }
  // A verdict no case has: nothing shown, and the page says so.
  const unused = allVerdicts.find((v) => !verdicts.includes(v));
  if (unused) {
    await page.click('#area-filters button[data-value=""]');
    await page.click(`#verdict-filters button[data-value="${unused}"]`);
    check((await visible()).length === 0 && (await shownCount()) === 0 && await page.isVisible('#no-cases'),
      `verdict filter ${unused} (no such case): nothing shown and the page says so`);
  }
  // A combination with no case says so.
  const absent = allVerdicts.find((v) => !all.some((c) => c.verdict === v && c.area === areas[0]));
  if (absent) {
    await page.click(`#area-filters button[data-value="${areas[0]}"]`);
    await page.click(`#verdict-filters button[data-value="${absent}"]`);
    check((await visible()).length === 0 && await page.isVisible('#no-cases'),
      `area ${areas[0]} + verdict ${absent}: nothing shown and the page says so`);
  }
  // The matrix cells filter too.
  const cell = page.locator('#matrix button[data-show-verdict]').first();
  const cv = await cell.getAttribute('data-show-verdict');
  const ca = await cell.getAttribute('data-show-area');
  await cell.click();
  vis = await visible();
  want = all.filter((c) => c.verdict === cv && c.area === ca).length;
  check(vis.length === want && vis.every((c) => c.verdict === cv && c.area === ca) && want === Number(await cell.textContent()),
    `matrix cell ${ca} x ${cv}: ${vis.length} shown, cell says ${await cell.textContent()}`);
  // The summary totals filter by verdict.
  await page.click('#totals button[data-value=""]');
  await page.click('#area-filters button[data-value=""]');
  check((await visible()).length === total, 'all/all filters show every case again');

  // Expanding a case shows its rule text, spec reference and trace excerpt.
  const firstBad = page.locator('#case-list details.case[data-verdict="FAIL"], #case-list details.case[data-verdict="WRONG-CODE"]').first();
  const target = (await firstBad.count()) ? firstBad : cases.first();
  check(!(await target.locator('.body').isVisible()), 'case body hidden until expanded');
  await target.locator('summary').click();
  check(await target.evaluate((e) => e.open), 'clicking a case expands it');
  check(await target.locator('.body').isVisible(), 'expanded case shows its body');
  // Whatever the case carries (rule text, level, spec, expected, observed,
  // message) is on screen once expanded.
  const fields = await target.locator('.body dl.kv dt').allInnerTexts();
  check(fields.length > 0 && await target.locator('.body dl.kv').isVisible(),
    `expanded case shows its fields (${fields.join(', ')})`);
  if (await target.locator('.body .rule').count())
    check(await target.locator('.body .rule').isVisible(), 'expanded case shows its rule text');
  if (await target.locator('pre.trace').count())
    check(await target.locator('pre.trace').isVisible(), 'expanded case shows its trace excerpt');
  // No script from the data ran: hostile strings in the report stay text.
  // Reports carry hostile strings (the writer tests put <script>alert(...)
  // in names and traces): if any ran, a dialog would have opened.
  check(dialogs.length === 0, `no script from report data ran (${dialogs.length} dialog(s))`);

  const shot = join(outDir, 'report.png');
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot: ${shot}`);

  check(foreign.length === 0, `no network request (${foreign.length ? foreign.join(' ') : 'none'})`);
  check(pageErrors.length === 0, `no script error (${pageErrors.join(' | ') || 'none'})`);
  await context.close();
} finally {
  await browser.close();
}
console.log(`html-report: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
