// Attachments in a real browser: a customer attaches a screenshot to a new ticket and sees its
// thumbnail; staff add an internal note with a log the customer never sees. SQLite only, like
// browser.test.ts: the API suites cover both databases.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeInBrowser, startDashboard, type Dashboard } from './harness.js';

// A 1x1 PNG.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
const TITLE = 'The chart is blank on Safari';
const NOTE = 'Server log attached; the renderer crashed.';

describeInBrowser('attachments in the dashboard', () => {
  let d: Dashboard;
  let ticketPath = '';

  beforeAll(async () => {
    d = await startDashboard();
  });
  afterAll(async () => {
    await d?.close();
  });

  it('attaches a screenshot to a new ticket and shows its thumbnail', async () => {
    const page = await d.signIn(/Alice/);
    await page.getByRole('link', { name: 'New ticket' }).first().click();
    await page.getByLabel('Title').fill(TITLE);
    await page.getByLabel('Description').fill('Nothing is drawn where the chart should be.');
    await page.locator('input[type=file]').setInputFiles({ name: 'chart.png', mimeType: 'image/png', buffer: PNG });
    await page.getByRole('listitem').filter({ hasText: 'chart.png' }).getByText('70 B').waitFor();
    // A refused type says why, and is not sent.
    await page.locator('input[type=file]').setInputFiles({ name: 'page.png', mimeType: 'image/png', buffer: Buffer.from('<html><script>alert(1)</script></html>') });
    await page.getByText(/file type not allowed/).waitFor();
    await page.getByRole('button', { name: 'Remove page.png' }).click();
    await page.getByRole('button', { name: 'Create ticket' }).click();
    await page.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    ticketPath = new URL(page.url()).pathname;

    const thumbnail = page.getByRole('img', { name: 'chart.png' });
    await thumbnail.waitFor();
    const loaded = () =>
      thumbnail.evaluate((element) => {
        const img = element as unknown as { complete: boolean; naturalWidth: number };
        return img.complete ? img.naturalWidth : 0;
      });
    await expect.poll(loaded).toBe(1);
    await d.checkPage(page, 'portal-ticket-attachment');
  });

  it('lets staff add a note with a log file that the customer never sees', async () => {
    const staff = await d.signIn(/Sam/);
    await staff.goto(d.url + ticketPath.replace('/tickets/', '/staff/tickets/'));
    await staff.getByRole('heading', { name: TITLE, level: 1 }).waitFor();
    await staff.getByRole('img', { name: 'chart.png' }).waitFor();
    await staff.getByRole('radio', { name: 'Internal note' }).check();
    await staff.getByLabel(/Internal note \(only the support team/).fill(NOTE);
    await staff.locator('form.composer input[type=file]').setInputFiles({ name: 'renderer.log', mimeType: 'text/plain', buffer: Buffer.from('ERROR renderer crashed\n') });
    await staff.getByRole('button', { name: 'Remove renderer.log' }).waitFor();
    await staff.locator('form.composer').getByText('23 B').waitFor();
    await staff.getByRole('button', { name: 'Add internal note' }).click();
    const note = staff.getByRole('listitem').filter({ hasText: NOTE });
    await note.waitFor();
    await note.getByRole('button', { name: /renderer\.log/ }).waitFor();

    const customer = await d.signIn(/Alice/);
    await customer.goto(d.url + ticketPath);
    await customer.getByRole('img', { name: 'chart.png' }).waitFor();
    expect(await customer.getByText('renderer.log').count()).toBe(0);
    expect(await customer.getByText(NOTE).count()).toBe(0);
  });
});
