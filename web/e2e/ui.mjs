// The browser half of the end-to-end test (web/e2e/e2e_test.go starts the stack and sets the
// environment): Debian's Chromium driven by playwright-core, members acting through
// "Test Wallet (e2e)", a Wallet Standard wallet injected before the page loads that signs with
// their real keys. Every page is screenshotted into UG_E2E_SCREENSHOTS.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run this through \`go test ./web/e2e\`)`);
  return v;
}

const API = env('UG_E2E_API_URL');
const RPC = env('UG_E2E_RPC_URL');
const TEMPORAL_UI = env('UG_E2E_TEMPORAL_UI');
const KEYS = JSON.parse(env('UG_E2E_MEMBER_KEYS'));
const MEMBERS = JSON.parse(env('UG_E2E_MEMBERS'));
const MULTISIG = env('UG_E2E_MULTISIG');
const PROGRAM = env('UG_E2E_PROGRAM');
const BUFFERS = JSON.parse(env('UG_E2E_BUFFERS'));
const HASH = env('UG_E2E_BUFFER_HASH');
const MISSING = env('UG_E2E_MISSING_ACCOUNT');
// A key that is no member yet: the change of the multisig replaces member 5 with it.
const NEW_MEMBER = env('UG_E2E_NEW_MEMBER');
const ACCOUNTS = Number(env('UG_E2E_ACCOUNTS'));
const SHOTS = env('UG_E2E_SCREENSHOTS');
const RESULT = env('UG_E2E_RESULT');
const CHROMIUM = env('UG_CHROMIUM');

const walletScript = [
  fs.readFileSync(require.resolve('tweetnacl/nacl-fast.min.js'), 'utf8'),
  fs.readFileSync(new URL('./test-wallet.js', import.meta.url), 'utf8').replace('__SECRET_KEYS__', JSON.stringify(KEYS)),
].join('\n;\n');

const started = Date.now();
function step(text) {
  console.log(`[ui ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${text}`);
}

const pageErrors = [];

async function newPage(browser, options) {
  const context = await browser.newContext(options);
  await context.addInitScript({ content: walletScript });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) console.log(`  browser console: ${m.text()}`);
  });
  return page;
}

async function shot(page, name, fullPage = true) {
  const file = path.join(SHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage });
  step(`screenshot ${file}`);
}

async function waitText(page, selector, pattern, timeout = 30_000) {
  try {
    await page.waitForFunction(([sel, src, flags]) => {
      const el = document.querySelector(sel);
      return !!el && new RegExp(src, flags).test(el.textContent ?? '');
    }, [selector, pattern.source, pattern.flags], { timeout });
  } catch (e) {
    const now = await page.locator(selector).first().textContent().catch(() => '(absent)');
    throw new Error(`${selector} never matched ${pattern} within ${timeout} ms; it shows: ${now}`);
  }
  return (await page.locator(selector).first().textContent()) ?? '';
}

// Every form control has a name a screen reader can read.
async function checkLabels(page, where) {
  const unlabeled = await page.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea, button'))
    .filter((el) => {
      if (el.closest('[hidden]') || el.type === 'hidden') return false;
      if (el.tagName === 'BUTTON') return !(el.textContent ?? '').trim() && !el.getAttribute('aria-label');
      return el.labels.length === 0 && !el.getAttribute('aria-label') && !el.getAttribute('aria-labelledby');
    })
    .map((el) => el.outerHTML.slice(0, 120)));
  assert.deepEqual(unlabeled, [], `${where}: controls without a label`);
}

// The review dialog shows what the wallet will sign before the wallet is asked.
async function review(page, expect) {
  const dialog = page.locator('#review-dialog');
  await dialog.waitFor({ state: 'visible' });
  for (const [label, value] of Object.entries(expect)) {
    const dd = dialog.locator(`dd[data-field="${label}"]`);
    const text = (await dd.textContent()) ?? '';
    assert.ok(text.includes(value), `review shows ${label} = ${text}, want ${value}`);
  }
  return dialog;
}

async function signLog(page) {
  return page.evaluate(() => window.__testWallet.log.length);
}

