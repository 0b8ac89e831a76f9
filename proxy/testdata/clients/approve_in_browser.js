// An approver signs in to the approvals page in headless Chromium, finds the
// pending statement, checks who asked and why it was held, and approves it.
// Run by proxy/approval_test.go with SNOWGATE_ADMIN_URL and SNOWGATE_CHROMIUM.
'use strict';
const { chromium } = require('playwright-core');

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.SNOWGATE_CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(process.env.SNOWGATE_ADMIN_URL);
    await page.selectOption('#dev-user', 'approver');
    await page.click('#dev-signin');
    await page.waitForSelector('#who:has-text("sam.approver@example.com")');
    const card = page.locator('article.approval[data-state="pending"]').first();
    await card.waitFor({ timeout: 20000 });
    const seen = {
      id: await card.getAttribute('id'),
      requester: await card.locator('.requester').innerText(),
      why: await card.locator('.why').innerText(),
      sql: await card.locator('.sql').innerText(),
    };
    console.log('SEEN ' + JSON.stringify(seen));
    await card.locator('.reason').fill('approved in the browser');
    await card.locator('button.approve').click();
    await page.waitForSelector(`article.approval[id="${seen.id}"]:not([data-state="pending"])`, { timeout: 20000 });
    const state = await page.locator(`article.approval[id="${seen.id}"]`).getAttribute('data-state');
    console.log('STATE ' + state);
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error('FAIL', e && (e.stack || e));
  process.exit(1);
});
