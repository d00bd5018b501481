// Drives the node's dashboard in headless Chromium (Debian's, through playwright-core) and
// prints, as one JSON object, what the page shows: the public fleet view, and the signed-in
// views of a prover, a requester and the admin key. Screenshots of each view go to OUT.
// Used by crates/cli/tests/dashboard.rs, which compares every number with the API's.
//
//   node tests/browser/dashboard.mjs URL '{"prover": "...", "requester": "...", "admin": "..."}' OUT
import { chromium } from 'playwright-core';

const [url, keysJson, out] = process.argv.slice(2);
const keys = JSON.parse(keysJson);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
});
const result = {};
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const requests = [];
  page.on('request', r => requests.push(r.url()));
  await page.goto(url);
  const text = async sel => (await page.locator(sel).first().innerText()).trim();
  await page.waitForSelector('[data-testid=tasks-done] b');
  await page.waitForFunction(() => document.getElementById('updated').textContent.startsWith('updated'));
  result.public = {
    done: await text('[data-testid=tasks-done] b'),
    online: await text('[data-testid=online] b'),
    epoch: await text('[data-testid=epoch-id]'),
    epochWork: await text('[data-testid=epoch-work]'),
    epochPool: await text('[data-testid=epoch-pool]'),
    proofsInHour: await page.locator('#tput-total').getAttribute('data-total'),
    machines: await page.locator('#provers tr[data-prover]').count(),
  };
  await page.screenshot({ path: `${out}/dashboard-fleet.png`, fullPage: true });

  const signIn = async (key, shot) => {
    await page.fill('#key', key);
    await page.click('#signin-btn');
    await page.waitForSelector('[data-testid=me], [data-testid=signin-error]');
    if (shot) await page.screenshot({ path: `${out}/${shot}`, fullPage: true });
  };
  const signOut = async () => {
    await page.click('#signout-btn');
    await page.waitForSelector('#mine', { state: 'hidden' });
  };

  await signIn(keys.prover, 'dashboard-prover.png');
  result.prover = {
    me: await text('[data-testid=me]'),
    balance: await text('[data-testid=balance]'),
    stake: await text('[data-testid=stake]'),
    collateral: await text('[data-testid=collateral]'),
    machines: await page.locator('[data-testid=my-machine]').count(),
    proofs: await text('[data-testid=my-proofs]'),
    rewardTasks: await text('[data-testid=reward-tasks]'),
    taskRewards: await text('[data-testid=reward-task-rewards]'),
  };
  // The key lives in this tab's session only.
  result.prover.stored = await page.evaluate(() => ({
    session: sessionStorage.getItem('zkpool-key') !== null,
    local: localStorage.length,
    cookies: document.cookie,
  }));
  await signOut();

  await signIn(keys.requester, 'dashboard-requester.png');
  result.requester = {
    me: await text('[data-testid=me]'),
    available: await text('[data-testid=available]'),
    escrowed: await text('[data-testid=escrowed]'),
    claimable: await text('[data-testid=claimable]'),
    tasks: await page.locator('[data-testid=my-task]').evaluateAll(rows =>
      rows.map(r => ({ id: Number(r.dataset.task), state: r.querySelector('[data-testid=task-state]').textContent }))),
  };
  await signOut();

  await signIn(keys.admin, 'dashboard-admin.png');
  result.admin = {
    me: await text('[data-testid=me]'),
    deposited: await text('[data-testid=deposited]'),
    treasury: await text('[data-testid=kind-treasury]'),
    keys: await page.locator('[data-testid=key-row]').count(),
  };
  await signOut();

  await signIn('zkp_requester_not_a_key');
  result.badKey = await text('[data-testid=signin-error]');
  await signOut().catch(() => {});

  // A phone: nothing wider than the screen but the tables, which scroll inside themselves.
  const phone = await browser.newPage({ viewport: { width: 375, height: 800 } });
  await phone.goto(url);
  await phone.waitForSelector('[data-testid=tasks-done] b');
  result.narrow = await phone.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: innerWidth }));
  await phone.screenshot({ path: `${out}/dashboard-phone.png`, fullPage: true });

  // Offline: every request the page made went to the node itself.
  result.foreign = requests.filter(r => !r.startsWith(url));
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