async function sign(page, expect, name) {
  const before = await signLog(page);
  const dialog = await review(page, expect);
  assert.equal(await signLog(page), before, 'the wallet was asked before the member saw the review');
  if (name) await shot(page, name, false); // the modal covers the viewport only
  await dialog.getByRole('button', { name: 'Sign in Test Wallet (e2e)' }).click();
  await dialog.waitFor({ state: 'hidden', timeout: 120_000 });
  assert.equal(await signLog(page), before + 1, 'the wallet signed once');
}

async function chooseAccount(page, i) {
  await page.selectOption('#account-select', MEMBERS[i]);
}

async function rpc(method, params) {
  const resp = await fetch(RPC, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
  });
  const body = await resp.json();
  if (body.error) throw new Error(`${method}: ${JSON.stringify(body.error)}`);
  return body.result;
}

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
  assert.deepEqual(pageErrors, [], 'uncaught errors in the page');
  step('all browser checks passed');
}

async function run(browser) {
  const page = await newPage(browser, { viewport: { width: 1280, height: 900 } });

  step('the proposals page, empty');
  await page.goto(`${API}/ui/`);
  await waitText(page, 'h1', /Proposals/);
  await waitText(page, '#proposals-region', /No proposals yet/);
  await checkLabels(page, 'proposals');
  await shot(page, '01-proposals-empty');

  step('settings: where the Temporal Web UI is');
  await page.click('nav >> text=System');
  await waitText(page, 'h1', /System state/);
  await page.fill('#temporal-ui', TEMPORAL_UI);
  await page.click('#settings >> text=Save settings');
  await waitText(page, '#settings', /Saved/);

  step('system state of the multisig, from the chain');
  await page.fill('#multisig-address', MULTISIG);
  await page.press('#multisig-address', 'Enter');
  await waitText(page, '#threshold', /^3 of 5$/);
  await waitText(page, '#timelock', /^1 h$/);
  await waitText(page, '#paused-state', /Running/);
  assert.equal(await page.locator('#members li').count(), 5);
  await checkLabels(page, 'system');

  step('connect the wallet with the keyboard');
  await page.focus('#connect-wallet');
  await page.keyboard.press('Enter');
  const connectDialog = page.locator('#connect-dialog');
  await connectDialog.waitFor({ state: 'visible' });
  const focused = await page.evaluate(() => document.activeElement?.textContent ?? '');
  assert.match(focused, /Test Wallet \(e2e\)/, 'the dialog focuses the first wallet');
  await page.keyboard.press('Enter');
  await connectDialog.waitFor({ state: 'hidden' });
  await waitText(page, '#wallet-name', /Test Wallet \(e2e\)/);
  assert.equal(await page.locator('#account-select option').count(), 5);
  await chooseAccount(page, 0);
  await waitText(page, '#members', /your connected account/);
  await shot(page, '02-system');

  step('a proposal with a buffer that does not exist: the API error is shown at the field');
  await page.click('nav >> text=New proposal');
  await waitText(page, 'h1', /New proposal/);
  assert.equal(await page.inputValue('#p-multisig'), MULTISIG, 'the form starts with the multisig looked at last');
  await page.fill('#p-program', PROGRAM);
  await page.fill('#p-buffer', MISSING);
  await page.fill('#p-description', 'Counter v2: moves fields, migrates accounts');
  await page.check('#p-migrate');
  await page.fill('#p-target-version', '2');
  await page.fill('#p-from-version', '1');
  await page.fill('#p-data-size', '64');
  await page.fill('#p-version-offset', '0');
  await page.fill('#p-instruction-data', 'Ag==');
  await checkLabels(page, 'new proposal');
  await page.click('#propose');
  await page.locator('#action-result [role=alert][data-code="account_not_found"]').waitFor();
  assert.equal(await page.getAttribute('#p-buffer', 'aria-invalid'), 'true');
  await waitText(page, '#p-buffer-error', /does not exist on chain/);
  assert.equal(await signLog(page), 0, 'nothing was signed');
  await shot(page, '03-new-proposal-error');

  step('propose: the review shows program, buffer hash and proposal before the wallet signs');
  await page.fill('#p-buffer', BUFFERS[0]);
  await page.click('#propose');
  await sign(page, {
    Action: 'Propose an upgrade', Program: PROGRAM, Buffer: BUFFERS[0], 'Buffer hash (SHA-256 of the ELF)': HASH,
    'Migration to layout version': '2', 'Signed by (you)': MEMBERS[0],
  }, '04-review-propose');
  await page.waitForURL(/#\/proposals\/[1-9A-HJ-NP-Za-km-z]+$/);
  const executedAddr = page.url().split('/').pop();
  step(`proposal ${executedAddr}: waiting for it to land on chain`);
  await waitText(page, '#proposal-status', /Collecting approvals/, 90_000);
  await waitText(page, '#buffer-hash', new RegExp(`^${HASH}$`));
  await waitText(page, '#approval-count', /^0 of 3$/);
  await checkLabels(page, 'proposal');
  await shot(page, '05-proposal-active');

  step('member 1 approves');
  await page.click('#approve');
  await sign(page, { Action: 'Approve the upgrade', Proposal: executedAddr, Program: PROGRAM, 'Buffer hash (SHA-256 of the ELF)': HASH }, '06-review-approve');
  await waitText(page, '#action-result', /Approved: 1 of 3/, 90_000);
  await waitText(page, '#approval-count', /^1 of 3$/);

  step('member 1 approves again: the API refuses and the page says why');
  await page.click('#approve');
  await sign(page, { Proposal: executedAddr });
  const problem = page.locator('#action-result [role=alert]');
  await problem.waitFor({ timeout: 60_000 });
  assert.equal(await problem.getAttribute('data-code'), 'update_rejected');
  await waitText(page, '#action-result', /already approved/);
  await waitText(page, '#action-result', /HTTP 409/);
  await shot(page, '07-error-approve-twice');

  step('members 2 and 3 approve: the timelock starts');
  for (const i of [1, 2]) {
    await chooseAccount(page, i);
    await page.click('#approve');
    await sign(page, { Proposal: executedAddr, 'Signed by (you)': MEMBERS[i] });
    await waitText(page, '#action-result', new RegExp(`Approved: ${i + 1} of 3`), 90_000);
  }
  await waitText(page, '#proposal-status', /Approved, in timelock/);
  await waitText(page, '#approval-count', /^3 of 3$/);
  const first = await waitText(page, '#eta-countdown', /^in (\d+ h )?\d+ min \d\d s$/);
  await page.waitForTimeout(2_200);
  const second = await waitText(page, '#eta-countdown', /^in (\d+ h )?\d+ min \d\d s$/);
  assert.notEqual(first, second, 'the countdown moves');
  step(`countdown: "${first}" then "${second}"`);
  await waitText(page, '#workflow-step', /timelock/);
  const wfHref = await page.getAttribute('#workflow-fields a.workflow-link', 'href');
  assert.equal(wfHref, `${TEMPORAL_UI}/namespaces/default/workflows/proposal-${executedAddr}`);
  assert.ok(await page.locator('#workflow-fields a.tx-link').count() >= 1, 'the propose transaction is linked');
  assert.equal(await page.locator('#approval-history tbody tr').count(), 3);
  await shot(page, '08-approved-countdown');

  step('time travel past the eta on the local chain, then ask to execute');
  const eta = Date.parse(await page.getAttribute('#eta-countdown', 'datetime'));
  await rpc('surfnet_timeTravel', [{ absoluteTimestamp: eta + 1000 }]);
  // The countdown follows the chain's clock (GET /clock), not the browser's: it said
  // "in 59 min" after the chain had passed the eta.
  await waitText(page, '#eta-countdown', /^passed /, 20_000);
  await page.click('#execute');
  await sign(page, { Action: 'Ask to execute the upgrade', Proposal: executedAddr });
  await waitText(page, '#action-result', /Asked/, 60_000);
  await waitText(page, '#proposal-status', /Executed/, 180_000);

  step('the migration progresses');
  const seen = new Set();
  let shotMidway = false;
  const deadline = Date.now() + 300_000;
  for (;;) {
    const text = (await page.locator('#migration-text').textContent().catch(() => '')) ?? '';
    if (!seen.has(text) && /Migrated [1-9]\d* of/.test(text) && !/\(100 %\)/.test(text) && !shotMidway) {
      shotMidway = true;
      await page.locator('#migration').evaluate((el) => el.scrollIntoView({ block: 'center' }));
      await shot(page, '09-migration-in-progress', false);
    }
    seen.add(text);
    if (new RegExp(`Migrated ${ACCOUNTS} of ${ACCOUNTS} accounts \\(100 %\\): completed`).test(text)) break;
    if (Date.now() > deadline) throw new Error(`migration not completed; the page shows: ${text}`);
    await page.waitForTimeout(150);
  }
  step(`migration texts seen: ${[...seen].filter(Boolean).join(' | ')}`);
  // Each migrated batch is audited: the approvals are older than the first 100 entries.
  if (!/approval\.recorded/.test((await page.locator('#audit').textContent()) ?? '')) {
    await page.click('#older-audit');
  }
  await waitText(page, '#audit', /approval\.recorded/);
  const grouped = await page.locator('#audit tr[data-run]').count();
  assert.ok(grouped >= 1, 'runs of migrated batches are grouped');
  const actions = await page.locator('#audit tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action-name')));
  for (const a of ['proposal.submitted', 'approval.recorded', 'proposal.execute_requested']) {
    assert.ok(actions.includes(a), `the audit trail shows ${a} (it has ${[...new Set(actions)].join(', ')})`);
  }
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot(page, '09-executed-migrated', false);
  await page.locator('#audit').evaluate((el) => el.scrollIntoView());
  await shot(page, '09-audit-trail', false);

  step('the list shows status, approvals and migration progress');
  await page.click('nav >> text=Proposals');
  const row = `tr[data-proposal="${executedAddr}"]`;
  await waitText(page, row, /Executed/);
  await waitText(page, `${row} td.approvals`, /^3 \/ 3$/);
  // One deployment serves several multisigs: each row names its multisig by the operator's label.
  await waitText(page, `${row} td[data-label="Multisig"]`, /web-e2e/);
  await waitText(page, row, new RegExp(`${ACCOUNTS} / ${ACCOUNTS} \\(100 %\\)`));
  await shot(page, '10-proposals-list');

  step('the workflow link opens the workflow in the Temporal Web UI');
  const temporal = await page.context().newPage();
  await temporal.goto(wfHref);
  await temporal.getByText(`proposal-${executedAddr}`).first().waitFor({ timeout: 60_000 });
  await temporal.waitForTimeout(1_000);
  await shot(temporal, '11-temporal-workflow');
  await temporal.close();

  step('member 2 proposes again; the wallet refuses once; member 4 cancels');
  await chooseAccount(page, 1);
  await page.click('nav >> text=New proposal');
  await page.fill('#p-program', PROGRAM);
  await page.fill('#p-buffer', BUFFERS[1]);
  await page.fill('#p-description', 'A change we will cancel');
  await page.click('#propose');
  await sign(page, { Buffer: BUFFERS[1], 'Signed by (you)': MEMBERS[1] });
  await page.waitForURL(/#\/proposals\/[1-9A-HJ-NP-Za-km-z]+$/);
  const cancelledAddr = page.url().split('/').pop();
  assert.notEqual(cancelledAddr, executedAddr);
  await waitText(page, '#proposal-status', /Collecting approvals/, 90_000);
  await page.evaluate(() => { window.__testWallet.reject = true; });
  await page.click('#approve');
  await review(page, { Proposal: cancelledAddr });
  await page.locator('#review-dialog').getByRole('button', { name: 'Sign in Test Wallet (e2e)' }).click();
  await page.locator('#action-result [role=alert][data-code="wallet_rejected"]').waitFor();
  await page.evaluate(() => { window.__testWallet.reject = false; });
  // A member's cancel is a vote: members 4, 5 and 1 vote, and the third vote (the threshold)
  // cancels it.
  await chooseAccount(page, 3);
  await page.fill('#cancel-reason', 'superseded by the next release');
  await page.click('#cancel');
  await sign(page, { Action: 'Cancel the upgrade', Proposal: cancelledAddr, 'Reason (audit trail)': 'superseded by the next release' }, '12-review-cancel');
  await waitText(page, '#action-result', /vote to cancel is on chain: 1 of 3/, 90_000);
  await waitText(page, '#proposal-status', /Collecting approvals/, 30_000);
  for (const i of [4, 0]) {
    await chooseAccount(page, i);
    await page.click('#cancel');
    await sign(page, { Proposal: cancelledAddr, 'Signed by (you)': MEMBERS[i] });
  }
  await waitText(page, '#action-result', /Cancelled on chain/, 90_000);
  await waitText(page, '#proposal-status', /Cancelled/, 60_000);
  await waitText(page, '#audit', /superseded by the next release/);
  await shot(page, '13-proposal-cancelled');

  step('the system page still shows the multisig running');
  await page.click('nav >> text=System');
  await waitText(page, '#paused-state', /Running/);
  await waitText(page, '#threshold', /^3 of 5$/);
  await shot(page, '14-system');

  const { config, stale } = await changeTheMultisig(page);

  step('a phone: the same pages, readable without sideways scrolling');
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
  for (const [hash, name, ready] of [
    ['#/', '25-phone-proposals', `tr[data-proposal="${executedAddr}"]`],
    [`#/proposals/${executedAddr}`, '26-phone-proposal', '#migration-text'],
    ['#/new', '27-phone-new-proposal', '#p-buffer'],
    [`#/system/${MULTISIG}`, '28-phone-system', '#history'],
    [`#/proposals/${config}`, '29-phone-config-proposal', '#change-list'],
    [`#/change/${MULTISIG}`, '30-phone-change', '#c-add-kind'],
  ]) {
    await phone.goto(`${API}/ui/${hash}`);
    await phone.locator(ready).first().waitFor();
    await phone.waitForTimeout(300);
    const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 1, `${hash} scrolls sideways by ${overflow}px on a phone`);
    await shot(phone, name, false);
  }
  await phone.goto(`${API}/ui/#/proposals/${executedAddr}`);
  await phone.locator('#migration-text').waitFor();
  await phone.locator('#audit').evaluate((el) => el.scrollIntoView());
  await shot(phone, '31-phone-proposal-audit', false);
  await phone.context().close();

  fs.writeFileSync(RESULT, JSON.stringify({ executed: executedAddr, cancelled: cancelledAddr, config, stale }));
}

