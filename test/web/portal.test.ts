import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { SuanwangClient, type ApiError } from '../../src/api/client/client.js';
import { startEmbeddedNetwork, type EmbeddedNetwork } from '../../src/cli/up/embedded-network.js';
import { browserSkip, ensurePortalBuilt, launchBrowser, type Browser } from '../support/browser.js';
import { eventually } from '../support/wait.js';

/**
 * The portal in a real Chromium (Debian's, driven by playwright-core) against a real server: the
 * embedded network on PGlite with its three local centers and the seed catalog, served portal and
 * all. The user's path: sign in, search the store, launch an app from its form (a bad value refused
 * with the server's own message, then a good one accepted), follow its logs to the end, cancel a
 * job, see a center go offline. Every page must load without a console error; screenshots of the
 * main pages go to docs/screenshots/.
 */
const SHOTS = 'docs/screenshots';
const skip = browserSkip();

describe('the web portal in Chromium', { skip, timeout: 600_000 }, () => {
  let home: string;
  let network: EmbeddedNetwork;
  let browser: Browser;
  let page: Page;
  let api: SuanwangClient;

  before(async () => {
    ensurePortalBuilt();
    home = await mkdtemp(join(tmpdir(), 'suanwang-web-'));
    network = await startEmbeddedNetwork({ home, host: '127.0.0.1', port: 0, engine: { tickMs: 200, heartbeatIntervalMs: 500, agentDeadlineMs: 8_000, billing: 'on' } });
    api = new SuanwangClient(network.url, network.adminToken);
    // Money for the wallet page: ¥1,000 paid, a voucher program paying 30%, a ¥10 monthly budget
    // whose first alert fires at 0.01% (so the first settled job fires it).
    await api.request('POST', '/v1/top-ups', { org: 'platform', amountFen: 100_000, reference: 'web-test' });
    await api.request('POST', '/v1/voucher-programs', { name: '算力券 2026', funding: { kind: 'pool', total: 1_000_000 }, coPayBps: 3000, validUntil: '2099-01-01T00:00:00Z' });
    await api.request('POST', '/v1/budgets', { org: 'platform', limitFen: 1_000, thresholdsBps: [1, 10_000] });
    // A paid run of some seconds on a domestic chip (¥6 per 910B-hour: a few fen), settled long
    // before the wallet step: it fires the alert and gives the usage report its rows.
    await api.submit({ name: 'paid-run', command: ['sleep', '15'], acceleratorsPerNode: 1, accelerators: ['ascend-910b'], walltimeSeconds: 120 });
    browser = await launchBrowser();
    page = await browser.newPage();
  });
  after(async () => {
    await browser?.close();
    await network?.stop();
    if (home) await rm(home, { recursive: true, force: true });
  });
  const noConsoleErrors = () => assert.deepEqual(browser.errors, [], 'no console errors');
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  it('serves the portal at / with cacheable assets, and keeps API 404s as JSON', async () => {
    const index = await fetch(`${network.url}/jobs/some-client-route`);
    assert.equal(index.status, 200);
    const html = await index.text();
    assert.match(html, /<div id="root">/);
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(asset, 'index.html names its entry script');
    const js = await fetch(`${network.url}${asset}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    await js.arrayBuffer();
    const missing = await fetch(`${network.url}/v1/nothing-here`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'not_found');
    const traversal = await fetch(`${network.url}/assets/..%2F..%2Fpackage.json`);
    assert.notEqual(traversal.status, 200, 'no file outside web/dist');
    await traversal.arrayBuffer();
  });

  it('signs in with a token, shows the org and role, switches language, signs out', async () => {
    await page.goto(network.url);
    await page.getByRole('heading', { name: '登录算网' }).waitFor();
    await shot('signin');
    await page.getByLabel('API 令牌').fill(network.adminToken);
    await page.getByRole('button', { name: '登录' }).click();
    const who = page.getByTestId('whoami');
    await who.getByText('组织：platform').waitFor();
    await who.getByText('平台管理员').waitFor();
    await page.getByText('EN', { exact: true }).click();
    await page.getByText('Signed in as admin').waitFor();
    await page.getByText('中文', { exact: true }).click();
    await page.getByText('当前用户：admin').waitFor();
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByRole('heading', { name: '登录算网' }).waitFor();
    assert.equal(await page.evaluate<string | null>("localStorage.getItem('suanwang.token')"), null, 'signing out forgets the token');
    // In again, from the keyboard alone: focus the token field, type, Enter.
    await page.getByLabel('API 令牌').focus();
    await page.keyboard.type(network.adminToken);
    await page.keyboard.press('Enter');
    await page.getByTestId('whoami').waitFor();
    noConsoleErrors();
  });

  it('searches the store with facets and shows a product with its adaptation matrix', async () => {
    await page.goto(`${network.url}/store`);
    const search = page.getByRole('searchbox', { name: '搜索商城' }).or(page.getByLabel('搜索商城'));
    await search.first().fill('分子');
    await search.first().press('Enter');
    await page.getByRole('link', { name: /Lennard-Jones/ }).waitFor();
    await page.getByTestId('store-total').waitFor();
    await page.getByRole('checkbox', { name: /软件/ }).click();
    await eventually('the category facet in the URL', () => page.url().includes('category=software') && page.url().includes('q='));
    await eventually('the facet checked', () => page.getByRole('checkbox', { name: /软件/ }).isChecked());
    await page.getByTestId('store-total').waitFor();
    await shot('store');
    await page.getByRole('link', { name: /Lennard-Jones/ }).click();
    await page.getByText('适配矩阵').waitFor();
    await page.getByRole('cell', { name: 'ascend-910b' }).first().waitFor();
    await shot('product');
    noConsoleErrors();
  });

  let jobId: string;
  it('launches an app from its form: a bad value refused with the server message, a good one quoted and accepted', async () => {
    await page.goto(`${network.url}/store/md-lj`);
    await page.getByRole('button', { name: '立即启动' }).click();
    await page.waitForURL(/\/launch\/md-lj$/);
    const steps = page.getByLabel('Time steps');
    await steps.waitFor();
    assert.equal(await steps.inputValue(), '500', 'the default fills the field');
    await steps.fill('0');
    const before = (await api.listJobs()).items.length;
    await page.getByRole('button', { name: '提交作业' }).click();
    // What the server says about the same value, word for word.
    const server = await api.launch('md-lj', { params: { steps: 0 } }).then(
      () => assert.fail('the server accepted steps=0'),
      (e: unknown) => e as ApiError,
    );
    assert.equal(server.code, 'invalid_parameter');
    await page.getByRole('alert').getByText(server.message, { exact: false }).first().waitFor();
    assert.equal((await api.listJobs()).items.length, before, 'nothing was submitted');
    await steps.fill('200');
    await page.getByRole('button', { name: '询价' }).click();
    await page.getByText('调度方案').waitFor();
    await page.getByRole('cell', { name: /guizhou-guian|east-shanghai|west-zhongwei/ }).first().waitFor();
    await shot('launch');
    await page.getByRole('button', { name: '提交作业' }).click();
    await page.waitForURL(/\/jobs\/job_/);
    jobId = /\/jobs\/(job_[0-9a-z]+)/.exec(page.url())![1]!;
    const job = await api.job(jobId);
    assert.match(job.job.command.join(' '), /md|python/);
    noConsoleErrors();
  });

  it("follows the job's logs to the end and downloads them", async () => {
    await page.getByText('作业已结束，日志已全部读取。').waitFor({ timeout: 120_000 });
    const shown = await page.getByTestId('logs').innerText();
    const chunks: string[] = [];
    await api.follow(jobId, (c) => chunks.push(c.data));
    assert.equal(shown.trim(), chunks.join('').trim(), 'the page shows all the output, in order');
    assert.match(shown, /drift/i);
    await page.getByTestId('job-state').getByText('已完成').waitFor();
    await page.getByTestId('placement').getByText('调度方案').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: '下载日志' }).click()]);
    assert.equal((await readFile((await download.path())!, 'utf8')).trim(), chunks.join('').trim());
    await shot('job');
    noConsoleErrors();
  });

  it('cancels a running job from its page, and lists jobs live', async () => {
    const job = await api.submit({ name: 'long-sleep', command: ['sleep', '300'], coresPerNode: 1 });
    await page.goto(`${network.url}/jobs/${job.id}`);
    await page.getByTestId('job-state').getByText('运行中').waitFor({ timeout: 60_000 });
    await page.getByRole('button', { name: '取消作业' }).click();
    await page.getByRole('tooltip').getByRole('button', { name: '取消作业' }).click();
    await page.getByTestId('job-state').getByText('已取消').waitFor({ timeout: 60_000 });
    assert.equal((await api.job(job.id)).job.state, 'cancelled');
    await page.goto(`${network.url}/jobs`);
    await page.getByRole('link', { name: 'long-sleep' }).waitFor();
    await page.getByRole('row', { name: /long-sleep/ }).getByText('已取消').waitFor();
    await shot('jobs');
    noConsoleErrors();
  });

  it('shows the network on a map and a center going offline', async () => {
    await page.goto(`${network.url}/network`);
    await page.getByTestId('center-state-guizhou-guian').getByText('在线').waitFor();
    await page.getByRole('img', { name: /3 个算力中心/ }).waitFor();
    await shot('network');
    await network.agents.get('guizhou-guian')!.stop();
    await page.getByTestId('center-state-guizhou-guian').getByText('离线').waitFor({ timeout: 60_000 });
    await page.getByTestId('center-state-east-shanghai').getByText('在线').waitFor();
    await shot('network-offline');
    noConsoleErrors();
  });

  it('shows the wallet, the publish page with line-and-column errors, and the admin pages', async () => {
    await page.goto(`${network.url}/wallet`);
    await page.getByText('可用余额').waitFor();
    await page.getByRole('cell', { name: '算力券 2026' }).waitFor();
    await page.getByRole('status').getByText('已达 0.01% 提醒').waitFor({ timeout: 30_000 });
    await page.getByRole('img', { name: '本月消费柱状图' }).waitFor({ timeout: 30_000 });
    await page.getByText('按芯片').click();
    await page.getByRole('cell', { name: /^(nvidia-a100|ascend-910b|cpu)$/ }).first().waitFor();
    await page.getByText('按日').click();
    await shot('wallet');
    await page.goto(`${network.url}/publish`);
    await page.getByText('清单校验通过。').waitFor();
    const editor = page.getByLabel('产品清单（YAML）');
    const text = await editor.inputValue();
    await editor.fill(text.replace('version: 1.0.0', 'version: one').replace('maxLength: 64', 'maxLength: -1'));
    const errors = page.getByTestId('manifest-errors');
    await errors.getByText(/第 6 行第 10 列/).waitFor();
    await errors.getByText(/semantic version/).waitFor();
    await shot('publish');
    await editor.fill(text);
    await page.getByRole('button', { name: '发布' }).click();
    await page.getByText(/hello-app@1\.0\.0 已提交/).waitFor();
    await page.goto(`${network.url}/admin`);
    await page.getByRole('link', { name: 'hello-app@1.0.0' }).waitFor();
    await shot('admin');
    await page.getByRole('button', { name: '通过' }).click();
    await page.getByText('没有待审核的版本。').waitFor();
    await page.getByRole('tab', { name: '令牌' }).click();
    await page.getByRole('tab', { name: '用户' }).click();
    await page.getByRole('cell', { name: 'admin', exact: true }).first().waitFor();
    // A new user from the form: its first token is shown once, and works.
    const users = page.getByRole('tabpanel', { name: '用户' });
    await users.getByLabel('组织').fill('acme');
    await users.getByLabel('用户').fill('alice');
    await users.getByRole('button', { name: '创建' }).click();
    const token = (await users.getByTestId('new-token').innerText()).trim();
    assert.deepEqual(await new SuanwangClient(network.url, token).whoami(), { user: 'alice', org: 'acme', role: 'user' });
    await users.getByRole('cell', { name: 'alice', exact: true }).waitFor();
    noConsoleErrors();
  });

  it('gives every control an accessible name, moves by keyboard, and fits a phone at 390 px', async () => {
    for (const path of ['/store', '/launch/md-lj', '/jobs', '/network', '/wallet', '/publish', '/admin']) {
      await page.goto(`${network.url}${path}`);
      await page.locator('main h1').first().waitFor();
      await page.waitForLoadState('networkidle', { timeout: 5_000 }).catch(() => {});
      const tree = await page.locator('body').ariaSnapshot();
      const unnamed = tree.split('\n').filter((l) => /^\s*- (textbox|combobox|searchbox|button|checkbox|switch|radio|slider|spinbutton|link)(\s*\[[^\]]*\])?:?\s*$/.test(l));
      assert.deepEqual(unnamed, [], `controls without a name on ${path}`);
    }
    // Keyboard: Tab from the top reaches the main menu's links in order, Enter follows one.
    await page.goto(`${network.url}/store`);
    await page.locator('main h1').waitFor();
    await page.locator('body').focus();
    const reached: string[] = [];
    for (let i = 0; i < 12 && !reached.includes('我的作业'); i++) {
      await page.keyboard.press('Tab');
      reached.push(await page.evaluate<string>("document.activeElement?.textContent?.trim() ?? ''"));
    }
    assert.ok(reached.includes('我的作业'), `Tab reaches the jobs link: ${reached.join(' | ')}`);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/jobs$/);
    // A phone: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/store', '/jobs', '/network', `/jobs/${jobId}`]) {
      await page.goto(`${network.url}${path}`);
      await page.locator('main h1').first().waitFor();
      const width = await page.evaluate<number>('document.documentElement.scrollWidth');
      assert.ok(width <= 390, `${path} is ${width} px wide at a 390 px screen`);
      if (path === '/store') await shot('store-phone');
      if (path.startsWith('/jobs/')) await shot('job-phone');
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    noConsoleErrors();
  });
});