// The multisig governs itself: member 5's key is replaced (remove it, add a new one) by a
// config proposal made on the change page, approved by three members, executed after the
// timelock. A second config proposal made meanwhile goes stale. The system page shows the new
// members and the history.
async function changeTheMultisig(page) {
  const change = (n) => page.locator('#change-list > li.change').nth(n);
  const addChange = async (kind) => {
    await page.selectOption('#c-add-kind', kind);
    await page.click('#c-add');
  };

  step('change the multisig: the program refuses what it would refuse, each error beside its change');
  await chooseAccount(page, 0);
  const signedBefore = await signLog(page);
  await page.click('#change-link');
  await waitText(page, 'h1', /Change the multisig/);
  assert.equal(await page.inputValue('#c-multisig'), MULTISIG, 'the form starts with the multisig looked at');
  await waitText(page, '#c-current', /Now: 3 of 5 members, timelock 1 h/);
  await addChange('remove_member');
  await addChange('add_member');
  await addChange('set_threshold');
  await change(0).locator('[name=member]').fill(MEMBERS[4]);
  // Valid base58, so the browser lets it through; the API names it (the all-zero key).
  await change(1).locator('[name=member]').fill('11111111111111111111111111111111');
  await change(2).locator('[name=threshold]').fill('6');
  await page.fill('#c-description', "Replace member 5's lost key");
  await checkLabels(page, 'change the multisig');
  await page.click('#propose-change');
  await page.locator('#action-result [role=alert][data-code="invalid_field"]').waitFor();
  await waitText(page, '#action-result', /actions\[1\]\.member/);
  assert.equal(await change(1).locator('[name=member]').getAttribute('aria-invalid'), 'true');
  assert.match((await change(1).locator('.field-error:not([hidden])').first().textContent()) ?? '', /all-zero/);
  await shot(page, '15-change-field-error');

  await change(1).locator('[name=member]').fill(NEW_MEMBER);
  await page.click('#propose-change');
  // After the removal there are 5 members; a threshold of 6 breaks the program's rule.
  await page.locator('#action-result [role=alert][data-code="config_refused"]').waitFor({ timeout: 60_000 });
  await waitText(page, '#c-changes-error', /refuses/);
  assert.equal(await signLog(page), signedBefore, 'nothing was signed');
  await shot(page, '16-change-refused');

  step('propose: remove member 5, add the new key; the review lists the changes before the wallet signs');
  await change(2).locator('[data-action=remove-change]').click();
  assert.equal(await page.locator('#change-list > li.change').count(), 2);
  await page.click('#propose-change');
  await sign(page, {
    Action: 'Propose a change of the multisig',
    'Change 1': `Remove ${MEMBERS[4]} from the members`,
    'Change 2': `Add ${NEW_MEMBER} as a member`,
    'Once executed': 'stale',
    Description: "Replace member 5's lost key",
    'Signed by (you)': MEMBERS[0],
  }, '17-review-propose-change');
  await page.waitForURL(/#\/proposals\/[1-9A-HJ-NP-Za-km-z]+$/);
  const config = page.url().split('/').pop();
  step(`config proposal ${config}: waiting for it to land on chain`);
  await waitText(page, '#proposal-status', /Collecting approvals/, 90_000);
  await waitText(page, '#change-list', new RegExp(`Remove ${MEMBERS[4]} from the members`));
  await waitText(page, '#change-list', new RegExp(`Add ${NEW_MEMBER} as a member`));
  assert.equal(await page.locator('#buffer-hash').count(), 0, 'a config proposal has no buffer hash');
  await shot(page, '18-config-proposal');

  step('member 2 proposes another change meanwhile (a 2-hour timelock): it will go stale');
  await chooseAccount(page, 1);
  await page.click('nav >> text=Change multisig');
  await waitText(page, 'h1', /Change the multisig/);
  await addChange('set_timelock');
  await change(0).locator('[name=seconds]').fill('2');
  await page.click('#propose-change');
  await sign(page, { Action: 'Propose a change of the multisig', 'Change 1': 'Set the timelock to 2 hours (7200 s)', 'Signed by (you)': MEMBERS[1] });
  await page.waitForURL(/#\/proposals\/[1-9A-HJ-NP-Za-km-z]+$/);
  const stale = page.url().split('/').pop();
  assert.notEqual(stale, config);
  await waitText(page, '#proposal-status', /Collecting approvals/, 90_000);
  const staleIndex = Number((await waitText(page, 'h1', /Proposal #\d+/)).match(/#(\d+)/)[1]);

  step('members 1, 2 and 3 approve the replacement; the timelock starts');
  await page.evaluate((a) => { location.hash = `#/proposals/${a}`; }, config);
  await waitText(page, '#change-list', new RegExp(NEW_MEMBER));
  for (const i of [0, 1, 2]) {
    await chooseAccount(page, i);
    await page.click('#approve');
    await sign(page, { Action: 'Approve the change of the multisig', Proposal: config, 'Change 2': NEW_MEMBER, 'Signed by (you)': MEMBERS[i] },
      i === 0 ? '19-review-approve-change' : undefined);
    await waitText(page, '#action-result', new RegExp(`Approved: ${i + 1} of 3`), 90_000);
  }
  await waitText(page, '#proposal-status', /Approved, in timelock/);
  await waitText(page, '#eta-countdown', /^in /);

  // The index signals the workflow on each approval it sees; one that arrives after the time
  // travel makes the worker execute on its own. Let the index catch up first, so the member's
  // request is what executes it (unless the worker still gets there first: both are fine).
  await waitText(page, '#workflow-step', /timelock/);
  await page.waitForFunction(() => document.querySelectorAll('#approval-history tbody tr').length === 3);
  await page.waitForTimeout(2_000);

  step('time travel past the eta, then ask to execute the change');
  const eta = Date.parse(await page.getAttribute('#eta-countdown', 'datetime'));
  await rpc('surfnet_timeTravel', [{ absoluteTimestamp: eta + 1000 }]);
  await page.waitForFunction(() => /^passed /.test(document.querySelector('#eta-countdown')?.textContent ?? '') ||
    /Executed/.test(document.querySelector('#proposal-status')?.textContent ?? ''), null, { timeout: 20_000 });
  if (/Executed/.test((await page.textContent('#proposal-status')) ?? '')) {
    step('the worker executed it on its own (a signal woke it after the time travel); nothing to ask');
  } else {
    await page.click('#execute');
    await sign(page, { Action: 'Ask to execute the change of the multisig', Proposal: config });
    await waitText(page, '#action-result', /Asked/, 60_000);
  }
  await waitText(page, '#proposal-status', /Executed/, 180_000);
  await shot(page, '20-config-executed');

  step('the proposal made before the change executed is stale: no approve, no execute');
  await page.evaluate((a) => { location.hash = `#/proposals/${a}`; }, stale);
  await waitText(page, '#stale-reason', /no further approvals or execution/, 60_000);
  await waitText(page, '#proposal-stale', /Stale/);
  assert.equal(await page.isDisabled('#approve'), true, 'a stale proposal offers no approval');
  assert.equal(await page.isDisabled('#execute'), true, 'a stale proposal offers no execution');
  assert.equal(await page.isDisabled('#cancel'), false, 'a stale proposal can still be cancelled');
  await shot(page, '21-stale-proposal');

  step('the list: "config: <changes>" where the program would be, and the stale one says so');
  await page.click('nav >> text=Proposals');
  await waitText(page, `tr[data-proposal="${config}"] td[data-label="Program"]`, /^config: Remove .* from the members; Add .* as a member$/);
  await waitText(page, `tr[data-proposal="${config}"]`, /Executed/);
  await waitText(page, `tr[data-proposal="${stale}"] td[data-label="Status"]`, /stale/);
  await waitText(page, `tr[data-proposal="${stale}"] td[data-label="Program"]`, /^config: Set the timelock to 2 hours/);
  await shot(page, '22-proposals-with-config');

  step('the system page: the new members, the history, up to which proposal others are stale');
  await page.click('nav >> text=System');
  await waitText(page, '#members', new RegExp(NEW_MEMBER), 60_000);
  assert.ok(!((await page.textContent('#members')) ?? '').includes(MEMBERS[4]), 'member 5 is no longer a member');
  await waitText(page, '#threshold', /^3 of 5$/);
  await waitText(page, '#stale-index', new RegExp(`^up to #${staleIndex}$`));
  await waitText(page, '#history tbody', new RegExp('added'), 60_000);
  const rows = await page.locator('#history tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-proposal')));
  assert.deepEqual(rows, [config, 'creation'], 'the history: the change, then the creation');
  await waitText(page, `#history tr[data-proposal="${config}"] td[data-label="Members"]`, new RegExp(`Removed: ${MEMBERS[4].slice(0, 4)}`));
  await page.locator('#history').evaluate((el) => el.scrollIntoView());
  await shot(page, '23-system-history', false);

  step('the change itself is not stale, though its index is within the stale ones');
  await page.evaluate((a) => { location.hash = `#/proposals/${a}`; }, config);
  await waitText(page, '#proposal-status', /Executed/);
  await waitText(page, '#workflow-step', /done/);
  await page.waitForTimeout(3_000); // a refresh or two
  assert.equal(await page.locator('#proposal-stale, #stale-reason').count(), 0, 'the executed change is not shown stale');
  assert.ok(!/stale/.test((await page.textContent(`#proposal-fields`)) ?? ''), 'its status is not stale');
  return { config, stale };
}

main().catch((e) => {
  console.error(e?.stack ?? String(e));
  process.exit(1);
});
